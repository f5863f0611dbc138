package plan

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

type computeCase struct {
	name    string
	desired *manifest.Set
	fp      *Fingerprints // nil: fps(managed names) — every managed value unchanged
	snap    *Snapshot
	opts    Options

	want         []act
	wantFindings []Finding
	wantProblems []string
	wantWarnings []string
	check        func(t *testing.T, p *Plan)
}

func runCompute(t *testing.T, tc computeCase) {
	t.Helper()
	fp := fps(managedNames(tc.desired))
	if tc.fp != nil {
		fp = *tc.fp
	}
	p, err := Compute(tc.desired, fp, tc.snap, testOpts(tc.opts))
	checkProblems(t, err, tc.wantProblems)
	if p == nil {
		t.Fatalf("no plan (err %v)", err)
	}
	if diff := cmp.Diff(tc.want, acts(p), reasonContains); diff != "" {
		t.Errorf("actions (-want +got):\n%s\nplan:\n%s", diff, dump(p))
	}
	if diff := cmp.Diff(tc.wantFindings, p.Findings, planCmp...); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if tc.wantWarnings != nil {
		if diff := cmp.Diff(tc.wantWarnings, p.Warnings); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
	}
	if got := count(p); got != p.Summary {
		t.Errorf("summary %+v, counted %+v", p.Summary, got)
	}
	if tc.check != nil {
		tc.check(t, p)
	}
}

func labelled(r state.Secret, kv ...string) state.Secret {
	r.Labels = pairs(kv)
	return r
}

func protectedRow(r state.Secret) state.Secret {
	r.Protected = true
	r.Annotations = map[string]string{state.AnnotationPreventDestroy: "true"}
	return r
}

