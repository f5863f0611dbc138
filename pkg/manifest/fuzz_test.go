package manifest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzLoad feeds arbitrary bytes to Load as standard input. Load must never
// panic, and whatever it accepts must survive Marshal → Load unchanged.
// Seeds: testdata/fuzz/FuzzLoad plus every file of testdata/valid and
// testdata/invalid.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	small := Limits{MaxFileSize: 64 << 10, MaxDocuments: 200, MaxResources: 200, MaxAliasNodes: 2000}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Load(context.Background(), []string{"-"}, LoadOptions{Stdin: bytes.NewReader(data), Limits: small})
		if err != nil {
			if set != nil {
				t.Fatalf("Set returned with error %v", err)
			}
			if _, ok := err.(Errors); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		for _, format := range []string{"yaml", "json"} {
			out, err := Marshal(set.Backends, set.Secrets, format)
			if err != nil {
				t.Fatalf("Marshal %s of a loaded set: %v", format, err)
			}
			back, err := Load(context.Background(), []string{"-"}, LoadOptions{Stdin: bytes.NewReader(out)})
			if err != nil {
				t.Fatalf("Load(Marshal %s) failed: %v\n%s", format, err, out)
			}
			if diff := cmp.Diff(set.Backends, back.Backends, ignoreBackendSource); diff != "" {
				t.Fatalf("%s backends changed in a round trip:\n%s", format, diff)
			}
			if diff := cmp.Diff(set.Secrets, back.Secrets, ignoreSource); diff != "" {
				t.Fatalf("%s secrets changed in a round trip:\n%s", format, diff)
			}
		}
	})
}
