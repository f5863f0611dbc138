package manifest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func secretDoc(name string) string {
	return "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: " + name + "}\n"
}

func TestLimits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 3 {
		write(t, filepath.Join(dir, "many", fmt.Sprintf("%d.yaml", i)), secretDoc(fmt.Sprintf("s%d", i)))
	}
	big := filepath.Join(dir, "big.yaml")
	write(t, big, secretDoc("big")+strings.Repeat("# padding\n", 10))
	three := secretDoc("a") + "---\n" + secretDoc("b") + "---\n" + secretDoc("c")
	list := "apiVersion: mcpctl/v1\nkind: List\nitems:\n" +
		"- {apiVersion: mcpctl/v1, kind: Secret, metadata: {name: a}}\n" +
		"- {apiVersion: mcpctl/v1, kind: Secret, metadata: {name: b}}\n" +
		"- {apiVersion: mcpctl/v1, kind: Secret, metadata: {name: c}}\n"
	deep := "apiVersion: mcpctl/v1\nkind: SecretBackend\nmetadata: {name: kv}\nspec:\n  type: testkv\n  config:\n    a:\n      b:\n        c: 1\n"
	bomb := "apiVersion: mcpctl/v1\nkind: SecretBackend\nmetadata: {name: kv}\nspec:\n  type: testkv\n  config:\n" +
		"    a: &a [x, x, x, x]\n    b: [*a, *a, *a, *a]\n"
	tests := []struct {
		name   string
		paths  []string
		stdin  string
		limits Limits
		want   []string
	}{
		{"file size (regular file)", []string{big}, "", Limits{MaxFileSize: 50},
			[]string{big + ": file is 157 bytes, larger than the limit of 50 bytes"}},
		{"file size (stdin)", []string{"-"}, three, Limits{MaxFileSize: 50},
			[]string{"-: file is larger than the limit of 50 bytes"}},
		{"total size", []string{filepath.Join(dir, "many")}, "", Limits{MaxTotalSize: 100},
			[]string{filepath.Join(dir, "many", "1.yaml") + ": manifests total more than the limit of 100 bytes; refusing to read more"}},
		{"files", []string{filepath.Join(dir, "many")}, "", Limits{MaxFiles: 2},
			[]string{filepath.Join(dir, "many", "2.yaml") + ": more than 2 manifest files; refusing to read more"}},
		{"documents", []string{"-"}, three, Limits{MaxDocuments: 2},
			[]string{"-:8 (document 3): more than 2 documents; refusing to read more"}},
		{"resources", []string{"-"}, list, Limits{MaxResources: 2},
			[]string{"-:6 (document 1): more than 2 resources; refusing to read more"}},
		{"depth", []string{"-"}, deep, Limits{MaxDepth: 4},
			[]string{"-:8 (document 1): nested deeper than 4 levels"}},
		{"alias expansion", []string{"-"}, bomb, Limits{MaxAliasNodes: 10},
			[]string{"-:8 (document 1): YAML aliases expand to more than 10 nodes; refusing the document (a YAML bomb?)"}},
		{"self-referencing alias stops at the depth limit", []string{"-"}, "a: &x [*x]\n", Limits{},
			[]string{"-:1 (document 1): nested deeper than 64 levels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tt.paths, LoadOptions{Stdin: strings.NewReader(tt.stdin), Limits: tt.limits})
			if diff := cmp.Diff(tt.want, errLines(t, err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
	// The same inputs pass under the default limits.
	for _, in := range []string{three, list, deep, bomb} {
		if _, err := load(t, []string{"-"}, LoadOptions{Stdin: strings.NewReader(in)}); err != nil {
			t.Errorf("default limits refused a valid input: %v", err)
		}
	}
}

// A hostile input cannot produce an unbounded report.
func TestErrorCountBounded(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("foo: bar\n---\n", 3*maxErrors)
	_, err := load(t, []string{"-"}, LoadOptions{Stdin: strings.NewReader(in)})
	lines := errLines(t, err)
	if len(lines) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d plus a truncation note", len(lines), maxErrors)
	}
	if want := fmt.Sprintf("-: too many errors; only the first %d are shown", maxErrors); lines[maxErrors] != want {
		t.Errorf("last line = %q, want %q", lines[maxErrors], want)
	}
}

func TestDefaultLimits(t *testing.T) {
	t.Parallel()
	if got := (Limits{MaxDepth: 5}).withDefaults(); got.MaxDepth != 5 || got.MaxFileSize != DefaultLimits().MaxFileSize {
		t.Errorf("withDefaults = %+v", got)
	}
}

// The default limits admit the 100,000 secrets make bench plans and applies
// (issue 13), with their backends and credential secrets.
func TestDefaultLimitsAdmit100kSecrets(t *testing.T) {
	l := DefaultLimits()
	if l.MaxResources < 100_100 || l.MaxDocuments < 100_100 {
		t.Fatalf("default limits %d resources, %d documents: a 100,000-secret installation with its backends does not load", l.MaxResources, l.MaxDocuments)
	}
}
