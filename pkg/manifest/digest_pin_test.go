package manifest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
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

// digestReference is ComputeDigest as it was before it streamed to the
// hash: the whole document encoded by json.Encoder, then hashed.
func digestReference(backends []Backend, secrets []Secret) string {
	var doc struct {
		Backends []digestBackend `json:"backends"`
		Secrets  []digestSecret  `json:"secrets"`
	}
	for _, b := range backends {
		doc.Backends = append(doc.Backends, digestBackend{Name: b.Name, Labels: b.Labels, Annotations: b.Annotations, Type: b.Type,
			Default: b.Default, Description: b.Description, Config: canonicalConfig(b.Config)})
	}
	for _, s := range secrets {
		ds := digestSecret{Name: s.Name, Labels: s.Labels, Annotations: s.Annotations, Backend: s.Backend, Managed: s.Data != nil}
		if s.Data != nil {
			ds.Data = map[string]digestValue{}
			for k, vs := range s.Data.Map() {
				ds.Data[k] = digestValue{FromEnv: vs.FromEnv, FromFile: vs.FromFile, Literal: vs.Value != nil}
			}
		}
		doc.Secrets = append(doc.Secrets, ds)
	}
	slices.SortFunc(doc.Backends, func(a, b digestBackend) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(doc.Secrets, func(a, b digestSecret) int { return cmp.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	buf.WriteString(digestVersion)
	if err := json.NewEncoder(&buf).Encode(doc); err != nil {
		panic(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestDigestStreamedMatchesDocument: hashing resource by resource gives
// the digest of the whole document, empty sets and HTML-escaped characters
// included.
func TestDigestStreamedMatchesDocument(t *testing.T) {
	t.Parallel()
	lit := "<&>"
	b := []Backend{{Name: "z", Type: "openbao", Config: json.RawMessage(`{"url":"http://a/?x=1&y=<2>"}`)}, {Name: "a", Type: "plaintext"}}
	s := []Secret{
		{Name: "m", Labels: map[string]string{"a&b": "<c>"}, Data: DataOf(map[string]ValueSource{"K": {FromEnv: "K"}, "L": {Value: &lit}})},
		{Name: "b", Backend: "z"},
		{Name: "e", Data: DataOf(map[string]ValueSource{})},
	}
	for i := range 200 {
		s = append(s, Secret{Name: fmt.Sprintf("gen-%03d", (i*37)%200), Data: DataOf(map[string]ValueSource{"F": {FromFile: fmt.Sprintf("f/%d", i)}})})
	}
	cases := []struct {
		b []Backend
		s []Secret
	}{{nil, nil}, {b, nil}, {nil, s}, {b, s}, {b[:1], s[:1]}}
	for i, c := range cases {
		if got, want := ComputeDigest(c.b, c.s), digestReference(c.b, c.s); got != want {
			t.Errorf("case %d: streamed %s, document %s", i, got, want)
		}
	}
}
