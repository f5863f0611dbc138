package plan

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
)

func TestFingerprint(t *testing.T) {
	t.Parallel()
	key := []byte("installation key")
	v := func(m map[string]string) drivers.Values { return drivers.NewValues(m) }
	a := Fingerprint(key, v(map[string]string{"A": "bc"}))
	if !validFingerprint(a) {
		t.Fatalf("%q is not a valid fingerprint", a)
	}
	if a != Fingerprint(key, v(map[string]string{"A": "bc"})) {
		t.Error("not deterministic")
	}
	distinct := []string{
		a,
		Fingerprint(key, v(map[string]string{"Ab": "c"})), // same concatenation
		Fingerprint(key, v(map[string]string{"A": "b", "c": ""})),
		Fingerprint(key, v(map[string]string{})),
		Fingerprint([]byte("other key"), v(map[string]string{"A": "bc"})),
	}
	seen := map[string]bool{}
	for _, f := range distinct {
		if seen[f] {
			t.Errorf("collision: %s", f)
		}
		seen[f] = true
	}
	if strings.Contains(a, "bc") {
		t.Error("fingerprint shows the value")
	}
}

func TestResolveValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "org.txt"), []byte("org-123"), 0o600); err != nil {
		t.Fatal(err)
	}
	lit := "literal-value"
	s := manifest.Secret{Name: "openai", BaseDir: dir, Root: dir, Source: manifest.Source{File: "apps.yaml", Line: 4},
		Data: manifest.DataOf(map[string]manifest.ValueSource{"API_KEY": {FromEnv: "OPENAI_API_KEY"}, "ORG": {FromFile: "org.txt"}, "MODE": {Value: &lit}})}
	key := []byte("k")
	want := drivers.NewValues(map[string]string{"API_KEY": "sk-1", "ORG": "org-123", "MODE": "literal-value"})
	a := &Action{ID: "secret/openai", Kind: KindSecret, Name: "openai", Action: Create, Values: (&dataShare{}).newManagedValues(&s, Fingerprint(key, want))}
	env := map[string]string{"OPENAI_API_KEY": "sk-1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	got, fp, err := a.ResolveValues(key, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) || fp != a.Values.Fingerprint {
		t.Errorf("resolved %v (fingerprint %s)", cmp.Diff(want.Map(), got.Map()), fp)
	}

	env["OPENAI_API_KEY"] = "sk-2"
	_, _, err = a.ResolveValues(key, lookup)
	if !errors.Is(err, ErrValuesChanged) || !strings.Contains(err.Error(), "secret/openai") {
		t.Errorf("changed value: %v", err)
	}
	if strings.Contains(err.Error(), "sk-") {
		t.Errorf("the error shows a value: %v", err)
	}

	delete(env, "OPENAI_API_KEY")
	_, _, err = a.ResolveValues(key, lookup)
	if err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY is not set") || !strings.Contains(err.Error(), "apps.yaml:4") {
		t.Errorf("unset variable: %v", err)
	}

	// Without a key (nothing to verify against) the values still resolve.
	env["OPENAI_API_KEY"] = "sk-3"
	if _, fp, err := a.ResolveValues(nil, lookup); err != nil || fp != "" {
		t.Errorf("resolve without key: %q %v", fp, err)
	}
	if _, _, err := (&Action{ID: "secret/x", Kind: KindSecret, Name: "x"}).ResolveValues(key, lookup); err == nil {
		t.Error("an action without values resolved some")
	}
}

func TestParseSelector(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    Selector
		wantErr string
	}{
		{in: "", want: nil},
		{in: "team=infra", want: Selector{{Key: "team", Value: "infra"}}},
		{in: "team==infra, env!=prod", want: Selector{{Key: "team", Value: "infra"}, {Key: "env", Value: "prod", Negate: true}}},
		{in: "team", wantErr: `requirement "team" is not key=value`},
		{in: "=x", wantErr: "empty key"},
		{in: "a=b=c", wantErr: "may not contain"},
	}
	for _, tc := range cases {
		got, err := ParseSelector(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("%q: got %v %v, want %v", tc.in, got, err, tc.want)
		}
	}
	sel, _ := ParseSelector("team=infra,env!=prod")
	for labels, want := range map[string]bool{"team=infra": true, "team=infra,env=prod": false, "team=web": false, "env=dev,team=infra": true, "": false} {
		m := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m[k] = v
			}
		}
		if got := sel.Matches(m); got != want {
			t.Errorf("%s matches %q: %v, want %v", sel, labels, got, want)
		}
	}
	if !(Selector{}).Matches(nil) {
		t.Error("the empty selector must match everything")
	}
}

// TestDataShare: secrets whose manifest Data is shared (manifest.Load
// shares equal spec.data) share their actions' Sources and key names; the
// rest, and anything with a literal, get their own.
func TestDataShare(t *testing.T) {
	t.Parallel()
	shared := manifest.DataOf(map[string]manifest.ValueSource{"USER": {FromEnv: "U"}, "PASSWORD": {FromEnv: "P"}})
	equal := manifest.DataOf(map[string]manifest.ValueSource{"USER": {FromEnv: "U"}, "PASSWORD": {FromEnv: "P"}})
	lit := "x"
	literal := manifest.DataOf(map[string]manifest.ValueSource{"USER": {Value: &lit}})
	a := manifest.Secret{Name: "a", Data: shared, Source: manifest.Source{File: "a.yaml", Line: 1}}
	b := manifest.Secret{Name: "b", Data: shared, Source: manifest.Source{File: "b.yaml", Line: 2}}
	c := manifest.Secret{Name: "c", Data: equal}
	l := manifest.Secret{Name: "l", Data: literal}

	var ds dataShare
	ka, kb, kc := ds.keys(a.Data), ds.keys(b.Data), ds.keys(c.Data)
	if !slices.Equal(ka, []string{"PASSWORD", "USER"}) || &ka[0] != &kb[0] || !slices.Equal(ka, kc) {
		t.Errorf("keys: %v %v %v; want one shared list for a and b", ka, kb, kc)
	}
	ma, mb, mc := ds.newManagedValues(&a, "fp-a"), ds.newManagedValues(&b, "fp-b"), ds.newManagedValues(&c, "fp-c")
	if &ma.Sources[0] != &mb.Sources[0] {
		t.Error("a and b do not share their Sources")
	}
	if &ma.Sources[0] == &mc.Sources[0] || !slices.Equal(ma.Sources, mc.Sources) {
		t.Error("c has equal Data of its own: want equal, unshared Sources")
	}
	if ma.Fingerprint != "fp-a" || mb.Fingerprint != "fp-b" || mb.DeclaredIn.File != "b.yaml" || mb.DeclaredIn.Line != 2 {
		t.Errorf("per-secret fields: %+v, %+v", ma, mb)
	}
	want := []Source{{Key: "PASSWORD", FromEnv: "P"}, {Key: "USER", FromEnv: "U"}}
	if !slices.Equal(mb.Sources, want) {
		t.Errorf("Sources = %+v, want %+v", mb.Sources, want)
	}
	ml := ds.newManagedValues(&l, "")
	if ml.literal == nil || !ml.Sources[0].Literal {
		t.Errorf("literal lost: %+v", ml)
	}
	if v, ok := ml.literal("USER"); !ok || v != "x" {
		t.Errorf("literal = %q, %v", v, ok)
	}
}
