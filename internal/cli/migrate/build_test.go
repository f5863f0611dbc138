package migrate

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao" // config validation for credential edges
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func baoConfig(tokenSecret string) json.RawMessage {
	return json.RawMessage(`{"url":"https://bao.invalid:8200","auth":{"method":"token","tokenSecretRef":{"name":"` + tokenSecret + `","key":"token"}}}`)
}

// world is a snapshot: the plaintext default holding bao's token, bao and
// bao2 (whose token lives on bao), and a few secrets.
func world() *planpkg.Snapshot {
	snap := &planpkg.Snapshot{
		Initialized: true,
		Backends: []state.Backend{
			{Name: "bao", Type: "openbao", Config: baoConfig("bao-token"), Generation: 1},
			{Name: "bao2", Type: "openbao", Config: baoConfig("bao2-token"), Generation: 1},
			{Name: "default", Type: "plaintext", IsDefault: true, Generation: 1},
		},
		Objects:   map[string]planpkg.ObjectStatus{},
		Targets:   map[string]planpkg.ObjectStatus{},
		Leftovers: map[int64]planpkg.ObjectStatus{},
	}
	add := func(name, backend string, gen int64) {
		snap.Secrets = append(snap.Secrets, state.Secret{
			ID: "id-" + name, Name: name, BackendName: backend, Keys: []string{"K"}, BackendVersion: 3,
			Managed: true, Labels: map[string]string{"team": "a"}, Generation: gen,
		})
		snap.Objects[name] = planpkg.ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Present, Version: 3, Keys: []string{"K"}, OwnerID: "id-" + name}}
	}
	add("bao-token", "default", 1)
	add("bao2-token", "bao", 1)
	add("openai", "default", 4)
	add("github", "default", 2)
	add("elsewhere", "bao2", 1)
	return snap
}

func absent(backend string, names ...string) map[string]planpkg.ObjectStatus {
	m := map[string]planpkg.ObjectStatus{}
	for _, n := range names {
		m[n] = planpkg.ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Absent}}
	}
	return m
}

func problems(t *testing.T, err error) []string {
	t.Helper()
	var pe *planpkg.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want a *plan.Error", err)
	}
	return pe.Problems
}

