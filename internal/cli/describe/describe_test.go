package describe

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestDescribeFlags(t *testing.T) {
	f, _, _, _ := cmdutil.TestFactory(t)
	var got *SecretOptions
	cmd := NewCmdSecret(f, func(o *SecretOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"openai", "--show-values"})
	cmd.SetOut(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Name != "openai" || !got.ShowValues {
		t.Errorf("%+v", got)
	}

	for _, args := range [][]string{{}, {"a", "b"}} {
		cmd := NewCmdBackend(f, func(*BackendOptions) error { t.Error("ran"); return nil })
		cmd.SetArgs(args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestMaskedConfigHidesCredentialsNotReferences(t *testing.T) {
	raw := json.RawMessage(`{"url":"https://bao:8200","token":"canary-1","auth":{"method":"approle","roleId":"r",
		"secretId":"canary-2","tokenSecretRef":{"name":"bao-token","key":"token"}},
		"tls":{"caCertFile":"/ca.pem","clientKey":"canary-3","insecureSkipVerify":true},"password":"canary-4"}`)
	got, err := maskedConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "canary") {
		t.Errorf("credential shown:\n%s", got)
	}
	for _, want := range []string{"url: https://bao:8200", "name: bao-token", "key: token", "caCertFile: /ca.pem",
		"insecureSkipVerify: true", "token: (sensitive)", "secretId: (sensitive)"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if empty, _ := maskedConfig(json.RawMessage(`{}`)); empty != "" {
		t.Errorf("empty config rendered as %q", empty)
	}
}
