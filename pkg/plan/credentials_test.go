package plan

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao"
)

func TestCredentialEdges(t *testing.T) {
	cfg := `{"url":"https://bao","auth":{"method":"token","tokenSecretRef":{"name":"bao-token","key":"token"}}}`
	placed := map[string]string{"bao-token": "default"}
	got, err := CredentialEdges("bao", "vault", json.RawMessage(cfg), func(s string) string { return placed[s] })
	if err != nil {
		t.Fatal(err)
	}
	want := []CredentialEdge{{Backend: "bao", Secret: "bao-token", Key: "token", On: "default"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}

	// Without a placement, On stays empty.
	got, err = CredentialEdges("bao", "openbao", json.RawMessage(cfg), nil)
	if err != nil || len(got) != 1 || got[0].On != "" {
		t.Errorf("edges without placement = %+v, %v", got, err)
	}
	// No reference, no edge.
	got, err = CredentialEdges("bao", "openbao", json.RawMessage(`{"url":"https://bao"}`), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("edges of a config without references = %+v, %v", got, err)
	}
	// The driver's verdict on a bad config comes back, without edges.
	for _, tc := range []struct{ typ, cfg string }{
		{"openbao", `{"url":"https://bao","nope":1}`},
		{"no-such-type", `{}`},
	} {
		if got, err := CredentialEdges("bao", tc.typ, json.RawMessage(tc.cfg), nil); err == nil || got != nil {
			t.Errorf("%s %s: edges %+v, err %v; want an error and no edge", tc.typ, tc.cfg, got, err)
		}
	}
}

func TestCredentialCycles(t *testing.T) {
	e := func(backend, secret, on string) CredentialEdge {
		return CredentialEdge{Backend: backend, Secret: secret, Key: "token", On: on}
	}
	for _, tc := range []struct {
		name  string
		edges []CredentialEdge
		want  []string
	}{
		{"none", nil, []string{}},
		{"chain without a cycle", []CredentialEdge{e("a", "ta", "b"), e("b", "tb", "default")}, []string{}},
		{"unplaced secret", []CredentialEdge{e("a", "ta", "")}, []string{}},
		{"self", []CredentialEdge{e("bao", "bao-token", "bao")}, []string{"bao -> secret/bao-token -> bao"}},
		{
			"two backends, named once from the smallest",
			[]CredentialEdge{e("vault", "vault-token", "bao"), e("bao", "bao-token", "vault")},
			[]string{"bao -> secret/bao-token -> vault -> secret/vault-token -> bao"},
		},
		{
			// a -> b -> c -> a, and a -> c: a depth-first search with
			// colours finishes c before following a -> c and misses a -> c -> a.
			"cycle closed through a finished backend",
			[]CredentialEdge{e("a", "t1", "b"), e("b", "t2", "c"), e("c", "t3", "a"), e("a", "t4", "c")},
			[]string{
				"a -> secret/t1 -> b -> secret/t2 -> c -> secret/t3 -> a",
				"a -> secret/t4 -> c -> secret/t3 -> a",
			},
		},
		{
			"duplicate edges count once",
			[]CredentialEdge{e("a", "t", "a"), e("a", "t", "a")},
			[]string{"a -> secret/t -> a"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := []string{}
			for _, c := range CredentialCycles(tc.edges) {
				got = append(got, c.String())
				for i, e := range c {
					if next := c[(i+1)%len(c)]; e.On != next.Backend {
						t.Errorf("cycle %s is not closed at edge %d", c, i)
					}
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("cycles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCredentialCycleFrom(t *testing.T) {
	c := CredentialCycle{
		{Backend: "a", Secret: "t1", On: "b"},
		{Backend: "b", Secret: "t2", On: "a"},
	}
	if got := c.From("b").String(); got != "b -> secret/t2 -> a -> secret/t1 -> b" {
		t.Errorf("From(b) = %s", got)
	}
	if got := c.From("zz").String(); got != c.String() {
		t.Errorf("From(a backend not on it) = %s", got)
	}
	if diff := cmp.Diff([]string{"a", "b"}, c.Backends()); diff != "" {
		t.Errorf("Backends (-want +got):\n%s", diff)
	}
}