func TestBuildMovesTheNamedSecrets(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	req := Request{From: "default", To: "bao", Names: []string{"openai", "github"}, KeepSource: true, Schema: "s", Now: now, PlanID: "p1"}
	p, err := Build(req, world(), absent("bao", "openai", "github"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Migrate != 2 || len(p.Actions) != 2 || p.DefaultBackend != "default" || p.Schema != "s" || !p.Options.KeepSource {
		t.Fatalf("plan = %+v", p)
	}
	want := planpkg.Action{
		ID: "secret/github", Kind: planpkg.KindSecret, Name: "github", Action: planpkg.Migrate,
		Reason: "mcpctl migrate secrets --from default --to bao",
		Before: &planpkg.Summary{Backend: "default", Keys: []string{"K"}, Managed: true, Version: 3, Labels: map[string]string{"team": "a"}},
		// Version 0: the flip records the destination's version, which the
		// row update after the move must not overwrite.
		After: &planpkg.Summary{Backend: "bao", Keys: []string{"K"}, Managed: true, Labels: map[string]string{"team": "a"}},
		Precondition: planpkg.Precondition{
			RowGeneration: 2, ObjectBackend: "default", ObjectState: "present", ObjectVersion: 3,
		},
		Migration: &planpkg.MigrationStep{From: "default", To: "bao", DestinationState: "absent", KeepSource: true},
	}
	if diff := cmp.Diff(want, p.Actions[0], cmp.AllowUnexported(planpkg.ManagedValues{})); diff != "" {
		t.Errorf("first action (-want +got):\n%s", diff)
	}
	if p.Actions[1].Name != "openai" || p.Actions[1].Precondition.RowGeneration != 4 {
		t.Errorf("second action = %+v", p.Actions[1])
	}
	// The plan is one apply can load back: it validates as a saved plan.
	var buf strings.Builder
	if err := planpkg.Save(&buf, p); err != nil {
		t.Fatal(err)
	}
	if _, err := planpkg.Load(strings.NewReader(buf.String())); err != nil {
		t.Errorf("the built plan does not load: %v", err)
	}
}

func TestBuildSelectsEverythingOnFromAndSkipsWhatMoved(t *testing.T) {
	snap := world()
	// Everything on bao2 (one secret) to default.
	p, err := Build(Request{From: "bao2", To: "default"}, snap, absent("default", "elsewhere"))
	if err != nil || len(p.Actions) != 1 || p.Actions[0].Name != "elsewhere" {
		t.Fatalf("plan %+v, err %v", p, err)
	}
	// A named secret already on --to is a no-op (a rerun), not an error.
	p, err = Build(Request{From: "bao", To: "bao2", Names: []string{"elsewhere"}}, snap, nil)
	if err != nil || p.HasChanges() {
		t.Fatalf("rerun: plan %+v, err %v", p.Actions, err)
	}
}

func TestBuildListsEveryProblem(t *testing.T) {
	snap := world()
	snap.Objects["github"] = planpkg.ObjectStatus{Backend: "default", Meta: drivers.Meta{State: drivers.Absent}}
	snap.OpenMigrations = []state.Migration{{ID: 7, SecretName: "openai", FromBackend: "bao", ToBackend: "default", State: state.MigrationFlipped}}
	dest := absent("bao", "github", "openai", "bao-token")
	dest["bao-token"] = planpkg.ObjectStatus{Backend: "bao", Meta: drivers.Meta{State: drivers.Present, Version: 2}}
	req := Request{From: "default", To: "bao", Names: []string{"openai", "github", "bao-token", "nope", "elsewhere"}}
	p, err := Build(req, snap, dest)
	got := problems(t, err)
	// Names first, then per secret in name order, then credential cycles.
	want := []string{
		"secret/nope does not exist",
		"secret/elsewhere lives on bao2, not on default",
		"secret/bao-token: backend bao already holds an object at its location that this secret does not own (present, version 2); move or delete it before migrating",
		"secret/github: its object on default is absent, so there is nothing to move; restore it in the backend first (e.g. `vault kv undelete`), or apply manifests that manage its values",
		"secret/openai has an unfinished migration #7 (bao → default, flipped); finish or clean it up first with `mcpctl apply -f MANIFESTS`",
		"the move would make secretbackend/bao depend on itself for its credentials (secretbackend/bao → secret/bao-token on bao); keep them on a backend that does not depend on bao",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if p == nil {
		t.Fatal("no plan returned with the problems")
	}
}

func TestBuildRefusesATransitiveCredentialCycle(t *testing.T) {
	// bao2's token lives on bao; moving bao's token onto bao2 closes
	// bao → bao-token on bao2 → bao2-token on bao.
	_, err := Build(Request{From: "default", To: "bao2", Names: []string{"bao-token"}}, world(), absent("bao2", "bao-token"))
	got := problems(t, err)
	if len(got) != 2 {
		t.Fatalf("problems = %q, want the cycle seen from bao and from bao2", got)
	}
	if !strings.Contains(got[0], "secretbackend/bao → secret/bao-token on bao2 → secret/bao2-token on bao") {
		t.Errorf("problem = %q", got[0])
	}
}

func TestBuildResumesAnInterruptedMoveOfTheSameKind(t *testing.T) {
	snap := world()
	snap.OpenMigrations = []state.Migration{{ID: 9, SecretName: "openai", SecretID: "id-openai", FromBackend: "default", ToBackend: "bao", State: state.MigrationStarted}}
	dest := map[string]planpkg.ObjectStatus{"openai": {Backend: "bao", Meta: drivers.Meta{State: drivers.Present, Version: 1, OwnerID: "id-openai"}}}
	p, err := Build(Request{From: "default", To: "bao", Names: []string{"openai"}}, snap, dest)
	if err != nil {
		t.Fatal(err)
	}
	a := p.Actions[0]
	if a.Migration.JournalID != 9 || !a.Migration.DestinationHasCopy || a.Precondition.JournalID != 9 || a.Precondition.JournalState != "started" {
		t.Errorf("action = %+v, migration %+v", a, a.Migration)
	}
	if !strings.Contains(a.Reason, "resumes migration #9") {
		t.Errorf("reason = %q", a.Reason)
	}
}

func TestSelectUnknownBackends(t *testing.T) {
	_, got := Select(Request{From: "nope", To: "gone"}, world())
	want := []string{`--from: secret backend "nope" does not exist`, `--to: secret backend "gone" does not exist`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
