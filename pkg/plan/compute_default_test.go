package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func defaultKV(b manifest.Backend) manifest.Backend { b.Default = true; return b }

func defaultRow(b state.Backend) state.Backend { b.IsDefault = true; return b }

// notDefault is the bootstrap row after another backend took the default.
func notDefault() state.Backend { b := bootstrap(); b.IsDefault = false; return b }

func withBackendRows(s *Snapshot, rows ...state.Backend) *Snapshot {
	s.Backends = rows
	return s
}

// Any backend type may be the default (testkv stands for openbao here): the
// default changes like any other, each secret naming no backend migrates,
// and a token secret that would follow the default onto the backend it
// unlocks is a cycle.
func TestComputeDefaultBackendOfAnyType(t *testing.T) {
	t.Parallel()
	migrated := func(from, to string) func(t *testing.T, p *Plan) {
		return func(t *testing.T, p *Plan) {
			t.Helper()
			if p.DefaultBackend != to {
				t.Errorf("DefaultBackend %q, want %q", p.DefaultBackend, to)
			}
			a, ok := p.Action("secret/a")
			if !ok {
				t.Fatal("no action for secret/a")
			}
			want := &MigrationStep{From: from, To: to, DefaultChanged: true}
			if diff := cmp.Diff(want, a.Migration); diff != "" {
				t.Errorf("migration (-want +got):\n%s", diff)
			}
		}
	}
	cases := []computeCase{
		{
			name: "plaintext default to a new openbao-like default, the token secret naming its backend stays",
			desired: set([]manifest.Backend{defaultKV(kv("bao", "https://bao", withToken("bao-token", "token")))},
				sec("bao-token", "default", env("token")), sec("a", ""), sec("b", "", env("K")), sec("c", "default")),
			snap: snapshot(nil, row("bao-token", "default", 1, 1, true, "token"),
				row("a", "default", 1, 1, false, "X"), row("b", "default", 1, 1, true, "K"), row("c", "default", 1, 1, false, "Y")),
			want: []act{
				{ID: "secretbackend/default", Action: Update, Reason: "no longer the default (bao is)"},
				{ID: "secretbackend/bao", Action: Create, Deps: []string{"secretbackend/default"}},
				{ID: "secret/a", Action: Migrate, Deps: []string{"secretbackend/bao", "secretbackend/default"},
					Reason: "names no backend, and the default backend changes from default to bao"},
				{ID: "secret/b", Action: Migrate, Deps: []string{"secretbackend/bao", "secretbackend/default"},
					Reason: "names no backend, and the default backend changes from default to bao"},
			},
			check: func(t *testing.T, p *Plan) {
				migrated("default", "bao")(t, p)
				if b, _ := p.Action("secretbackend/bao"); b == nil || !b.After.Default {
					t.Errorf("bao must be created as the default: %+v", b)
				}
			},
		},
		{
			name: "openbao-like default to another",
			desired: set([]manifest.Backend{kv("bao", "https://bao"), defaultKV(kv("vault", "https://vault"))},
				sec("a", ""), sec("pinned", "bao")),
			snap: withBackendRows(snapshot(nil, row("a", "bao", 1, 1, false, "X"), row("pinned", "bao", 1, 1, false, "Y")),
				notDefault(), defaultRow(kvRow("bao", "https://bao", 1)), kvRow("vault", "https://vault", 1)),
			want: []act{
				{ID: "secretbackend/bao", Action: Update, Reason: "no longer the default (vault is)"},
				{ID: "secretbackend/vault", Action: Update, Deps: []string{"secretbackend/bao"}, Reason: "becomes the default backend"},
				{ID: "secret/a", Action: Migrate, Deps: []string{"secretbackend/bao", "secretbackend/vault"},
					Reason: "names no backend, and the default backend changes from bao to vault"},
			},
			check: migrated("bao", "vault"),
		},
		{
			name:    "openbao-like default back to the bootstrap backend",
			desired: set([]manifest.Backend{plain("default", true), kv("bao", "https://bao")}, sec("a", "")),
			snap: withBackendRows(snapshot(nil, row("a", "bao", 1, 1, false, "X")),
				notDefault(), defaultRow(kvRow("bao", "https://bao", 1))),
			want: []act{
				{ID: "secretbackend/bao", Action: Update, Reason: "no longer the default (default is)"},
				{ID: "secretbackend/default", Action: Update, Deps: []string{"secretbackend/bao"}, Reason: "becomes the default backend"},
				{ID: "secret/a", Action: Migrate, Deps: []string{"secretbackend/bao", "secretbackend/default"},
					Reason: "names no backend, and the default backend changes from bao to default"},
			},
			check: migrated("bao", "default"),
		},
		{
			name:    "the default chosen in state (create secretbackend --default) stays when no manifest declares a default",
			desired: set(nil, sec("a", ""), sec("new", "")),
			snap: withBackendRows(snapshot(nil, row("a", "bao", 1, 1, false, "X")),
				notDefault(), defaultRow(kvRow("bao", "https://bao", 1))),
			want: []act{
				{ID: "secret/new", Action: Create, Reason: "declared in secrets.yaml:3; not in state"},
			},
			wantFindings: []Finding{{Type: Unmanaged, Kind: KindSecretBackend, Name: "bao", Reason: "in state, not declared in any manifest (plan with --prune to delete it)"}},
			check: func(t *testing.T, p *Plan) {
				if p.DefaultBackend != "bao" {
					t.Errorf("DefaultBackend %q, want bao", p.DefaultBackend)
				}
				if a, _ := p.Action("secret/new"); a == nil || a.After.Backend != "bao" {
					t.Errorf("a new secret naming no backend goes to the default bao: %+v", a)
				}
			},
		},
		{
			name:    "a declared backend without spec.default gives the default up",
			desired: set([]manifest.Backend{kv("bao", "https://bao")}),
			snap: withBackendRows(snapshot(nil),
				notDefault(), defaultRow(kvRow("bao", "https://bao", 1))),
			want: []act{
				{ID: "secretbackend/bao", Action: Update, Reason: "no longer the default (default is)"},
				{ID: "secretbackend/default", Action: Update, Deps: []string{"secretbackend/bao"}, Reason: "becomes the default backend"},
			},
		},
		{
			name: "a token secret naming no backend would follow the default onto its own backend",
			desired: set([]manifest.Backend{defaultKV(kv("bao", "https://bao", withToken("bao-token", "token")))},
				sec("bao-token", "", env("token"))),
			snap: snapshot(nil, row("bao-token", "default", 1, 1, true, "token")),
			want: []act{
				{ID: "secretbackend/default", Action: Update},
				{ID: "secretbackend/bao", Action: Create, Deps: []string{"secret/bao-token", "secretbackend/default"}},
				{ID: "secret/bao-token", Action: Migrate, Deps: []string{"secretbackend/bao", "secretbackend/default"}},
			},
			wantProblems: []string{"dependency cycle: bao -> secret/bao-token -> bao (a backend's credential must live on a backend that does not depend on it); secret/bao-token (secrets.yaml:3) names no backend, so it follows the default backend bao: give it spec.backend (backend: in the original's format), e.g. default"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCompute(t, tc)
		})
	}
}

