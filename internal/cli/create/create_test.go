package create

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestCreateSecretFlags(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "app.env")
	if err := os.WriteFile(envFile, []byte("# app\nA=1\nexport B='two words'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		stdin   string
		backend string
		values  map[string]string
		err     string
	}{
		{name: "literals", args: []string{"app", "--from-literal", "A=1", "--from-literal", "B=x=y"},
			values: map[string]string{"A": "1", "B": "x=y"}},
		{name: "empty value", args: []string{"app", "--from-literal", "A="}, values: map[string]string{"A": ""}},
		{name: "backend", args: []string{"app", "--backend", "bao", "--from-literal", "A=1"}, backend: "bao",
			values: map[string]string{"A": "1"}},
		{name: "env file", args: []string{"app", "--from-env-file", envFile}, values: map[string]string{"A": "1", "B": "two words"}},
		{name: "env stdin", args: []string{"app", "--from-env-file", "-"}, stdin: "K=v\n", values: map[string]string{"K": "v"}},
		{name: "no values", args: []string{"app"}, err: "give the values with --from-literal KEY=VALUE or --from-env-file FILE"},
		{name: "both sources", args: []string{"app", "--from-literal", "A=1", "--from-env-file", envFile},
			err: "--from-literal and --from-env-file cannot be combined"},
		{name: "no key", args: []string{"app", "--from-literal", "canary-value"},
			err: "--from-literal: expected KEY=VALUE (argument 1 has no key)"},
		{name: "duplicate key", args: []string{"app", "--from-literal", "A=1", "--from-literal", "A=2"},
			err: `--from-literal: key "A" given twice`},
		{name: "bad key", args: []string{"app", "--from-literal", "a b=1"}, err: `invalid key name "a b"`},
		{name: "bad name", args: []string{"App", "--from-literal", "A=1"}, err: `invalid secret name "App"`},
		{name: "no name", args: []string{"--from-literal", "A=1"}, err: "name the secret: mcpctl create secret NAME --from-literal KEY=VALUE"},
		{name: "missing file", args: []string{"app", "--from-env-file", filepath.Join(dir, "nope.env")}, err: "--from-env-file: open "},
		{name: "empty file", args: []string{"app", "--from-env-file", "-"}, stdin: "# nothing\n", err: "--from-env-file <stdin>: no KEY=VALUE lines"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, in, _, _ := cmdutil.TestFactory(t)
			in.WriteString(tc.stdin)
			got, err := cmdutil.FlagCheck(t, f, NewCmdSecret, tc.err, tc.args...)
			if tc.err != "" {
				if strings.Contains(err.Error(), "canary") {
					t.Errorf("error leaks a value: %v", err)
				}
				return
			}
			if got.Name != "app" || got.Backend != tc.backend {
				t.Errorf("name %q backend %q", got.Name, got.Backend)
			}
			if diff := cmp.Diff(tc.values, got.Values); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateBackendFlags(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "bao.yaml")
	if err := os.WriteFile(cfgFile, []byte("url: https://bao:8200\ntls:\n  caCertFile: /ca.pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		config string // JSON built from the flags
		err    string
	}{
		{name: "openbao flags", args: []string{"bao", "--type", "openbao", "--url", "https://bao:8200", "--token-secret", "bao-token/token",
			"--namespace", "team-a", "--mount", "kv", "--path-prefix", "apps", "--description", "cluster"},
			config: `{"auth":{"method":"token","tokenSecretRef":{"key":"token","name":"bao-token"}},"mount":"kv","namespace":"team-a","pathPrefix":"apps","url":"https://bao:8200"}`},
		{name: "plaintext default", args: []string{"local", "--type", "plaintext", "--default"}, config: `{}`},
		{name: "config file", args: []string{"bao", "--type", "vault", "--config-file", cfgFile},
			config: `{"tls":{"caCertFile":"/ca.pem"},"url":"https://bao:8200"}`},
		{name: "no type", args: []string{"bao"}, err: "--type is required"},
		{name: "file and flags", args: []string{"bao", "--type", "openbao", "--config-file", cfgFile, "--url", "x"},
			err: "--config-file and --url cannot be combined: put url in the file"},
		{name: "bad token ref", args: []string{"bao", "--type", "openbao", "--token-secret", "bao-token"},
			err: `invalid --token-secret "bao-token": use SECRET/KEY`},
		{name: "openbao default", args: []string{"bao", "--type", "openbao", "--default"}, config: `{}`},
		{name: "bad name", args: []string{"Bao", "--type", "openbao"}, err: `invalid secretbackend name "Bao"`},
		{name: "two names", args: []string{"a", "b", "--type", "openbao"}, err: `unexpected argument "b"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			got, _ := cmdutil.FlagCheck(t, f, NewCmdBackend, tc.err, tc.args...)
			if tc.err != "" {
				return
			}
			raw, err := got.config()
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			_ = json.Unmarshal(raw, &a)
			_ = json.Unmarshal([]byte(tc.config), &b)
			if diff := cmp.Diff(b, a); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}
