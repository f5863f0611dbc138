package docgen

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestReferenceUpToDate fails when docs/cli differs from what the command
// tree generates: a command, flag or help text changed without `make docs`.
func TestReferenceUpToDate(t *testing.T) {
	committed := filepath.Join("..", "..", "..", Dir)
	fresh := t.TempDir()
	if err := Generate(fresh); err != nil {
		t.Fatal(err)
	}
	want := readDir(t, fresh)
	got := readDir(t, committed)
	var stale []string
	for name, body := range want {
		if got[name] != body {
			stale = append(stale, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			stale = append(stale, name+" (no such command any more)")
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Fatalf("docs/cli is out of date: run `make docs` and commit the result; differing files: %v", stale)
	}
}

// TestGenerateIsDeterministic: two runs write the same bytes (no dates,
// no map order), and a second run removes files of vanished commands.
func TestGenerateIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mcpctl_gone.md"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	first := readDir(t, dir)
	if _, ok := first["mcpctl_gone.md"]; ok {
		t.Error("a stale command's file survived regeneration")
	}
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	second := readDir(t, dir)
	if len(first) != len(second) {
		t.Fatalf("%d files, then %d", len(first), len(second))
	}
	for name, body := range first {
		if second[name] != body {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "mcpctl*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range matches {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = string(b)
	}
	return out
}