func TestComputeActions(t *testing.T) {
	t.Parallel()
	unknown := Fingerprints{Unknown: true, UnknownReason: "this database role may not read the fingerprint key (viewer role)"}
	cases := []computeCase{
		{
			name: "no changes",
			desired: set([]manifest.Backend{kv("bao", "https://bao")},
				sec("openai", "bao", env("API_KEY")), sec("notes", "")),
			snap: snapshot([]state.Backend{kvRow("bao", "https://bao", 3)},
				row("openai", "bao", 4, 2, true, "API_KEY"), row("notes", "default", 1, 1, false, "A")),
			want: []act{},
			check: func(t *testing.T, p *Plan) {
				if p.HasChanges() {
					t.Error("HasChanges() = true for a plan without actions")
				}
			},
		},
		{
			name: "create everything on an uninitialised database, token secret first",
			desired: set([]manifest.Backend{kv("bao", "https://bao", withToken("bao-token", "token"))},
				sec("bao-token", "", env("token")), sec("openai", "bao", env("API_KEY")), sec("notes", "bao")),
			fp:   &Fingerprints{Unknown: true, UnknownReason: "the database is not initialised yet"},
			snap: &Snapshot{},
			want: []act{
				{ID: "secret/bao-token", Action: Create, Reason: "declared in secrets.yaml:3; not in state"},
				{ID: "secretbackend/bao", Action: Create, Deps: []string{"secret/bao-token"}, Reason: "declared in backends.yaml:1"},
				{ID: "secret/notes", Action: Create, Deps: []string{"secretbackend/bao"}, Reason: "values unmanaged: creates an empty object"},
				{ID: "secret/openai", Action: Create, Deps: []string{"secretbackend/bao"}},
			},
			check: func(t *testing.T, p *Plan) {
				if p.Initialized || p.DefaultBackend != "default" {
					t.Errorf("Initialized %v, DefaultBackend %q", p.Initialized, p.DefaultBackend)
				}
				a, _ := p.Action("secret/openai")
				want := Action{
					ID: "secret/openai", Kind: KindSecret, Name: "openai", Action: Create,
					Reason: "declared in secrets.yaml:3; not in state",
					After:  &Summary{Backend: "bao", Managed: true, Keys: []string{"API_KEY"}},
					Deps:   []string{"secretbackend/bao"},
					Values: &ManagedValues{
						DeclaredIn: Location{File: "secrets.yaml", Line: 3},
						Sources:    []Source{{Key: "API_KEY", FromEnv: "ENV_API_KEY"}},
					},
				}
				if diff := cmp.Diff(&want, a, planCmp...); diff != "" {
					t.Errorf("secret/openai (-want +got):\n%s", diff)
				}
				b, _ := p.Action("secretbackend/bao")
				if string(b.Config) != `{"tokenSecretRef":{"key":"token","name":"bao-token"},"url":"https://bao"}` {
					t.Errorf("backend config %s", b.Config)
				}
			},
		},
		{
			name:    "backend update: config and labels",
			desired: set([]manifest.Backend{kv("bao", "https://new", bLabels("team", "infra"))}),
			snap:    snapshot([]state.Backend{kvRow("bao", "https://old", 3)}),
			want: []act{
				{ID: "secretbackend/bao", Action: Update, Reason: "differs from state: config (url); labels"},
			},
			check: func(t *testing.T, p *Plan) {
				a := p.Actions[0]
				if a.Precondition.RowGeneration != 3 || a.Before.Labels != nil || a.After.Labels["team"] != "infra" {
					t.Errorf("precondition %+v before %+v after %+v", a.Precondition, a.Before, a.After)
				}
			},
		},
		{
			name:         "backend type is immutable",
			desired:      set([]manifest.Backend{plain("bao", false)}),
			snap:         snapshot([]state.Backend{kvRow("bao", "https://bao", 1)}),
			want:         []act{},
			wantProblems: []string{"secretbackend/bao: type is immutable (testkv in state, plaintext in backends.yaml:10)"},
		},
		{
			name: "default backend change migrates each secret naming no backend",
			desired: set([]manifest.Backend{plain("local", true)},
				sec("a", ""), sec("b", "", env("K")), sec("c", "default")),
			snap: snapshot(nil,
				row("a", "default", 1, 1, false, "X"), row("b", "default", 1, 1, true, "K"), row("c", "default", 1, 1, false, "Y")),
			want: []act{
				{ID: "secretbackend/default", Action: Update, Reason: "no longer the default (local is)"},
				{ID: "secretbackend/local", Action: Create, Deps: []string{"secretbackend/default"}},
				{ID: "secret/a", Action: Migrate, Deps: []string{"secretbackend/default", "secretbackend/local"},
					Reason: "names no backend, and the default backend changes from default to local"},
				{ID: "secret/b", Action: Migrate, Deps: []string{"secretbackend/default", "secretbackend/local"},
					Reason: "names no backend, and the default backend changes from default to local"},
			},
			check: func(t *testing.T, p *Plan) {
				a, _ := p.Action("secret/b")
				want := &MigrationStep{From: "default", To: "local", DefaultChanged: true}
				if diff := cmp.Diff(want, a.Migration); diff != "" {
					t.Errorf("migration (-want +got):\n%s", diff)
				}
				if a.Values != nil || !a.After.Managed || a.Precondition.RowGeneration != 1 || a.Precondition.ObjectVersion != 1 {
					t.Errorf("equal values must be copied, not written: %+v %+v", a.Values, a.Precondition)
				}
				l, _ := p.Action("secretbackend/local")
				if !l.After.Default || p.DefaultBackend != "local" {
					t.Errorf("local must become the default: %+v", l.After)
				}
			},
		},
		{
			name: "token secret rotation runs before the secrets on the backend using it",
			desired: set([]manifest.Backend{kv("bao", "https://bao", withToken("bao-token", "token"))},
				sec("bao-token", "", env("token")), sec("openai", "bao", env("API_KEY"))),
			fp: ptr(fps([]string{"bao-token", "openai"}, "bao-token", "openai")),
			snap: snapshot([]state.Backend{kvRowToken("bao", "https://bao", 2, "bao-token", "token")},
				row("bao-token", "default", 1, 1, true, "token"), row("openai", "bao", 1, 1, true, "API_KEY")),
			want: []act{
				{ID: "secret/bao-token", Action: Write, Reason: "managed values differ from the last apply"},
				{ID: "secret/openai", Action: Write, Deps: []string{"secret/bao-token"}},
			},
		},
		{
			name: "token secret before the backend update, backend before its secrets",
			desired: set([]manifest.Backend{kv("bao", "https://bao2", withToken("bao-token", "token"))},
				sec("bao-token", "", env("token")), sec("openai", "bao", env("API_KEY"))),
			fp: ptr(fps([]string{"bao-token", "openai"}, "bao-token", "openai")),
			snap: snapshot([]state.Backend{kvRowToken("bao", "https://bao", 2, "bao-token", "token")},
				row("bao-token", "default", 1, 1, true, "token"), row("openai", "bao", 1, 1, true, "API_KEY")),
			want: []act{
				{ID: "secret/bao-token", Action: Write},
				{ID: "secretbackend/bao", Action: Update, Deps: []string{"secret/bao-token"}, Reason: "config (url)"},
				{ID: "secret/openai", Action: Write, Deps: []string{"secretbackend/bao"}},
			},
		},
		{
			name: "credential cycle on one backend",
			desired: set([]manifest.Backend{kv("bao", "https://bao", withToken("bao-token", "token"))},
				sec("bao-token", "bao", env("token"))),
			snap: snapshot(nil),
			want: []act{
				{ID: "secretbackend/bao", Action: Create, Deps: []string{"secret/bao-token"}},
				{ID: "secret/bao-token", Action: Create, Deps: []string{"secretbackend/bao"}},
			},
			wantProblems: []string{"dependency cycle: bao -> secret/bao-token -> bao"},
		},
		{
			name: "credential cycle through two backends",
			desired: set([]manifest.Backend{
				kv("bao", "https://bao", withToken("bao-token", "token")),
				kv("vault", "https://vault", withToken("vault-token", "token")),
			}, sec("bao-token", "vault", env("token")), sec("vault-token", "bao", env("token"))),
			snap: snapshot([]state.Backend{kvRowToken("bao", "https://bao", 1, "bao-token", "token"), kvRowToken("vault", "https://vault", 1, "vault-token", "token")},
				row("bao-token", "vault", 1, 1, true, "token"), row("vault-token", "bao", 1, 1, true, "token")),
			want:         []act{},
			wantProblems: []string{"dependency cycle: bao -> secret/bao-token -> vault -> secret/vault-token -> bao"},
		},
		{
			name:    "unmanaged rows without --prune",
			desired: set(nil, sec("keep", "")),
			snap: snapshot([]state.Backend{kvRow("old", "https://old", 1)},
				row("keep", "default", 1, 1, false), row("x", "default", 1, 1, false)),
			want: []act{},
			wantFindings: []Finding{
				{Type: Unmanaged, Kind: KindSecretBackend, Name: "old", Reason: "in state, not declared in any manifest (plan with --prune to delete it)"},
				{Type: Unmanaged, Kind: KindSecret, Name: "x", Backend: "default", Reason: "in state, not declared in any manifest (plan with --prune to delete it)"},
			},
		},
		{
			name:    "prune with a selector deletes only what it selects",
			desired: set(nil, sec("keep", "")),
			snap: snapshot(nil, row("keep", "default", 1, 1, false),
				labelled(row("x", "default", 7, 2, false, "A"), "team", "a"), labelled(row("y", "default", 1, 1, false), "team", "b"), row("z", "default", 1, 1, false)),
			opts: Options{Prune: true, Selector: Selector{{Key: "team", Value: "a"}}},
			want: []act{
				{ID: "secret/x", Action: Delete, Reason: "not declared in any manifest; selected by --prune -l team=a"},
			},
			wantFindings: []Finding{
				{Type: Unmanaged, Kind: KindSecret, Name: "y", Backend: "default", Reason: "in state, not declared in any manifest; not selected by -l team=a"},
				{Type: Unmanaged, Kind: KindSecret, Name: "z", Backend: "default", Reason: "in state, not declared in any manifest; not selected by -l team=a"},
			},
			check: func(t *testing.T, p *Plan) {
				want := Precondition{RowGeneration: 7, ObjectBackend: "default", ObjectState: "present", ObjectVersion: 2}
				if diff := cmp.Diff(want, p.Actions[0].Precondition); diff != "" {
					t.Errorf("precondition (-want +got):\n%s", diff)
				}
			},
		},
		{
			name:    "protected rows cannot be pruned",
			desired: set(nil, sec("keep", "")),
			snap: snapshot([]state.Backend{func() state.Backend { b := kvRow("old", "https://old", 1); b.Protected = true; return b }()},
				row("keep", "default", 1, 1, false), protectedRow(row("x", "default", 1, 1, false))),
			opts: Options{Prune: true},
			want: []act{
				{ID: "secret/x", Action: Delete},
				{ID: "secretbackend/old", Action: Delete},
			},
			wantProblems: []string{
				"secret/x is protected (mcpctl/prevent-destroy) and cannot be deleted",
				"secretbackend/old is protected (mcpctl/prevent-destroy) and cannot be deleted",
			},
		},
		{
			name:         "mass-delete guard",
			desired:      set(nil, sec("keep", "")),
			snap:         snapshot(nil, append([]state.Secret{row("keep", "default", 1, 1, false)}, numberedRows(11)...)...),
			opts:         Options{Prune: true},
			want:         deletes(11),
			wantProblems: []string{"the plan deletes 11 resources, more than --max-deletes 10 (secret/d01, secret/d02, secret/d03, secret/d04, secret/d05 and 6 more)"},
		},
		{
			name:         "mass-delete guard lifted",
			desired:      set(nil, sec("keep", "")),
			snap:         snapshot(nil, append([]state.Secret{row("keep", "default", 1, 1, false)}, numberedRows(11)...)...),
			opts:         Options{Prune: true, AllowMassDelete: true},
			want:         deletes(11),
			wantWarnings: []string{"the plan deletes 11 resources, more than --max-deletes 10 (allowed by --allow-mass-delete)"},
		},
		{
			name:         "max deletes raised",
			desired:      set(nil, sec("keep", "")),
			snap:         snapshot(nil, append([]state.Secret{row("keep", "default", 1, 1, false)}, numberedRows(11)...)...),
			opts:         Options{Prune: true, MaxDeletes: 11},
			want:         deletes(11),
			wantWarnings: []string{},
		},
		{
			name:         "deleting everything is refused",
			desired:      set([]manifest.Backend{plain("default", true)}),
			snap:         snapshot(nil, numberedRows(2)...),
			opts:         Options{Prune: true},
			want:         deletes(2),
			wantProblems: []string{"the plan deletes every resource in state (2); pass --allow-mass-delete"},
		},
		{
			name:    "empty manifest set is refused",
			desired: set(nil),
			snap:    snapshot(nil, numberedRows(1)...),
			opts:    Options{Prune: true},
			want:    deletes(1),
			wantProblems: []string{
				"the manifest set is empty: refusing to plan",
				"the plan deletes every resource in state (1)",
			},
		},
		{
			name:    "empty manifest set allowed",
			desired: set(nil),
			snap:    snapshot(nil, numberedRows(1)...),
			opts:    Options{Prune: true, AllowMassDelete: true},
			want:    deletes(1),
			wantWarnings: []string{
				"the manifest set is empty; planning anyway because of --allow-mass-delete",
				"the plan deletes every resource in state (allowed by --allow-mass-delete)",
			},
		},
		{
			name:    "soft-deleted and destroyed objects: repair managed, lost unmanaged",
			desired: set(nil, sec("m", "", env("K")), sec("u", "")),
			snap: withObjects(snapshot(nil, row("m", "default", 2, 3, true, "K"), row("u", "default", 1, 4, false, "A")),
				map[string]ObjectStatus{"m": objState("default", drivers.SoftDeleted, 3, "id-m"), "u": objState("default", drivers.Destroyed, 4, "id-u")}),
			want: []act{
				{ID: "secret/m", Action: Repair, Reason: "the object on default is soft-deleted (the row records version 3); writes the managed values again"},
			},
			wantFindings: []Finding{
				{Type: Lost, Kind: KindSecret, Name: "u", Backend: "default", Reason: "the row points at an object that is destroyed on default and the values are not managed"},
			},
			wantProblems: []string{"secret/u is lost: its object on default is destroyed"},
			check: func(t *testing.T, p *Plan) {
				a := p.Actions[0]
				if a.Values == nil || a.Precondition.Fingerprint != fpOf("m") || a.Values.Fingerprint != fpOf("m") || a.Precondition.ObjectState != "soft-deleted" {
					t.Errorf("repair must carry the value sources and fingerprint: %+v %+v", a.Values, a.Precondition)
				}
			},
		},
		{
			name:    "absent object of a managed secret is repaired",
			desired: set(nil, sec("m", "", env("K"))),
			snap: withObjects(snapshot(nil, row("m", "default", 2, 3, true, "K")),
				map[string]ObjectStatus{"m": objState("default", drivers.Absent, 0, "")}),
			want: []act{{ID: "secret/m", Action: Repair, Reason: "is absent"}},
		},
		{
			name:    "drift: unmanaged rows record it, managed values are written back",
			desired: set(nil, sec("u", ""), sec("m", "", env("K"))),
			snap: withObjects(snapshot(nil, row("u", "default", 1, 3, false, "A"), row("m", "default", 1, 2, true, "K")),
				map[string]ObjectStatus{"u": present("default", 5, "id-u", "A", "B"), "m": present("default", 4, "id-m", "K")}),
			want: []act{
				{ID: "secret/m", Action: Write, Reason: "changed outside mcpctl (backend object version 2 → 4); writes the managed values back"},
				{ID: "secret/u", Action: Update, Reason: "records the object changed outside mcpctl (backend object version 3 → 5, keys +B)"},
			},
			wantFindings: []Finding{
				{Type: Drift, Kind: KindSecret, Name: "m", Backend: "default", Reason: "changed outside mcpctl: backend object version 2 → 4"},
				{Type: Drift, Kind: KindSecret, Name: "u", Backend: "default", Reason: "changed outside mcpctl: backend object version 3 → 5, keys +B"},
			},
			check: func(t *testing.T, p *Plan) {
				u, _ := p.Action("secret/u")
				if u.After.Version != 5 || !cmp.Equal(u.After.Keys, []string{"A", "B"}) || u.Precondition.ObjectVersion != 5 {
					t.Errorf("update must record the observed object: after %+v pre %+v", u.After, u.Precondition)
				}
			},
		},
		{
			name:    "write: values differ, values become managed",
			desired: set(nil, sec("m", "", env("K")), sec("n", "", env("K"))),
			fp:      ptr(fps([]string{"m", "n"}, "m")),
			snap:    snapshot(nil, row("m", "default", 1, 1, true, "K"), row("n", "default", 1, 1, false, "K")),
			want: []act{
				{ID: "secret/m", Action: Write, Reason: "managed values differ from the last apply (fingerprint)"},
				{ID: "secret/n", Action: Write, Reason: "values become managed (spec.data declared)"},
			},
		},
		{
			// c drops spec.data and nothing else: no change (get -o yaml
			// prints no values; its output must plan as no change). d drops
			// it along with a label change: the update also clears managed.
			name:    "secret row fields: labels, protection, values no longer managed",
			desired: set(nil, sec("a", "", sLabels("team", "x")), sec("b", "", sProtected()), sec("c", ""), sec("d", "", sLabels("team", "y"))),
			snap:    snapshot(nil, row("a", "default", 1, 1, false), row("b", "default", 1, 1, false), row("c", "default", 1, 1, true, "K"), row("d", "default", 1, 1, true, "K")),
			want: []act{
				{ID: "secret/a", Action: Update, Reason: "differs from state: labels"},
				{ID: "secret/b", Action: Update, Reason: "differs from state: annotations; becomes protected (mcpctl/prevent-destroy)"},
				{ID: "secret/d", Action: Update, Reason: "differs from state: labels; values no longer managed (spec.data removed)"},
			},
		},
		{
			name:    "unknown fingerprints are reported, never guessed",
			desired: set([]manifest.Backend{kv("bao", "https://bao")}, sec("m", "", env("K")), sec("mv", "bao", env("K")), sec("n", "", env("K"))),
			fp:      &unknown,
			snap: snapshot([]state.Backend{kvRow("bao", "https://bao", 1)},
				row("m", "default", 1, 1, true, "K"), row("mv", "default", 1, 1, true, "K"), row("n", "default", 1, 1, false, "K")),
			want: []act{
				{ID: "secret/mv", Action: Migrate, Reason: "spec.backend is bao; it lives on default"},
				{ID: "secret/n", Action: Write, Reason: "values become managed"},
			},
			wantFindings: []Finding{
				{Type: Unknown, Kind: KindSecret, Name: "m", Backend: "default", Reason: "managed values cannot be compared: this database role may not read the fingerprint key (viewer role)"},
				{Type: Unknown, Kind: KindSecret, Name: "mv", Backend: "default", Reason: "managed values cannot be compared: this database role may not read the fingerprint key (viewer role)"},
			},
			check: func(t *testing.T, p *Plan) {
				n, _ := p.Action("secret/n")
				if n.Values == nil || n.Values.Fingerprint != "" || n.Precondition.Fingerprint != "" {
					t.Errorf("a write planned without the key carries sources and no fingerprint: %+v", n.Values)
				}
			},
		},
		{
			name:    "migrating off a pruned backend runs before its delete",
			desired: set(nil, sec("a", "")),
			snap:    snapshot([]state.Backend{kvRow("old", "https://old", 4)}, row("a", "old", 1, 1, false, "K")),
			opts:    Options{Prune: true},
			want: []act{
				{ID: "secret/a", Action: Migrate, Reason: "names no backend, so it belongs on the default backend default; it lives on old"},
				{ID: "secretbackend/old", Action: Delete, Deps: []string{"secret/a"}},
			},
		},
		{
			name:    "a backend secrets stay on cannot be deleted",
			desired: set(nil, sec("keep", "")),
			snap: snapshot([]state.Backend{func() state.Backend {
				b := kvRow("old", "https://old", 1)
				b.Labels = map[string]string{"team": "a"}
				return b
			}()},
				row("keep", "default", 1, 1, false), row("x", "old", 1, 1, false)),
			opts: Options{Prune: true, Selector: Selector{{Key: "team", Value: "a"}}},
			want: []act{{ID: "secretbackend/old", Action: Delete}},
			wantFindings: []Finding{
				{Type: Unmanaged, Kind: KindSecret, Name: "x", Backend: "old", Reason: "in state, not declared in any manifest; not selected by -l team=a"},
			},
			wantProblems: []string{"secretbackend/old cannot be deleted: 1 secret(s) stay on it (x)"},
		},
		{
			name:         "a credential secret cannot be pruned while its backend stays",
			desired:      set([]manifest.Backend{kv("bao", "https://bao", withToken("bao-token", "token"))}),
			snap:         snapshot([]state.Backend{kvRowToken("bao", "https://bao", 1, "bao-token", "token")}, row("bao-token", "default", 1, 1, true, "token")),
			opts:         Options{Prune: true},
			want:         []act{{ID: "secret/bao-token", Action: Delete}},
			wantProblems: []string{"secret/bao-token cannot be deleted: backend bao takes its credential from it"},
		},
		{
			name:         "pruned backend and its credential secret: the secret goes last",
			desired:      set(nil, sec("keep", "")),
			snap:         snapshot([]state.Backend{kvRowToken("bao", "https://bao", 1, "bao-token", "token")}, row("keep", "default", 1, 1, false), row("bao-token", "default", 1, 1, true, "token")),
			opts:         Options{Prune: true},
			want:         []act{{ID: "secretbackend/bao", Action: Delete}, {ID: "secret/bao-token", Action: Delete, Deps: []string{"secretbackend/bao"}}},
			wantProblems: nil,
		},
		{
			name:         "credential secret missing or without the key",
			desired:      set([]manifest.Backend{kv("bao", "https://bao", withToken("nope", "token")), kv("vault", "https://vault", withToken("vt", "token"))}, sec("vt", "", env("other"))),
			snap:         snapshot(nil),
			want:         []act{{ID: "secretbackend/bao", Action: Create}, {ID: "secret/vt", Action: Create}, {ID: "secretbackend/vault", Action: Create, Deps: []string{"secret/vt"}}},
			wantProblems: []string{`secretbackend/bao: its credential secret "nope" (tokenSecretRef) is neither declared nor in state`, `secretbackend/vault: its credential secret vt has no key "token" (keys: other)`},
		},
		{
			name:         "unknown backend reference",
			desired:      set(nil, sec("a", "nope")),
			snap:         snapshot(nil),
			want:         []act{},
			wantProblems: []string{`secret/a (secrets.yaml:3): backend "nope" is neither declared nor in state`},
		},
		{
			name:    "unobservable objects are one problem per backend",
			desired: set([]manifest.Backend{kv("bao", "https://bao")}, sec("a", "bao"), sec("b", "bao")),
			snap: withObjects(snapshot([]state.Backend{kvRow("bao", "https://bao", 1)}, row("a", "bao", 1, 1, false), row("b", "bao", 1, 1, false)),
				map[string]ObjectStatus{"a": {Backend: "bao", Err: "connection refused"}, "b": {Backend: "bao", Err: "connection refused"}}),
			want:         []act{},
			wantProblems: []string{"backend bao: cannot observe 2 object(s) (a, b): connection refused"},
		},
		{
			name:    "create over an existing object: adopt unmanaged, refuse foreign for managed, replace deleted leftovers",
			desired: set(nil, sec("adopt", ""), sec("foreign", "", env("K")), sec("reuse", "", env("K"))),
			snap: withTargets(snapshot(nil), map[string]ObjectStatus{
				"adopt":   present("default", 7, "", "A"),
				"foreign": present("default", 2, ""),
				"reuse":   objState("default", drivers.SoftDeleted, 3, "id-old"),
			}),
			want: []act{
				{ID: "secret/adopt", Action: Create, Reason: "values unmanaged: adopts the existing object on default (version 7)"},
				{ID: "secret/foreign", Action: Create},
				{ID: "secret/reuse", Action: Create, Reason: "replaces the soft-deleted object left on default by an earlier secret of that name (version 3)"},
			},
			wantProblems: []string{"secret/foreign: backend default already holds an object at its location that mcpctl did not write (version 2)"},
			check: func(t *testing.T, p *Plan) {
				a, _ := p.Action("secret/adopt")
				if !a.Adopt || !cmp.Equal(a.After.Keys, []string{"A"}) || a.Precondition.ObjectVersion != 7 {
					t.Errorf("adopt: %+v %+v", a.After, a.Precondition)
				}
			},
		},
		{
			name:    "migrate to a destination holding a foreign object is refused",
			desired: set([]manifest.Backend{kv("bao", "https://bao")}, sec("a", "bao")),
			snap: withTargets(snapshot([]state.Backend{kvRow("bao", "https://bao", 1)}, row("a", "default", 1, 1, false, "K")),
				map[string]ObjectStatus{"a": present("bao", 9, "someone-else")}),
			want:         []act{{ID: "secret/a", Action: Migrate}},
			wantProblems: []string{"secret/a: backend bao already holds an object at its location that this secret does not own (present, version 9)"},
		},
		{
			name:    "migrate also writes values that differ",
			desired: set([]manifest.Backend{kv("bao", "https://bao")}, sec("a", "bao", env("K"))),
			fp:      ptr(fps([]string{"a"}, "a")),
			snap:    snapshot([]state.Backend{kvRow("bao", "https://bao", 1)}, row("a", "default", 1, 1, true, "K")),
			want:    []act{{ID: "secret/a", Action: Migrate, Reason: "the managed values also differ, so they are written at bao instead of copied"}},
			check: func(t *testing.T, p *Plan) {
				if a := p.Actions[0]; a.Values == nil || a.Values.Fingerprint != fpOf("a changed") {
					t.Errorf("values %+v", a.Values)
				}
			},
		},
		{
			name:    "migrate of a lost unmanaged secret is refused",
			desired: set([]manifest.Backend{kv("bao", "https://bao")}, sec("a", "bao")),
			snap: withObjects(snapshot([]state.Backend{kvRow("bao", "https://bao", 1)}, row("a", "default", 1, 1, false, "K")),
				map[string]ObjectStatus{"a": objState("default", drivers.Absent, 0, "")}),
			want:         []act{},
			wantFindings: []Finding{{Type: Lost, Kind: KindSecret, Name: "a", Backend: "default", Reason: "the row points at an object that is absent on default and the values are not managed"}},
			wantProblems: []string{"secret/a is lost: its object on default is absent and the manifest does not manage its values, so it cannot be moved to bao"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runCompute(t, tc)
		})
	}
}

