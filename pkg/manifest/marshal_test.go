package manifest

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tricky holds values that YAML would read as another type if printed
// bare, multi-line text, and every optional field, to exercise quoting.
const tricky = `
apiVersion: mcpctl/v1
kind: SecretBackend
metadata:
  name: kv
  labels: {flag: "true", num: "123", empty: "", "example.com/tier": "null"}
  annotations: {mcpctl/prevent-destroy: "false", note: "a: b # not a comment", multi: "line one\nline two\n"}
spec:
  type: testkv
  description: "  leading spaces, 'quotes' and \"doubles\""
  config: {n: 3, f: 0.5, big: 12345678901, b: false, nothing: null, list: [a, "2", {x: y}], "weird key": "~"}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: s1, labels: {version: "1.10"}}
spec:
  backend: kv
  data:
    A: {fromEnv: A}
    B: {fromFile: files/b.txt}
    C: {value: "yes"}
    D: {value: "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"}
    E: {value: ""}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: s2}
spec: {data: {}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: s3}
`

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	inputs := map[string][]string{
		"tricky":    {"-"},
		"canonical": {"testdata/valid/canonical.yaml", "testdata/valid/list.yaml"},
		"legacy":    {"testdata/valid/legacy-flat.yaml"},
		"json list": {"testdata/valid/list.json"},
	}
	for name, paths := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			orig, err := load(t, paths, LoadOptions{Stdin: strings.NewReader(tricky)})
			if err != nil {
				t.Fatal(err)
			}
			for _, format := range []string{"yaml", "json"} {
				out, err := Marshal(orig.Backends, orig.Secrets, format)
				if err != nil {
					t.Fatalf("Marshal %s: %v", format, err)
				}
				back, err := load(t, []string{"-"}, LoadOptions{Stdin: bytes.NewReader(out)})
				if err != nil {
					t.Fatalf("Load(Marshal %s) failed: %v\n%s", format, err, out)
				}
				if diff := cmp.Diff(orig.Backends, back.Backends, ignoreBackendSource); diff != "" {
					t.Errorf("%s backends (-orig +round-trip):\n%s\n%s", format, diff, out)
				}
				if diff := cmp.Diff(orig.Secrets, back.Secrets, ignoreSource); diff != "" {
					t.Errorf("%s secrets (-orig +round-trip):\n%s\n%s", format, diff, out)
				}
				if orig.Digest != back.Digest {
					t.Errorf("%s: digest changed in the round trip", format)
				}
			}
		})
	}
}

func TestMarshalCanonicalYAML(t *testing.T) {
	t.Parallel()
	set, err := load(t, []string{"testdata/valid/legacy-grouped.yaml"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(set.Backends[:1], set.Secrets[:1], "yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: mcpctl/v1
kind: SecretBackend
metadata:
  name: bao
spec:
  type: openbao
  config:
    auth:
      method: token
      tokenSecretRef:
        key: token
        name: bao-token
    url: https://bao.internal:8200
---
apiVersion: mcpctl/v1
kind: Secret
metadata:
  name: bao-token
spec:
  backend: local
  data:
    token:
      fromEnv: BAO_TOKEN
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("yaml (-want +got):\n%s", diff)
	}

	js, err := Marshal(nil, []Secret{{Name: "x"}}, "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		APIVersion, Kind string
		Items            []json.RawMessage
	}
	if err := json.Unmarshal(js, &list); err != nil || list.Kind != KindList || list.APIVersion != APIVersion || len(list.Items) != 1 {
		t.Errorf("json output is not a List of one: %v\n%s", err, js)
	}

	if _, err := Marshal(nil, nil, "toml"); err == nil {
		t.Error("Marshal accepted format toml")
	}
	if out, err := Marshal(nil, nil, "yaml"); err != nil || len(out) != 0 {
		t.Errorf("Marshal of nothing = %q, %v", out, err)
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	backends := []Backend{
		{Name: "a", Type: "plaintext", Config: json.RawMessage(`{"y":1,"x":2}`)},
		{Name: "b", Type: "testkv"},
	}
	secrets := []Secret{
		{Name: "s", Backend: "a", Data: DataOf(map[string]ValueSource{"K": {FromEnv: "K"}, "L": {Value: ptr("one")}})},
		{Name: "t"},
	}
	base := ComputeDigest(backends, secrets)

	same := func(what string, b []Backend, s []Secret) {
		t.Helper()
		if got := ComputeDigest(b, s); got != base {
			t.Errorf("%s changed the digest", what)
		}
	}
	differs := func(what string, b []Backend, s []Secret) {
		t.Helper()
		if got := ComputeDigest(b, s); got == base {
			t.Errorf("%s did not change the digest", what)
		}
	}
	cloneS := func() []Secret {
		out := slices.Clone(secrets)
		out[0].Data = DataOf(map[string]ValueSource{"K": {FromEnv: "K"}, "L": {Value: ptr("one")}})
		return out
	}

	same("resource order", []Backend{backends[1], backends[0]}, []Secret{secrets[1], secrets[0]})
	b2 := slices.Clone(backends)
	b2[0].Config = json.RawMessage(`{"x": 2, "y": 1}`)
	same("config key order and spacing", b2, secrets)
	b2[1].Config = json.RawMessage(`{}`)
	same("absent config vs {}", b2, secrets)
	s2 := cloneS()
	s2[0].Source, s2[0].BaseDir, s2[0].Root = Source{File: "elsewhere.yaml", Line: 9}, "/x", "/x"
	same("where a secret was declared", backends, s2)
	s2 = cloneS()
	s2[0].Data = s2[0].Data.With("L", ValueSource{Value: ptr("two")})
	same("a literal's content (never hashed: saved plans would leak it)", backends, s2)

	s2 = cloneS()
	s2[0].Data = s2[0].Data.With("K", ValueSource{FromEnv: "OTHER"})
	differs("the environment variable name", backends, s2)
	s2 = cloneS()
	s2[0].Data = s2[0].Data.With("L", ValueSource{FromEnv: "L"})
	differs("literal → fromEnv", backends, s2)
	s2 = cloneS()
	s2[1].Data = DataOf(map[string]ValueSource{})
	differs("unmanaged → managed with no keys", backends, s2)
	b2 = slices.Clone(backends)
	b2[0].Default = true
	differs("default", b2, secrets)
	b2 = slices.Clone(backends)
	b2[1].Labels = map[string]string{"x": "y"}
	differs("a label", b2, secrets)
	s2 = cloneS()
	s2[1].Backend = "b"
	differs("a secret's backend", backends, s2)
	if !strings.HasPrefix(base, "sha256:") {
		t.Errorf("digest %q lacks its algorithm", base)
	}
}
