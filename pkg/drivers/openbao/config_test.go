package openbao

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

func TestParseConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig(json.RawMessage(`{"url":"https://bao.internal:8200/"}`))
	if err != nil {
		t.Fatal(err)
	}
	four := 4
	want := Config{URL: "https://bao.internal:8200", Mount: "secret", PathPrefix: "mcpctl",
		Timeout: Duration(10 * time.Second), MaxRetries: &four, Auth: AuthConfig{Method: "token"}}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("defaults (-want +got):\n%s", diff)
	}
	if len(c.Deps()) != 0 {
		t.Fatalf("deps = %v, want none", c.Deps())
	}
}

func TestParseConfigFull(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig(json.RawMessage(`{
		"url": "https://bao:8200", "mount": "/kv/", "pathPrefix": "teams/a/", "namespace": "team-a",
		"tls": {"caCertFile": "/ca.pem", "serverName": "bao", "insecureSkipVerify": false},
		"timeout": "1m30s", "maxRetries": 0,
		"auth": {"method": "approle", "roleId": "r-1", "secretIdSecretRef": {"name": "bao-approle", "key": "secret_id"}}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mount != "kv" || c.PathPrefix != "teams/a" || time.Duration(c.Timeout) != 90*time.Second ||
		*c.MaxRetries != 0 || c.Auth.MountPath != "approle" || c.Namespace != "team-a" {
		t.Fatalf("parsed %+v", c)
	}
	if diff := cmp.Diff([]drivers.SecretRef{{Name: "bao-approle", Key: "secret_id"}}, c.Deps()); diff != "" {
		t.Fatal(diff)
	}
}

func TestParseConfigLegacyTokenSecretRef(t *testing.T) {
	t.Parallel()
	// The original mcpctl's flat config: {url, tokenSecretRef, namespace, mount, pathPrefix}.
	deps, err := validate(json.RawMessage(`{"url":"http://bao:8200","tokenSecretRef":{"name":"bao-token","key":"token"},"namespace":"n","mount":"secret","pathPrefix":"mcpctl"}`))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]drivers.SecretRef{{Name: "bao-token", Key: "token"}}, deps); diff != "" {
		t.Fatal(diff)
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ raw, want string }{
		{``, "url is required"},
		{`{}`, "url is required"},
		{`{"url":"bao:8200"}`, "want http(s)://host[:port]"},
		{`{"url":"http://bao:8200/v1"}`, "must not have a path"},
		{`{"url":"http://b","address":"x"}`, `unknown field "address"`},
		{`{"url":"http://b","tls":{"caFile":"x"}}`, `unknown field "caFile"`},
		{`{"url":"http://b","auth":{"method":"token","tokenSecretRef":{"name":"t","key":"k","extra":1}}}`, `unknown field "extra"`},
		{`{"url":"http://b"} {"url":"http://c"}`, "trailing data"},
		{`{"url":42}`, "url: want string, got number"},
		{`{"url":"http://b","timeout":10}`, `want a duration string such as "10s"`},
		{`{"url":"http://b","timeout":"10 parsecs"}`, "unknown unit"},
		{`{"url":"http://b","timeout":"-1s"}`, "timeout must be positive"},
		{`{"url":"http://b","maxRetries":-1}`, "maxRetries -1: want 0..20"},
		{`{"url":"http://b","mount":"a/../b"}`, `mount "a/../b"`},
		{`{"url":"http://b","pathPrefix":"a b"}`, `pathPrefix "a b"`},
		{`{"url":"http://b","namespace":"a\nb"}`, "namespace must be one line"},
		{`{"url":"http://b","tls":{"clientCertFile":"c.pem"}}`, "clientCertFile and tls.clientKeyFile go together"},
		{`{"url":"http://b","auth":{"method":"kubernetes"}}`, `auth.method "kubernetes": want token or approle`},
		{`{"url":"http://b","auth":{"method":"approle","secretIdSecretRef":{"name":"s","key":"k"}}}`, "auth.roleId is required"},
		{`{"url":"http://b","auth":{"method":"approle","roleId":"r"}}`, "auth.secretIdSecretRef is required"},
		{`{"url":"http://b","auth":{"method":"approle","roleId":"r","secretIdSecretRef":{"name":"s"}}}`, "needs both name and key"},
		{`{"url":"http://b","auth":{"method":"token","roleId":"r"}}`, "are for method approle"},
		{`{"url":"http://b","auth":{"method":"approle","roleId":"r","secretIdSecretRef":{"name":"s","key":"k"},"tokenSecretRef":{"name":"t","key":"k"}}}`, "auth.tokenSecretRef is for method token"},
		{`{"url":"http://b","tokenSecretRef":{"name":"t","key":"k"},"auth":{"tokenSecretRef":{"name":"t","key":"k"}}}`, "both set"},
	} {
		_, err := validate(json.RawMessage(c.raw))
		if !errors.Is(err, drivers.ErrInvalidConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %s: error %v, want %q", c.raw, err, c.want)
		}
	}
}

func TestNewReportsConfigErrors(t *testing.T) {
	t.Parallel()
	_, err := New(t.Context(), drivers.Config{Name: "bao", Raw: json.RawMessage(`{"url":"http://b","tls":{"caCertFile":"/nonexistent/ca.pem"}}`)})
	var de *drivers.Error
	if !errors.As(err, &de) || de.Backend != "bao" || !errors.Is(err, drivers.ErrInvalidConfig) || !strings.Contains(err.Error(), "tls.caCertFile") {
		t.Fatalf("New with a missing CA file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(map[string]any{"url": "http://b", "tls": map[string]any{"caCertFile": bad}})
	if _, err := New(t.Context(), drivers.Config{Name: "bao", Raw: raw}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("New with a bad CA file: %v", err)
	}
}

func TestInsecureSkipVerifyWarns(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	_, err := New(t.Context(), drivers.Config{Name: "bao", Deps: slogTo(logs),
		Raw: json.RawMessage(`{"url":"https://b","tls":{"insecureSkipVerify":true}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "insecureSkipVerify") {
		t.Fatalf("no warning logged: %q", logs.String())
	}
}
