package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// confinementTree builds:
//
//	base/manifests/app.yaml        (written per test)
//	base/manifests/secret.txt      "in-root"
//	base/manifests/sub/            (nested manifests)
//	base/manifests/link.txt     -> ../outside.txt
//	base/manifests/adir/           (a directory)
//	base/manifests/big.txt         MaxValueFileSize+1 bytes
//	base/shared/x.txt              "shared"
//	base/outside.txt               "do-not-print-me"
func confinementTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	write(t, filepath.Join(base, "manifests", "secret.txt"), "in-root")
	write(t, filepath.Join(base, "shared", "x.txt"), "shared")
	write(t, filepath.Join(base, "outside.txt"), secretMarker)
	write(t, filepath.Join(base, "manifests", "big.txt"), strings.Repeat("x", MaxValueFileSize+1))
	if err := os.Mkdir(filepath.Join(base, "manifests", "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "outside.txt"), filepath.Join(base, "manifests", "link.txt")); err != nil {
		t.Fatal(err)
	}
	return base
}

func secretWithFile(p string) string {
	return "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: s}\nspec:\n  data:\n    K: {fromFile: " + p + "}\n"
}

func TestFromFileConfinement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		manifest   string // relative to base
		fromFile   string
		arg        string // -f argument relative to base
		filesRoot  string // relative to base, or ""
		loadErr    string // substring of the load error, or ""
		want       string // resolved value, when load succeeds and resolveErr is ""
		resolveErr string
	}{
		{name: "relative inside", manifest: "manifests/app.yaml", fromFile: "secret.txt", arg: "manifests/app.yaml", want: "in-root"},
		{name: "dot-dot inside directory root", manifest: "manifests/sub/app.yaml", fromFile: "../secret.txt", arg: "manifests", want: "in-root"},
		{name: "dot-dot escaping file root", manifest: "manifests/sub/app.yaml", fromFile: "../secret.txt", arg: "manifests/sub/app.yaml",
			loadErr: `spec.data.K.fromFile: path "../secret.txt" escapes`},
		{name: "escape to sibling", manifest: "manifests/app.yaml", fromFile: "../shared/x.txt", arg: "manifests",
			loadErr: `spec.data.K.fromFile: path "../shared/x.txt" escapes`},
		{name: "files-root widens", manifest: "manifests/app.yaml", fromFile: "../shared/x.txt", arg: "manifests", filesRoot: ".", want: "shared"},
		{name: "files-root does not narrow", manifest: "manifests/app.yaml", fromFile: "secret.txt", arg: "manifests", filesRoot: "shared", want: "in-root"},
		{name: "absolute refused", manifest: "manifests/app.yaml", fromFile: "ABS/shared/x.txt", arg: "manifests",
			loadErr: `is not allowed: fromFile paths are relative to the manifest's directory`},
		{name: "absolute inside files-root", manifest: "manifests/app.yaml", fromFile: "ABS/shared/x.txt", arg: "manifests", filesRoot: "shared", want: "shared"},
		{name: "absolute outside files-root", manifest: "manifests/app.yaml", fromFile: "ABS/outside.txt", arg: "manifests", filesRoot: "shared",
			loadErr: `is not allowed`},
		{name: "symlink escaping the root", manifest: "manifests/app.yaml", fromFile: "link.txt", arg: "manifests",
			resolveErr: `fromFile "link.txt": path escapes from parent`},
		{name: "directory", manifest: "manifests/app.yaml", fromFile: "adir", arg: "manifests", resolveErr: `fromFile "adir": not a regular file`},
		{name: "missing file", manifest: "manifests/app.yaml", fromFile: "nope.txt", arg: "manifests", resolveErr: `fromFile "nope.txt": no such file or directory`},
		{name: "too large", manifest: "manifests/app.yaml", fromFile: "big.txt", arg: "manifests", resolveErr: `fromFile "big.txt": larger than 1048576 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := confinementTree(t)
			write(t, filepath.Join(base, tt.manifest), secretWithFile(strings.ReplaceAll(tt.fromFile, "ABS", base)))
			arg := filepath.Join(base, tt.arg)
			opts := LoadOptions{}
			if tt.filesRoot != "" {
				opts.FilesRoot = filepath.Join(base, tt.filesRoot)
			}
			set, err := load(t, []string{arg}, opts)
			if tt.loadErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.loadErr) {
					t.Fatalf("load error = %v, want it to contain %q", err, tt.loadErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := set.Secrets[0].Resolve(nil)
			if tt.resolveErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.resolveErr) {
					t.Fatalf("resolve error = %v, want it to contain %q", err, tt.resolveErr)
				}
				if strings.Contains(err.Error(), secretMarker) {
					t.Errorf("resolve error contains the file content: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := v.Get("K"); got != tt.want {
				t.Errorf("resolved %d bytes, want %q", len(got), tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SET": secretMarker, "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ok := Secret{Name: "app", Data: DataOf(map[string]ValueSource{
		"A": {FromEnv: "SET"},
		"B": {Value: ptr("literal")},
		"C": {Value: ptr("")},
	})}
	v, err := ok.Resolve(lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": secretMarker, "B": "literal", "C": ""}
	if diff := cmp.Diff(want, v.Map()); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}

	bad := Secret{
		Name:   "app",
		Source: Source{File: "app.yaml", Document: 1, Line: 7},
		Data: DataOf(map[string]ValueSource{
			"A": {FromEnv: "SET"},
			"B": {FromEnv: "UNSET"},
			"C": {FromEnv: "EMPTY"},
		}),
	}
	_, err = bad.Resolve(lookup)
	if err == nil {
		t.Fatal("Resolve succeeded with an unset variable")
	}
	wantErr := `app.yaml:7 (document 2): secret "app": spec.data.B: environment variable UNSET is not set
app.yaml:7 (document 2): secret "app": spec.data.C: environment variable EMPTY is empty`
	if diff := cmp.Diff(wantErr, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), secretMarker) {
		t.Errorf("error contains a value: %v", err)
	}

	none, err := Secret{Name: "placed"}.Resolve(lookup)
	if err != nil || none.Len() != 0 {
		t.Errorf("unmanaged secret: %v, %d keys", err, none.Len())
	}
}

func TestResolveFileErrorsWrap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := Secret{Name: "s", BaseDir: dir, Root: dir, Data: DataOf(map[string]ValueSource{"K": {FromFile: "missing"}})}
	_, err := s.Resolve(nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
	s.Data = s.Data.With("K", ValueSource{FromFile: "../x"})
	if _, err := s.Resolve(nil); !errors.Is(err, ErrOutsideRoot) {
		t.Errorf("error %v does not wrap ErrOutsideRoot", err)
	}
}