// A backend's token secret may exist only in state (made with `mcpctl
// create secret`); only one absent from both manifests and state is an
// error.
func TestComputeTokenSecretOnlyInState(t *testing.T) {
	t.Parallel()
	cases := []computeCase{
		{
			name:    "token secret only in state",
			desired: set([]manifest.Backend{kv("bao", "https://bao", withToken("bao-token", "token"))}, sec("a", "bao")),
			snap:    snapshot(nil, row("bao-token", "default", 1, 1, false, "token")),
			want: []act{
				{ID: "secretbackend/bao", Action: Create},
				{ID: "secret/a", Action: Create, Deps: []string{"secretbackend/bao"}},
			},
			wantFindings: []Finding{{Type: Unmanaged, Kind: KindSecret, Name: "bao-token", Backend: "default", Reason: "in state, not declared in any manifest (plan with --prune to delete it)"}},
		},
		{
			name:         "token secret only in state without the key",
			desired:      set([]manifest.Backend{kv("bao", "https://bao", withToken("bao-token", "token"))}),
			snap:         snapshot(nil, row("bao-token", "default", 1, 1, false, "TOKEN")),
			want:         []act{{ID: "secretbackend/bao", Action: Create}},
			wantFindings: []Finding{{Type: Unmanaged, Kind: KindSecret, Name: "bao-token", Backend: "default", Reason: "in state, not declared in any manifest (plan with --prune to delete it)"}},
			wantProblems: []string{`secretbackend/bao: its credential secret bao-token has no key "token" (keys: TOKEN)`},
		},
		{
			name:         "secret placed on a backend only in state (create secretbackend)",
			desired:      set(nil, sec("a", "bao")),
			snap:         snapshot([]state.Backend{kvRow("bao", "https://bao", 1)}),
			want:         []act{{ID: "secret/a", Action: Create, Reason: "declared in secrets.yaml:3; not in state"}},
			wantFindings: []Finding{{Type: Unmanaged, Kind: KindSecretBackend, Name: "bao", Reason: "in state, not declared in any manifest (plan with --prune to delete it)"}},
			check: func(t *testing.T, p *Plan) {
				if a, _ := p.Action("secret/a"); a == nil || a.After.Backend != "bao" {
					t.Errorf("secret/a must be created on bao: %+v", a)
				}
			},
		},
		{
			name:         "token secret neither declared nor in state",
			desired:      set([]manifest.Backend{kv("bao", "https://bao", withToken("bao-token", "token"))}),
			snap:         snapshot(nil),
			want:         []act{{ID: "secretbackend/bao", Action: Create}},
			wantProblems: []string{`secretbackend/bao: its credential secret "bao-token" (tokenSecretRef) is neither declared nor in state (backends.yaml:1): declare it, or create it with mcpctl create secret bao-token --from-literal token=...`},
		},
		{
			name:    "token secret only in state, on the default backend it would unlock",
			desired: set([]manifest.Backend{defaultKV(kv("bao", "https://bao", withToken("bao-token", "token")))}),
			snap: withBackendRows(snapshot(nil, row("bao-token", "bao", 1, 1, false, "token")),
				notDefault(), defaultRow(kvRowToken("bao", "https://bao", 1, "bao-token", "token"))),
			want:         []act{},
			wantFindings: []Finding{{Type: Unmanaged, Kind: KindSecret, Name: "bao-token", Backend: "bao", Reason: "in state, not declared in any manifest (plan with --prune to delete it)"}},
			wantProblems: []string{"dependency cycle: bao -> secret/bao-token -> bao"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCompute(t, tc)
		})
	}
}
