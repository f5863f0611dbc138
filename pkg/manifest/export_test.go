package manifest

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// Files exported by the original mcpctl, flat and grouped, YAML and JSON,
// load into the same resources: its server-side fields are dropped with one
// warning per field name, its other resources are skipped with a warning.
func TestLoadOriginalExports(t *testing.T) {
	t.Parallel()
	wantBackends := []Backend{{
		Name: "bao", Type: "openbao", Default: true, Description: "cluster OpenBao",
		Config: json.RawMessage(`{"auth":{"method":"token","tokenSecretRef":{"key":"token","name":"bao-token"}},"mount":"secret","pathPrefix":"mcpctl","url":"https://bao.internal:8200"}`),
		Deps:   []drivers.SecretRef{{Name: "bao-token", Key: "token"}},
	}}
	wantSecrets := []Secret{
		{Name: "bao-token", Backend: "default", Data: DataOf(map[string]ValueSource{"token": {FromEnv: "BAO_TOKEN"}})},
		{Name: "openai", Backend: "bao", Data: DataOf(map[string]ValueSource{"API_KEY": {FromEnv: "OPENAI_API_KEY"}})},
	}
	cases := []struct {
		file string
		// skipped is the text of the warnings about the original's other
		// resources.
		skipped []string
	}{
		{"export-flat.yaml", []string{`kind: "server" is a resource of the original mcpctl that this mcpctl does not manage (it manages secret backends and secrets only): "github-mcp" skipped`}},
		{"export-array.json", []string{`kind: "server" is a resource of the original mcpctl that this mcpctl does not manage (it manages secret backends and secrets only): "github-mcp" skipped`}},
		{"export-grouped.yaml", []string{
			`servers: not a resource of this mcpctl (it manages secret backends and secrets only): 1 item(s) skipped`,
			`projects: not a resource of this mcpctl (it manages secret backends and secrets only): 1 item(s) skipped`,
		}},
		{"export-grouped.json", []string{
			`servers: not a resource of this mcpctl (it manages secret backends and secrets only): 1 item(s) skipped`,
			`projects: not a resource of this mcpctl (it manages secret backends and secrets only): 0 item(s) skipped`,
		}},
	}
	var digest string
	for _, tc := range cases {
		file := "testdata/valid/" + tc.file
		set, err := load(t, []string{file}, LoadOptions{})
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if diff := cmp.Diff(wantBackends, set.Backends, ignoreBackendSource); diff != "" {
			t.Errorf("%s: backends (-want +got):\n%s", file, diff)
		}
		if diff := cmp.Diff(wantSecrets, set.Secrets, ignoreSource); diff != "" {
			t.Errorf("%s: secrets (-want +got):\n%s", file, diff)
		}
		if digest == "" {
			digest = set.Digest
		} else if set.Digest != digest {
			t.Errorf("%s: digest %s differs from the first export's %s", file, set.Digest, digest)
		}
		// One warning per server-side field name, each naming where it was
		// first seen and how many more resources carry it.
		perField := map[string]int{}
		var others []string
		for _, w := range set.Warnings {
			if !strings.HasPrefix(w, file+":") {
				t.Errorf("%s: warning without its file: %s", file, w)
			}
			matched := false
			for _, f := range serverFields {
				if strings.Contains(w, ": "+f+": field kept by the original mcpctl's server, not part of the desired state: ignored") {
					perField[f]++
					matched = true
				}
			}
			if !matched {
				others = append(others, w)
			}
		}
		for _, f := range serverFields {
			if perField[f] != 1 {
				t.Errorf("%s: %d warnings for %s, want 1:\n%s", file, perField[f], f, strings.Join(set.Warnings, "\n"))
			}
		}
		if len(others) != len(tc.skipped) {
			t.Errorf("%s: other warnings %q, want %q", file, others, tc.skipped)
			continue
		}
		for i, w := range tc.skipped {
			if !strings.HasSuffix(others[i], w) {
				t.Errorf("%s: warning %q, want it to end with %q", file, others[i], w)
			}
		}
	}
}

func TestLoadOriginalExportWarningText(t *testing.T) {
	t.Parallel()
	set, err := load(t, []string{"testdata/valid/export-flat.yaml"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`testdata/valid/export-flat.yaml:5 (document 1): backend "bao": id: field kept by the original mcpctl's server, not part of the desired state: ignored here and in 2 more resource(s)`,
		`testdata/valid/export-flat.yaml:15 (document 1): backend "bao": createdAt: field kept by the original mcpctl's server, not part of the desired state: ignored here and in 2 more resource(s)`,
		`testdata/valid/export-flat.yaml:16 (document 1): backend "bao": updatedAt: field kept by the original mcpctl's server, not part of the desired state: ignored here and in 2 more resource(s)`,
		`testdata/valid/export-flat.yaml:17 (document 1): backend "bao": version: field kept by the original mcpctl's server, not part of the desired state: ignored here and in 2 more resource(s)`,
		`testdata/valid/export-flat.yaml:23 (document 2): secret "bao-token": backendId: field kept by the original mcpctl's server, not part of the desired state: ignored (a secret is placed by backend, a name; without one it goes to the default backend) here and in 1 more resource(s)`,
		`testdata/valid/export-flat.yaml:41 (document 4): kind: "server" is a resource of the original mcpctl that this mcpctl does not manage (it manages secret backends and secrets only): "github-mcp" skipped`,
	}
	if diff := cmp.Diff(want, set.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// What stays an error in an export: an unknown kind (a typo must not be
// dropped silently), a server-side field name misspelt, a group that is
// not a list, an element of a top-level list that is not a document.
func TestLoadOriginalExportErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"kind: secert\nname: x\n", `-:1 (document 1): kind: unknown kind "secert"`},
		{"kind: secret\nname: x\ncreatedat: 2025\n", `-:3 (document 1): secret "x": createdat: unknown field (known: kind, name, backend, data)`},
		{"secrets: []\nservers: {a: b}\n", `-:2 (document 1): servers: unknown field: expected secretbackends: and secrets: lists (lists of the original mcpctl's other resources are skipped), got a mapping`},
		{`[{"kind": "secret", "name": "x"}, "oops"]`, `-:1 (document 1): [1]: must be a mapping (a manifest document), got a string`},
	}
	for _, tc := range cases {
		_, err := load(t, []string{"-"}, LoadOptions{Stdin: strings.NewReader(tc.in)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.in, err, tc.want)
		}
	}
}
