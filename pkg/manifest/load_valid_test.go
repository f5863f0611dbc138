package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/mcpctl/mcpctl/pkg/drivers"
)

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ptr(s string) *string { return &s }

// ignoreSource compares resources without where they came from, for tests
// where the same resources arrive through different files.
var ignoreSource = cmpopts.IgnoreFields(Secret{}, "Source", "BackendAt", "BaseDir", "Root", "FilesRoot")
var ignoreBackendSource = cmpopts.IgnoreFields(Backend{}, "Source")

// baoConfig is the canonical (compact, sorted) JSON of the legacy flat
// config in testdata/valid/legacy-flat.yaml.
const baoConfig = `{"auth":{"method":"token","tokenSecretRef":{"key":"token","name":"bao-token"}},"mount":"secret","namespace":"team-a","pathPrefix":"mcpctl","url":"https://bao.internal:8200"}`

func TestLoadCanonical(t *testing.T) {
	t.Parallel()
	const file = "testdata/valid/canonical.yaml"
	set, err := load(t, []string{file}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := abs(t, "testdata/valid")
	src := func(doc, line int) Source { return Source{File: file, Document: doc, Line: line} }
	wantBackends := []Backend{
		{
			Name: "bao", Labels: map[string]string{"team": "infra"},
			Annotations: map[string]string{AnnotationPreventDestroy: "true"},
			Type:        "openbao", Description: "cluster OpenBao",
			Config: json.RawMessage(`{"auth":{"method":"token","tokenSecretRef":{"key":"token","name":"bao-token"}},"mount":"secret","namespace":"team-a","pathPrefix":"mcpctl","tls":{"caCertFile":"/etc/ssl/bao-ca.pem"},"url":"https://bao.internal:8200"}`),
			Deps:   []drivers.SecretRef{{Name: "bao-token", Key: "token"}},
			Source: src(0, 2),
		},
		{Name: "local", Type: "plaintext", Default: true, Config: json.RawMessage(`{}`), Source: src(1, 21)},
	}
	wantSecrets := []Secret{
		{
			Name: "bao-token", Backend: "local",
			Data:    DataOf(map[string]ValueSource{"token": {FromEnv: "BAO_TOKEN"}}),
			BaseDir: dir, Root: dir, Source: src(2, 29), BackendAt: src(2, 34),
		},
		{
			Name: "openai", Labels: map[string]string{"app": "chat"}, Backend: "bao",
			Data: DataOf(map[string]ValueSource{
				"API_KEY": {FromEnv: "OPENAI_API_KEY"},
				"CA":      {FromFile: "files/ca.pem"},
			}),
			BaseDir: dir, Root: dir, Source: src(3, 38), BackendAt: src(3, 44),
		},
		{Name: "placed-only", BaseDir: dir, Root: dir, Source: src(4, 49)},
	}
	if diff := cmp.Diff(wantBackends, set.Backends, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("backends (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantSecrets, set.Secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	if len(set.Warnings) != 0 {
		t.Errorf("warnings = %q, want none", set.Warnings)
	}
	if !strings.HasPrefix(set.Digest, "sha256:") || len(set.Digest) != len("sha256:")+64 {
		t.Errorf("digest = %q", set.Digest)
	}
	if set.Secrets[2].Managed() || !set.Secrets[0].Managed() {
		t.Errorf("Managed: placed-only must be unmanaged, bao-token managed")
	}
}

// A List in YAML and the same List in JSON load the same resources.
func TestLoadListYAMLAndJSON(t *testing.T) {
	t.Parallel()
	wantBackends := []Backend{{Name: "kv", Type: "testkv", Config: json.RawMessage(`{"anything":[1,2.5,true,null]}`)}}
	wantSecrets := []Secret{{Name: "one", Backend: "kv", Data: DataOf(map[string]ValueSource{})}}
	for _, file := range []string{"testdata/valid/list.yaml", "testdata/valid/list.json"} {
		set, err := load(t, []string{file}, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if diff := cmp.Diff(wantBackends, set.Backends, ignoreBackendSource); diff != "" {
			t.Errorf("%s backends (-want +got):\n%s", file, diff)
		}
		if diff := cmp.Diff(wantSecrets, set.Secrets, ignoreSource); diff != "" {
			t.Errorf("%s secrets (-want +got):\n%s", file, diff)
		}
		if set.Secrets[0].Data == nil {
			t.Errorf("%s: data: {} must stay managed (non-nil)", file)
		}
	}
	// Items carry their own line.
	set, _ := load(t, []string{"testdata/valid/list.json"}, LoadOptions{})
	if got := set.Secrets[0].Source; got != (Source{File: "testdata/valid/list.json", Document: 0, Line: 11}) {
		t.Errorf("item source = %+v", got)
	}
}

func TestLoadLegacyFlat(t *testing.T) {
	t.Parallel()
	const file = "testdata/valid/legacy-flat.yaml"
	set, err := load(t, []string{file}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantBackends := []Backend{{
		Name: "bao", Type: "openbao", Description: "cluster OpenBao",
		Config: json.RawMessage(baoConfig),
		Deps:   []drivers.SecretRef{{Name: "bao-token", Key: "token"}},
		Source: Source{File: file, Document: 0, Line: 1},
	}}
	wantSecrets := []Secret{
		{Name: "bao-token", Data: DataOf(map[string]ValueSource{"token": {FromEnv: "BAO_TOKEN"}})},
		{Name: "openai", Backend: "bao", Data: DataOf(map[string]ValueSource{
			"API_KEY": {FromEnv: "OPENAI_API_KEY"},
			"ORG":     {Value: ptr("acme")},
		})},
	}
	if diff := cmp.Diff(wantBackends, set.Backends); diff != "" {
		t.Errorf("backends (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantSecrets, set.Secrets, ignoreSource); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		`testdata/valid/legacy-flat.yaml:23 (document 3): secret "openai": data.ORG: plain string is a literal secret value in the manifest, readable by anyone with access to the repository; use {fromEnv: VAR} or {fromFile: path}`,
	}
	if diff := cmp.Diff(wantWarnings, set.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// The legacy flat form, the legacy grouped form and the canonical form of
// the same declarations are the same resources with the same digest.
func TestLoadLegacyGroupedEqualsCanonical(t *testing.T) {
	t.Parallel()
	legacy, err := load(t, []string{"testdata/valid/legacy-grouped.yaml"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	canonical := `
apiVersion: mcpctl/v1
kind: SecretBackend
metadata: {name: bao}
spec:
  type: openbao
  config:
    url: https://bao.internal:8200
    auth: {method: token, tokenSecretRef: {name: bao-token, key: token}}
---
apiVersion: mcpctl/v1
kind: SecretBackend
metadata: {name: local}
spec: {type: plaintext, default: true}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: bao-token}
spec: {backend: local, data: {token: {fromEnv: BAO_TOKEN}}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: openai}
spec: {backend: bao}
`
	want, err := load(t, []string{"-"}, LoadOptions{Stdin: strings.NewReader(canonical)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Backends, legacy.Backends, ignoreBackendSource); diff != "" {
		t.Errorf("backends (-canonical +legacy):\n%s", diff)
	}
	if diff := cmp.Diff(want.Secrets, legacy.Secrets, ignoreSource); diff != "" {
		t.Errorf("secrets (-canonical +legacy):\n%s", diff)
	}
	if want.Digest != legacy.Digest {
		t.Errorf("digest differs: canonical %s, legacy %s", want.Digest, legacy.Digest)
	}
	// Grouped items keep their own lines, in the one document.
	if got := legacy.Backends[1].Source; got != (Source{File: "testdata/valid/legacy-grouped.yaml", Document: 0, Line: 7}) {
		t.Errorf("grouped item source = %+v", got)
	}
}

func TestLoadDirectoryRecursion(t *testing.T) {
	t.Parallel()
	set, err := load(t, []string{"testdata/dir"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root := abs(t, "testdata/dir")
	var got []string
	for _, b := range set.Backends {
		got = append(got, "backend "+b.Name+" "+b.Source.File)
	}
	for _, s := range set.Secrets {
		got = append(got, "secret "+s.Name+" "+s.Source.File)
		if s.Root != root {
			t.Errorf("secret %s: Root = %s, want the directory given (%s)", s.Name, s.Root, root)
		}
		if want := abs(t, filepath.Dir(s.Source.File)); s.BaseDir != want {
			t.Errorf("secret %s: BaseDir = %s, want %s", s.Name, s.BaseDir, want)
		}
	}
	// Lexical order; .hidden/ skipped (it holds a broken file); notes.txt
	// skipped; upper-case extension accepted.
	want := []string{
		"backend kv testdata/dir/backends.yaml",
		"secret a testdata/dir/nested/a.json",
		"secret b testdata/dir/nested/b.yml",
		"secret c testdata/dir/nested/deeper/c.YAML",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	// fromFile "../token.txt" from nested/ stays inside the -f directory.
	v, err := set.Secrets[0].Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := v.Get("K"); got != "tok" {
		t.Errorf("resolved K has %d bytes, want the file content", len(got))
	}
}

func TestLoadStdin(t *testing.T) {
	t.Parallel()
	in := "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: from-stdin}\nspec:\n  data: {K: {fromFile: x.txt}}\n"
	set, err := load(t, []string{"-"}, LoadOptions{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	cwd, _ := os.Getwd()
	want := []Secret{{
		Name: "from-stdin", Data: DataOf(map[string]ValueSource{"K": {FromFile: "x.txt"}}),
		BaseDir: cwd, Root: cwd, Source: Source{File: "-", Document: 0, Line: 1},
	}}
	if diff := cmp.Diff(want, set.Secrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
}

func TestLoadInputErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		paths []string
		stdin string
		want  []string
	}{
		{"missing file", []string{"testdata/nope.yaml"}, "", []string{
			"testdata/nope.yaml: cannot read: no such file or directory",
		}},
		{"stdin twice", []string{"-", "-"}, "", []string{
			`-: "-" (standard input) given more than once`,
		}},
		{"errors from several files in argument order", []string{"testdata/invalid/unknown-kind.yaml", "testdata/invalid/bad-apiversion.yaml"}, "", []string{
			`testdata/invalid/unknown-kind.yaml:2 (document 1): kind: unknown kind "ConfigMap" (known: SecretBackend, Secret, List)`,
			`testdata/invalid/bad-apiversion.yaml:1 (document 1): apiVersion: unsupported "v1" (this mcpctl reads mcpctl/v1)`,
		}},
		{"stdin syntax error", []string{"-"}, "apiVersion: mcpctl/v1\nkind: [\n", []string{
			`-:2 (document 1): syntax error: did not find expected node content`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tt.paths, LoadOptions{Stdin: strings.NewReader(tt.stdin)})
			if diff := cmp.Diff(tt.want, errLines(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := load(t, nil, LoadOptions{}); err == nil {
		t.Errorf("Load with no paths succeeded")
	}
	if _, err := load(t, []string{"-"}, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "standard input is not available") {
		t.Errorf("Load(-) without Stdin: %v", err)
	}
}

// The same file named twice, or named and inside a named directory, is
// read once (no duplicate-name error).
func TestLoadDeduplicatesFiles(t *testing.T) {
	t.Parallel()
	set, err := load(t, []string{"testdata/dir/backends.yaml", "testdata/dir", "./testdata/dir/backends.yaml"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Backends) != 1 || len(set.Secrets) != 3 {
		t.Errorf("got %d backends, %d secrets; want 1 and 3", len(set.Backends), len(set.Secrets))
	}
}

func TestLoadEmptyDirectoryWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	set, err := load(t, []string{dir}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + ": no manifest files (*.yaml, *.yml, *.json) found"}
	if diff := cmp.Diff(want, set.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if len(set.Backends)+len(set.Secrets) != 0 {
		t.Errorf("resources from an empty directory")
	}
}

func TestLoadWarnings(t *testing.T) {
	t.Parallel()
	in := `apiVersion: mcpctl/v1
kind: Secret
metadata: {name: lit}
spec:
  data:
    A: {value: do-not-print-me}
    B: {fromEnv: B}
---
kind: secret
name: legacy
data:
  C: do-not-print-me
`
	set, err := load(t, []string{"-"}, LoadOptions{Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`-:6 (document 1): secret "lit": spec.data.A.value: literal secret value in the manifest, readable by anyone with access to the repository; use fromEnv or fromFile`,
		`-:12 (document 2): secret "legacy": data.C: plain string is a literal secret value in the manifest, readable by anyone with access to the repository; use {fromEnv: VAR} or {fromFile: path}`,
	}
	if diff := cmp.Diff(want, set.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	for _, w := range set.Warnings {
		if strings.Contains(w, secretMarker) {
			t.Errorf("warning contains the value: %s", w)
		}
	}
}

// Backends referenced by name: "default" always exists; a token Secret
// declared in another file satisfies the reference.
func TestLoadReferencesAcrossFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), `
apiVersion: mcpctl/v1
kind: SecretBackend
metadata: {name: bao}
spec:
  type: vault
  config: {url: "https://bao:8200", auth: {method: token, tokenSecretRef: {name: tok, key: token}}}
`)
	write(t, filepath.Join(dir, "b.yaml"), `
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: tok}
spec: {backend: default, data: {token: {fromEnv: T}}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: app}
spec: {backend: bao}
`)
	set, err := load(t, []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := set.Backend("bao"); !ok || b.Type != "openbao" || len(b.Deps) != 1 {
		t.Errorf("backend bao = %+v, %v", b, ok)
	}
	if s, ok := set.Secret("tok"); !ok || s.Backend != BootstrapBackend {
		t.Errorf("secret tok = %+v, %v", s, ok)
	}
	if _, ok := set.Secret("nope"); ok {
		t.Errorf("Secret(nope) found")
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Load(ctx, []string{"testdata/valid/canonical.yaml"}, LoadOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v, want context.Canceled", err)
	}
}

// Symlinked files inside a walked directory load when they stay inside it;
// one pointing outside is refused without being read.
func TestLoadDirectorySymlinks(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	write(t, filepath.Join(base, "outside.yaml"), "kind: secret\nname: "+secretMarker+"\n")
	write(t, filepath.Join(base, "m", "real", "a.yaml"), secretDoc("a"))
	if err := os.Symlink(filepath.Join("real", "a.yaml"), filepath.Join(base, "m", "link.yaml")); err != nil {
		t.Fatal(err)
	}
	// Inside: loads (once: the link and its target are different paths but
	// the same declarations, so the duplicate is reported).
	_, err := load(t, []string{filepath.Join(base, "m")}, LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "duplicate name") {
		t.Errorf("symlink inside the directory: %v, want it read (and the duplicate reported)", err)
	}
	if err := os.Symlink(filepath.Join("..", "outside.yaml"), filepath.Join(base, "m", "out.yaml")); err != nil {
		t.Fatal(err)
	}
	_, err = load(t, []string{filepath.Join(base, "m")}, LoadOptions{})
	want := filepath.Join(base, "m", "out.yaml") + ": symlink points outside " + filepath.Join(base, "m") + "; refusing to read it"
	if err == nil || !slices.Contains(errLines(t, err), want) {
		t.Errorf("errors = %v, want %q", err, want)
	}
	if err != nil && strings.Contains(err.Error(), secretMarker) {
		t.Errorf("the outside file was read: %v", err)
	}
}

// Any backend type may be the default: isDefault on an original-format
// openbao document and spec.default on a canonical one both load.
func TestLoadDefaultOpenBao(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file, name string
		deps       []drivers.SecretRef
	}{
		{"testdata/valid/default-openbao.yaml", "bao", []drivers.SecretRef{{Name: "bao-token", Key: "token"}}},
		{"testdata/valid/default-openbao-canonical.yaml", "vault", []drivers.SecretRef{{Name: "vault-token", Key: "token"}}},
	} {
		set, err := load(t, []string{tc.file}, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		b, ok := set.Backend(tc.name)
		if !ok || !b.Default || b.Type != "openbao" {
			t.Errorf("%s: backend %s = %+v, want the openbao default", tc.file, tc.name, b)
		}
		if diff := cmp.Diff(tc.deps, b.Deps); diff != "" {
			t.Errorf("%s: deps (-want +got):\n%s", tc.file, diff)
		}
	}
}

// A backend's token Secret may exist only in state (made with `mcpctl
// create secret`): the loader cannot see state, so it leaves the check to
// plan instead of refusing the file.
func TestLoadTokenSecretNotDeclared(t *testing.T) {
	t.Parallel()
	set, err := load(t, []string{"testdata/valid/default-openbao-canonical.yaml"}, LoadOptions{})
	if err != nil {
		t.Fatalf("a token secret that is not declared must load (plan checks state): %v", err)
	}
	if len(set.Secrets) != 0 || len(set.Warnings) != 0 {
		t.Errorf("secrets %v, warnings %q", set.Secrets, set.Warnings)
	}
}

// A secret may name a backend that exists only in state (made with `mcpctl
// create secretbackend`): the loader leaves that reference to plan.
func TestLoadBackendNotDeclared(t *testing.T) {
	t.Parallel()
	set, err := load(t, []string{"testdata/valid/backend-only-in-state.yaml"}, LoadOptions{})
	if err != nil {
		t.Fatalf("a backend that is not declared must load (plan checks state): %v", err)
	}
	if len(set.Secrets) != 2 || set.Secrets[0].Backend != "bao2" || set.Secrets[1].Backend != "bao2" {
		t.Errorf("secrets %+v", set.Secrets)
	}
}