func TestComputeLeftovers(t *testing.T) {
	t.Parallel()
	journal := []state.Migration{
		{ID: 1, SecretID: "id-f", SecretName: "f", FromBackend: "default", ToBackend: "bao", State: state.MigrationFlipped},
		{ID: 2, SecretID: "id-p", SecretName: "p", FromBackend: "default", ToBackend: "bao", State: state.MigrationCleanupPending, Error: "timeout", DestroySource: true},
		{ID: 3, SecretID: "id-r", SecretName: "r", FromBackend: "default", ToBackend: "bao", State: state.MigrationStarted, SourceVersion: 1, DestVersion: 1},
		{ID: 4, SecretID: "id-g", SecretName: "g", FromBackend: "default", ToBackend: "bao", State: state.MigrationStarted},
		{ID: 5, SecretID: "id-h", SecretName: "h", FromBackend: "default", ToBackend: "bao", State: state.MigrationStarted},
		{ID: 6, SecretID: "id-k", SecretName: "k", FromBackend: "default", ToBackend: "bao", State: state.MigrationFlipped, KeepSource: true},
		{ID: 7, SecretID: "id-b", SecretName: "b", FromBackend: "default", ToBackend: "bao", State: state.MigrationFlipped},
	}
	snap := snapshot([]state.Backend{kvRow("bao", "https://bao", 1)},
		row("f", "bao", 2, 1, false, "K"), row("p", "bao", 2, 1, false, "K"), row("r", "default", 1, 1, false, "K"),
		row("g", "default", 1, 1, false, "K"), row("k", "bao", 2, 1, false, "K"), row("b", "default", 3, 2, false, "K"))
	snap.OpenMigrations = journal
	snap.Leftovers = map[int64]ObjectStatus{
		1: present("default", 1, "id-f", "K"),
		2: present("default", 1, "id-p", "K"),
		3: present("bao", 1, "id-r", "K"),
		4: present("bao", 1, "id-g", "K"),
		5: objState("bao", drivers.Absent, 0, ""),
		6: present("default", 1, "id-k", "K"),
		7: present("default", 2, "id-b", "K"),
	}
	runCompute(t, computeCase{
		desired: set([]manifest.Backend{kv("bao", "https://bao")},
			sec("f", "bao"), sec("p", "bao"), sec("r", "bao"), sec("g", "default"), sec("k", "bao"), sec("b", "default")),
		snap: snap,
		want: []act{
			{ID: "secret/b:cleanup:7", Action: Cleanup, Reason: "the secret lives on default again, so only the journal entry is closed"},
			{ID: "secret/f:cleanup:1", Action: Cleanup, Reason: "migration #1 from default to bao flipped the row but did not remove the source copy; soft-deletes the copy on default"},
			{ID: "secret/g:cleanup:4", Action: Cleanup, Reason: "migration #4 from default to bao was interrupted before the flip and is no longer wanted (the secret is now placed on default); destroys the copy on bao"},
			{ID: "secret/h:cleanup:5", Action: Cleanup, Reason: "(the secret is no longer declared); the copy on bao is already gone, so only the journal entry is closed"},
			{ID: "secret/k:cleanup:6", Action: Cleanup, Reason: "the source is kept (--keep-source), so only the journal entry is closed"},
			{ID: "secret/p:cleanup:2", Action: Cleanup, Reason: "did not remove the source copy (timeout); destroys the copy on default"},
			{ID: "secret/r", Action: Migrate, Reason: "resumes migration #3 interrupted before the flip; the destination already holds a copy from an interrupted run (version 1)"},
		},
		check: func(t *testing.T, p *Plan) {
			f, _ := p.Action("secret/f:cleanup:1")
			wantF := Action{
				ID: "secret/f:cleanup:1", Kind: KindSecret, Name: "f", Action: Cleanup,
				Reason: f.Reason,
				Before: &Summary{Backend: "bao", Keys: []string{"K"}, Version: 1},
				Precondition: Precondition{RowGeneration: 2, ObjectBackend: "default", ObjectState: "present", ObjectVersion: 1,
					JournalID: 1, JournalState: "flipped"},
				Cleanup: &CleanupStep{JournalID: 1, JournalState: "flipped", From: "default", To: "bao", Backend: "default",
					Copy: SourceCopy, OwnerID: "id-f", DeleteObject: true},
			}
			if diff := cmp.Diff(&wantF, f, planCmp...); diff != "" {
				t.Errorf("cleanup (-want +got):\n%s", diff)
			}
			r, _ := p.Action("secret/r")
			wantStep := &MigrationStep{From: "default", To: "bao", JournalID: 3, DestinationHasCopy: true, DestinationState: "present", DestinationVersion: 1}
			if diff := cmp.Diff(wantStep, r.Migration); diff != "" {
				t.Errorf("resumed migration (-want +got):\n%s", diff)
			}
			if r.Precondition.JournalID != 3 || r.Precondition.JournalState != "started" {
				t.Errorf("resume precondition %+v", r.Precondition)
			}
			for id, del := range map[string]bool{"secret/b:cleanup:7": false, "secret/h:cleanup:5": false, "secret/k:cleanup:6": false, "secret/p:cleanup:2": true, "secret/g:cleanup:4": true} {
				a, _ := p.Action(id)
				if a.Cleanup.DeleteObject != del {
					t.Errorf("%s: DeleteObject %v, want %v", id, a.Cleanup.DeleteObject, del)
				}
			}
			if g, _ := p.Action("secret/g:cleanup:4"); !g.Cleanup.Destroy || g.Cleanup.Copy != DestinationCopy {
				t.Errorf("destination leftovers are destroyed: %+v", g.Cleanup)
			}
		},
	})
}

