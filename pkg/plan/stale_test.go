package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func TestStale(t *testing.T) {
	t.Parallel()
	desired := set([]manifest.Backend{kv("bao", "https://bao")},
		sec("openai", "bao", env("API_KEY")), sec("new", ""), sec("move", "bao"), sec("r", "bao"))
	base := func() *Snapshot {
		s := snapshot([]state.Backend{kvRow("bao", "https://bao2", 2)},
			row("openai", "bao", 4, 3, true, "API_KEY"), row("move", "default", 1, 1, false, "K"),
			row("r", "default", 1, 1, false, "K"), row("gone", "default", 1, 1, false))
		s.OpenMigrations = []state.Migration{{ID: 7, SecretID: "id-r", SecretName: "r", FromBackend: "default", ToBackend: "bao", State: state.MigrationStarted}}
		s.Leftovers = map[int64]ObjectStatus{7: present("bao", 1, "id-r", "K")}
		s.Targets["move"] = objState("bao", drivers.Absent, 0, "")
		return s
	}
	p, err := Compute(desired, fps([]string{"openai"}, "openai"), base(), testOpts(Options{Prune: true}))
	if err != nil {
		t.Fatalf("%v\n%s", err, dump(p))
	}
	if moved := Stale(p, base()); len(moved) != 0 {
		t.Fatalf("a fresh snapshot makes the plan stale: %v", moved)
	}

	now := base()
	now.Backends[1].Generation = 3 // secretbackend/bao updated by someone
	now.Secrets[0].Generation = 5  // secret/openai row changed
	now.Objects["openai"] = present("bao", 5, "id-openai", "API_KEY")
	now.Secrets = append(now.Secrets, row("new", "default", 1, 1, false)) // created meanwhile
	now.Secrets = slicesDelete(now.Secrets, "gone")                       // deleted meanwhile
	now.Targets["move"] = present("bao", 1, "id-move", "K")               // someone started moving it
	now.OpenMigrations = []state.Migration{
		{ID: 7, SecretID: "id-r", SecretName: "r", FromBackend: "default", ToBackend: "bao", State: state.MigrationFlipped},
		{ID: 8, SecretID: "id-move", SecretName: "move", FromBackend: "default", ToBackend: "bao", State: state.MigrationStarted},
	}
	now.Leftovers = map[int64]ObjectStatus{7: present("bao", 2, "id-r", "K")}

	want := []Moved{
		{ActionID: "secretbackend/bao", Resource: "secretbackend/bao", What: "row generation 2 → 3"},
		{ActionID: "secret/gone", Resource: "secret/gone", What: "row deleted"},
		{ActionID: "secret/move", Resource: "secret/move", What: "destination object absent → present"},
		{ActionID: "secret/move", Resource: "secret/move", What: "migration #8 opened (default → bao, started)"},
		{ActionID: "secret/new", Resource: "secret/new", What: "row created"},
		{ActionID: "secret/openai", Resource: "secret/openai", What: "row generation 4 → 5"},
		{ActionID: "secret/openai", Resource: "secret/openai", What: "backend object version 3 → 5"},
		{ActionID: "secret/r", Resource: "secret/r", What: "destination object version 1 → 2"},
		{ActionID: "secret/r", Resource: "secret/r", What: "migration #7 started → flipped"},
	}
	got := Stale(p, now)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stale (-want +got):\n%s\nplan:\n%s", diff, dump(p))
	}
	if s := got[0].String(); s != "secretbackend/bao: row generation 2 → 3" {
		t.Errorf("String() = %q", s)
	}
}

func TestStaleObjectState(t *testing.T) {
	t.Parallel()
	desired := set(nil, sec("m", "", env("K")))
	snap := snapshot(nil, row("m", "default", 1, 1, true, "K"))
	p, err := Compute(desired, fps([]string{"m"}, "m"), snap, testOpts(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	now := snapshot(nil, row("m", "default", 1, 1, true, "K"))
	now.Objects["m"] = objState("default", drivers.SoftDeleted, 1, "id-m")
	got := Stale(p, now)
	want := []Moved{{ActionID: "secret/m", Resource: "secret/m", What: "backend object present → soft-deleted"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stale (-want +got):\n%s", diff)
	}
	now.Objects["m"] = ObjectStatus{Backend: "default", Err: "connection refused"}
	if got := Stale(p, now); len(got) != 1 || got[0].What != "backend object on default cannot be observed: connection refused" {
		t.Errorf("unobservable object: %v", got)
	}
}

func TestStaleClosedJournal(t *testing.T) {
	t.Parallel()
	snap := snapshot(nil, row("a", "default", 2, 1, false, "K"))
	snap.Backends = append(snap.Backends, kvRow("bao", "https://bao", 1))
	snap.OpenMigrations = []state.Migration{{ID: 3, SecretID: "id-a", SecretName: "a", FromBackend: "bao", ToBackend: "default", State: state.MigrationFlipped}}
	snap.Leftovers = map[int64]ObjectStatus{3: present("bao", 1, "id-a", "K")}
	p, err := Compute(set([]manifest.Backend{kv("bao", "https://bao")}, sec("a", "")), Fingerprints{}, snap, testOpts(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	now := snapshot(nil, row("a", "default", 2, 1, false, "K"))
	now.Backends = append(now.Backends, kvRow("bao", "https://bao", 1))
	now.Leftovers = map[int64]ObjectStatus{}
	want := []Moved{{ActionID: "secret/a:cleanup:3", Resource: "secret/a", What: "migration #3 closed"}}
	if diff := cmp.Diff(want, Stale(p, now)); diff != "" {
		t.Errorf("Stale (-want +got):\n%s", diff)
	}
}

func slicesDelete(rows []state.Secret, name string) []state.Secret {
	var out []state.Secret
	for _, r := range rows {
		if r.Name != name {
			out = append(out, r)
		}
	}
	return out
}
