package manifest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestDigestPinned pins ComputeDigest's output: a saved plan records the
// digest of the manifests it was made from, so the same input must keep
// hashing to the same value across releases (and across changes of how
// Secret.Data is held in memory). Change these values only together with
// digestVersion.
func TestDigestPinned(t *testing.T) {
	t.Parallel()
	backends := []Backend{
		{Name: "a", Type: "plaintext", Config: json.RawMessage(`{"y":1,"x":2}`), Labels: map[string]string{"team": "x"}},
		{Name: "b", Type: "testkv", Default: true, Description: "kv", Annotations: map[string]string{AnnotationPreventDestroy: "true"}},
	}
	secrets := []Secret{
		{Name: "s", Backend: "a", Labels: map[string]string{"team": "x", "tier": "1"}, Data: DataOf(map[string]ValueSource{
			"K": {FromEnv: "K"}, "L": {Value: ptr("one")}, "A.b-c_d": {FromFile: "f/a.txt"}})},
		{Name: "t"},
		{Name: "u", Data: DataOf(map[string]ValueSource{})},
	}
	if got, want := ComputeDigest(backends, secrets), "sha256:3044d72a4714451c6e26202ae23c8879f9c51ab62266d2c5e9649eb036a0cfb1"; got != want {
		t.Errorf("ComputeDigest = %s, want %s", got, want)
	}
	for file, want := range map[string]string{
		"canonical.yaml":      "sha256:e7193f2954c17ab05b988de88b7812873e9463c6ba7a50845c11c256afef19c8",
		"legacy-grouped.yaml": "sha256:41731250ca7215019f2778f65eee28b4b425751ab45e4a5798b4f2038ef6ab71",
		"export-grouped.json": "sha256:98afe529520f5d163837690cc3cfea0fc1fe07f2407e3c660368b5e6cfa848e9",
	} {
		set, err := Load(context.Background(), []string{filepath.Join("testdata", "valid", file)}, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if set.Digest != want {
			t.Errorf("%s: digest %s, want %s", file, set.Digest, want)
		}
	}
}