// TestComputeCleanupBeforeMove: a secret moving back to where its leftover
// is: the leftover is ours, so the move may overwrite it, and the cleanup of
// that leftover runs first (never after the move).
func TestComputeCleanupBeforeMove(t *testing.T) {
	t.Parallel()
	snap := snapshot([]state.Backend{kvRow("bao", "https://bao", 1)}, row("a", "bao", 2, 1, false, "K"))
	snap.OpenMigrations = []state.Migration{{ID: 9, SecretID: "id-a", SecretName: "a", FromBackend: "default", ToBackend: "bao", State: state.MigrationFlipped}}
	snap.Leftovers = map[int64]ObjectStatus{9: present("default", 1, "id-a", "K")}
	snap.Targets["a"] = present("default", 1, "id-a", "K")
	runCompute(t, computeCase{
		desired: set([]manifest.Backend{kv("bao", "https://bao")}, sec("a", "default")),
		snap:    snap,
		want: []act{
			{ID: "secret/a:cleanup:9", Action: Cleanup, Reason: "soft-deletes the copy on default"},
			{ID: "secret/a", Action: Migrate, Deps: []string{"secret/a:cleanup:9"}, Reason: "spec.backend is default; it lives on bao"},
		},
		check: func(t *testing.T, p *Plan) {
			m, _ := p.Action("secret/a")
			want := &MigrationStep{From: "bao", To: "default", DestinationState: "present", DestinationVersion: 1}
			if diff := cmp.Diff(want, m.Migration); diff != "" {
				t.Errorf("an old leftover is no copy to resume from (-want +got):\n%s", diff)
			}
		},
	})
}

func ptr[T any](v T) *T { return &v }

func numberedRows(n int) []state.Secret {
	var out []state.Secret
	for i := 1; i <= n; i++ {
		out = append(out, row(fmt.Sprintf("d%02d", i), "default", 1, 1, false))
	}
	return out
}

func deletes(n int) []act {
	var out []act
	for i := 1; i <= n; i++ {
		out = append(out, act{ID: fmt.Sprintf("secret/d%02d", i), Action: Delete})
	}
	return out
}

func withObjects(s *Snapshot, objs map[string]ObjectStatus) *Snapshot {
	for k, v := range objs {
		s.Objects[k] = v
	}
	return s
}

func withTargets(s *Snapshot, objs map[string]ObjectStatus) *Snapshot {
	for k, v := range objs {
		s.Targets[k] = v
	}
	return s
}
