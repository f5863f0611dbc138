package plan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func baoConfig(tokenSecret string) json.RawMessage {
	return json.RawMessage(`{"url":"https://bao.invalid:8200","auth":{"method":"token","tokenSecretRef":{"name":"` + tokenSecret + `","key":"token"}}}`)
}

// world is a snapshot: the plaintext default holding bao's token, bao and
// bao2 (whose token lives on bao), and a few secrets.
func migrationWorld() *Snapshot {
	snap := &Snapshot{
		Initialized: true,
		Backends: []state.Backend{
			{Name: "bao", Type: "openbao", Config: baoConfig("bao-token"), Generation: 1},
			{Name: "bao2", Type: "openbao", Config: baoConfig("bao2-token"), Generation: 1},
			{Name: "default", Type: "plaintext", IsDefault: true, Generation: 1},
		},
		Objects:   map[string]ObjectStatus{},
		Targets:   map[string]ObjectStatus{},
		Leftovers: map[int64]ObjectStatus{},
	}
	add := func(name, backend string, gen int64) {
		snap.Secrets = append(snap.Secrets, state.Secret{
			ID: "id-" + name, Name: name, BackendName: backend, Keys: []string{"K"}, BackendVersion: 3,
			Managed: true, Labels: map[string]string{"team": "a"}, Generation: gen,
		})
		snap.Objects[name] = ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Present, Version: 3, Keys: []string{"K"}, OwnerID: "id-" + name}}
	}
	add("bao-token", "default", 1)
	add("bao2-token", "bao", 1)
	add("openai", "default", 4)
	add("github", "default", 2)
	add("elsewhere", "bao2", 1)
	return snap
}

func absent(backend string, names ...string) map[string]ObjectStatus {
	m := map[string]ObjectStatus{}
	for _, n := range names {
		m[n] = ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Absent}}
	}
	return m
}

// buildWith is BuildMigration with dest as what ObserveMigration recorded.
func buildWith(req MigrationRequest, snap *Snapshot, dest map[string]ObjectStatus) (*Plan, error) {
	snap.Targets = dest
	return BuildMigration(req, snap)
}

func migrationProblems(t *testing.T, err error) []string {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v, want a *plan.Error", err)
	}
	return pe.Problems
}

func TestBuildMovesTheNamedSecrets(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	req := MigrationRequest{From: "default", To: "bao", Names: []string{"openai", "github"}, KeepSource: true, Schema: "s", Now: now, PlanID: "p1"}
	p, err := buildWith(req, migrationWorld(), absent("bao", "openai", "github"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Migrate != 2 || len(p.Actions) != 2 || p.DefaultBackend != "default" || p.Schema != "s" || !p.Options.KeepSource {
		t.Fatalf("plan = %+v", p)
	}
	want := Action{
		ID: "secret/github", Kind: KindSecret, Name: "github", Action: Migrate,
		Reason: "mcpctl migrate secrets --from default --to bao",
		Before: &Summary{Backend: "default", Keys: []string{"K"}, Managed: true, Version: 3, Labels: map[string]string{"team": "a"}},
		// Version 0: the flip records the destination's version, which the
		// row update after the move must not overwrite.
		After: &Summary{Backend: "bao", Keys: []string{"K"}, Managed: true, Labels: map[string]string{"team": "a"}},
		Precondition: Precondition{
			RowGeneration: 2, ObjectBackend: "default", ObjectState: "present", ObjectVersion: 3,
		},
		Migration: &MigrationStep{From: "default", To: "bao", DestinationState: "absent", KeepSource: true},
	}
	if diff := cmp.Diff(want, p.Actions[0], cmp.AllowUnexported(ManagedValues{})); diff != "" {
		t.Errorf("first action (-want +got):\n%s", diff)
	}
	if p.Actions[1].Name != "openai" || p.Actions[1].Precondition.RowGeneration != 4 {
		t.Errorf("second action = %+v", p.Actions[1])
	}
	// The plan is one apply can load back: it validates as a saved plan.
	var buf strings.Builder
	if err := Save(&buf, p); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(strings.NewReader(buf.String())); err != nil {
		t.Errorf("the built plan does not load: %v", err)
	}
}

func TestBuildSelectsEverythingOnFromAndSkipsWhatMoved(t *testing.T) {
	snap := migrationWorld()
	// Everything on bao2 (one secret) to default.
	p, err := buildWith(MigrationRequest{From: "bao2", To: "default"}, snap, absent("default", "elsewhere"))
	if err != nil || len(p.Actions) != 1 || p.Actions[0].Name != "elsewhere" {
		t.Fatalf("plan %+v, err %v", p, err)
	}
	// A named secret already on --to is a no-op (a rerun), not an error.
	p, err = buildWith(MigrationRequest{From: "bao", To: "bao2", Names: []string{"elsewhere"}}, snap, nil)
	if err != nil || p.HasChanges() {
		t.Fatalf("rerun: plan %+v, err %v", p.Actions, err)
	}
}

func TestBuildListsEveryProblem(t *testing.T) {
	snap := migrationWorld()
	snap.Objects["github"] = ObjectStatus{Backend: "default", Meta: drivers.Meta{State: drivers.Absent}}
	snap.OpenMigrations = []state.Migration{{ID: 7, SecretName: "openai", FromBackend: "bao", ToBackend: "default", State: state.MigrationFlipped}}
	dest := absent("bao", "github", "openai", "bao-token")
	dest["bao-token"] = ObjectStatus{Backend: "bao", Meta: drivers.Meta{State: drivers.Present, Version: 2}}
	req := MigrationRequest{From: "default", To: "bao", Names: []string{"openai", "github", "bao-token", "nope", "elsewhere"}}
	p, err := buildWith(req, snap, dest)
	got := migrationProblems(t, err)
	// Names first, then credential cycles, then per secret in name order.
	want := []string{
		"secret/nope does not exist",
		"secret/elsewhere lives on bao2, not on default",
		"the move would make secretbackend/bao depend on itself for its credentials (secretbackend/bao → secret/bao-token on bao); keep them on a backend that does not depend on bao",
		"secret/bao-token: backend bao already holds an object at its location that this secret does not own (present, version 2); move or delete it before migrating",
		"secret/github: its object on default is absent, so there is nothing to move; restore it in the backend first (e.g. `vault kv undelete`), or apply manifests that manage its values",
		"secret/openai has an unfinished migration #7 (bao → default, flipped); finish or clean it up first with `mcpctl apply -f MANIFESTS`",
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
	_, err := buildWith(MigrationRequest{From: "default", To: "bao2", Names: []string{"bao-token"}}, migrationWorld(), absent("bao2", "bao-token"))
	got := migrationProblems(t, err)
	if len(got) != 2 {
		t.Fatalf("problems = %q, want the cycle seen from bao and from bao2", got)
	}
	if !strings.Contains(got[0], "secretbackend/bao → secret/bao-token on bao2 → secret/bao2-token on bao") {
		t.Errorf("problem = %q", got[0])
	}
}

func TestBuildResumesAnInterruptedMoveOfTheSameKind(t *testing.T) {
	snap := migrationWorld()
	snap.OpenMigrations = []state.Migration{{ID: 9, SecretName: "openai", SecretID: "id-openai", FromBackend: "default", ToBackend: "bao", State: state.MigrationStarted}}
	dest := map[string]ObjectStatus{"openai": {Backend: "bao", Meta: drivers.Meta{State: drivers.Present, Version: 1, OwnerID: "id-openai"}}}
	p, err := buildWith(MigrationRequest{From: "default", To: "bao", Names: []string{"openai"}}, snap, dest)
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
	got := selectMigration(MigrationRequest{From: "nope", To: "gone"}, migrationWorld()).problems
	want := []string{`--from: secret backend "nope" does not exist`, `--to: secret backend "gone" does not exist`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestBuildSkipsTheCredentialsOfTheDestination(t *testing.T) {
	// Everything on default to bao: bao-token is bao's own token, so it
	// stays (a warning says why) and the rest moves.
	p, err := buildWith(MigrationRequest{From: "default", To: "bao"}, migrationWorld(), absent("bao", "github", "openai"))
	if err != nil {
		t.Fatal(err)
	}
	var moved []string
	for _, a := range p.Actions {
		moved = append(moved, a.Name)
	}
	if diff := cmp.Diff([]string{"github", "openai"}, moved); diff != "" {
		t.Errorf("moved (-want +got):\n%s", diff)
	}
	want := []string{"secret/bao-token is not moved: it stays on default because on bao it would make secretbackend/bao depend on itself for its credentials (secretbackend/bao → secret/bao-token on bao)"}
	if diff := cmp.Diff(want, p.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}

	// Naming it is an error naming the cycle.
	_, err = buildWith(MigrationRequest{From: "default", To: "bao", Names: []string{"bao-token", "openai"}}, migrationWorld(), absent("bao", "bao-token", "openai"))
	got := migrationProblems(t, err)
	if len(got) != 1 || !strings.Contains(got[0], "secretbackend/bao → secret/bao-token on bao") {
		t.Errorf("problems = %q", got)
	}
}

func TestBuildSkipsCredentialsThatWouldCloseACycleThroughAnotherBackend(t *testing.T) {
	// bao's token lives on bao2 and bao2's on default: moving everything on
	// default to bao would close bao2 → bao2-token on bao → bao-token on
	// bao2. bao2-token stays; the rest moves.
	snap := migrationWorld()
	for i := range snap.Secrets {
		switch snap.Secrets[i].Name {
		case "bao-token":
			snap.Secrets[i].BackendName = "bao2"
		case "bao2-token":
			snap.Secrets[i].BackendName = "default"
		}
	}
	p, err := buildWith(MigrationRequest{From: "default", To: "bao"}, snap, absent("bao", "github", "openai"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 2 || p.Actions[0].Name != "github" || p.Actions[1].Name != "openai" {
		t.Errorf("actions = %+v", p.Actions)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "secret/bao2-token is not moved") ||
		!strings.Contains(p.Warnings[0], "(secretbackend/bao → secret/bao-token on bao2 → secret/bao2-token on bao)") {
		t.Errorf("warnings = %q", p.Warnings)
	}
}

func TestBuildExcludes(t *testing.T) {
	p, err := buildWith(MigrationRequest{From: "default", To: "bao", Exclude: []string{"github"}}, migrationWorld(), absent("bao", "openai"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 1 || p.Actions[0].Name != "openai" {
		t.Errorf("actions = %+v", p.Actions)
	}
	// --exclude wins over --names; a name that does not exist is an error.
	p, err = buildWith(MigrationRequest{From: "default", To: "bao", Names: []string{"openai", "github"}, Exclude: []string{"openai"}}, migrationWorld(), absent("bao", "github"))
	if err != nil || len(p.Actions) != 1 || p.Actions[0].Name != "github" {
		t.Fatalf("plan %+v, err %v", p, err)
	}
	_, err = buildWith(MigrationRequest{From: "default", To: "bao", Exclude: []string{"nope"}}, migrationWorld(), absent("bao", "github", "openai"))
	if got := migrationProblems(t, err); len(got) != 1 || got[0] != "--exclude: secret/nope does not exist" {
		t.Errorf("problems = %q", got)
	}
}

// TestBuildRetriesAPendingSourceRemoval: a rerun of the same move after the
// flip plans the removal of the source copy the first run could not
// remove (journal cleanup-pending), instead of "No changes".
func TestBuildRetriesAPendingSourceRemoval(t *testing.T) {
	snap := migrationWorld()
	for i := range snap.Secrets {
		if snap.Secrets[i].Name == "github" {
			snap.Secrets[i].BackendName = "bao2"
		}
	}
	snap.OpenMigrations = []state.Migration{
		{ID: 4, SecretID: "id-github", SecretName: "github", FromBackend: "bao", ToBackend: "bao2", State: state.MigrationCleanupPending, Error: "403"},
		// Another move's leftover is not this command's business.
		{ID: 5, SecretID: "id-elsewhere", SecretName: "elsewhere", FromBackend: "default", ToBackend: "bao2", State: state.MigrationCleanupPending},
	}
	snap.Leftovers = map[int64]ObjectStatus{4: {Backend: "bao", Meta: drivers.Meta{State: drivers.Present, Version: 2, OwnerID: "id-github"}}}
	for _, req := range []MigrationRequest{
		{From: "bao", To: "bao2"},
		{From: "bao", To: "bao2", Names: []string{"github"}},
	} {
		p, err := buildWith(req, snap, nil)
		if err != nil {
			t.Fatal(err)
		}
		// bao2-token (on bao) is bao2's own token: not moved.
		if len(p.Actions) != 1 {
			t.Fatalf("%+v: actions = %+v", req, p.Actions)
		}
		var cleanup *Action
		for i := range p.Actions {
			if p.Actions[i].Action == Cleanup {
				cleanup = &p.Actions[i]
			}
		}
		if cleanup == nil || cleanup.ID != "secret/github:cleanup:4" || !cleanup.Cleanup.DeleteObject || cleanup.Cleanup.Backend != "bao" ||
			!strings.Contains(cleanup.Reason, "soft-deletes the copy on bao") {
			t.Errorf("%+v: cleanup = %+v", req, cleanup)
		}
		if p.Summary.Cleanup != 1 {
			t.Errorf("summary = %+v", p.Summary)
		}
	}
}

func TestBuildCleanupRemovesKeptCopies(t *testing.T) {
	snap := migrationWorld()
	for i := range snap.Secrets {
		if n := snap.Secrets[i].Name; n == "openai" || n == "github" {
			snap.Secrets[i].BackendName = "bao"
		}
	}
	snap.KeptCopies = []state.Migration{
		{ID: 2, SecretID: "id-openai", SecretName: "openai", FromBackend: "default", ToBackend: "bao", State: state.MigrationKept, KeepSource: true},
		{ID: 3, SecretID: "id-github", SecretName: "github", FromBackend: "default", ToBackend: "bao", State: state.MigrationKept, KeepSource: true},
	}
	snap.Leftovers = map[int64]ObjectStatus{
		2: {Backend: "default", Meta: drivers.Meta{State: drivers.Present, Version: 1, OwnerID: "id-openai"}},
		3: {Backend: "default", Meta: drivers.Meta{State: drivers.Present, Version: 1, OwnerID: "id-github"}},
	}
	// A move never removes kept copies.
	p, err := buildWith(MigrationRequest{From: "default", To: "bao", Names: []string{"openai"}}, snap, nil)
	if err != nil || p.HasChanges() {
		t.Fatalf("move: plan %+v, err %v", p.Actions, err)
	}
	p, err = BuildMigration(MigrationRequest{Cleanup: true, Exclude: []string{"github"}}, snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 1 {
		t.Fatalf("actions = %+v", p.Actions)
	}
	a := p.Actions[0]
	want := &CleanupStep{JournalID: 2, JournalState: "kept", From: "default", To: "bao", Backend: "default", Copy: SourceCopy, OwnerID: "id-openai", DeleteObject: true}
	if diff := cmp.Diff(want, a.Cleanup); diff != "" {
		t.Errorf("cleanup (-want +got):\n%s", diff)
	}
	if !strings.Contains(a.Reason, "kept the source copy (--keep-source); it is removed on request; soft-deletes the copy on default") {
		t.Errorf("reason = %q", a.Reason)
	}
	// --destroy-source destroys; --from narrows to copies on that backend.
	p, err = BuildMigration(MigrationRequest{Cleanup: true, DestroySource: true}, snap)
	if err != nil || len(p.Actions) != 2 || !p.Actions[0].Cleanup.Destroy {
		t.Fatalf("plan %+v, err %v", p.Actions, err)
	}
	p, err = BuildMigration(MigrationRequest{Cleanup: true, From: "bao"}, snap)
	if err != nil || p.HasChanges() {
		t.Fatalf("plan %+v, err %v", p.Actions, err)
	}
}

func TestComputeShowsKeptCopies(t *testing.T) {
	snap := migrationWorld()
	snap.KeptCopies = []state.Migration{{ID: 2, SecretID: "id-elsewhere", SecretName: "elsewhere", FromBackend: "default", ToBackend: "bao2", State: state.MigrationKept, KeepSource: true}}
	snap.Leftovers = map[int64]ObjectStatus{2: {Backend: "default", Meta: drivers.Meta{State: drivers.Present, Version: 1, OwnerID: "id-elsewhere"}}}
	c := newComputer(&manifest.Set{Secrets: []manifest.Secret{{Name: "x"}}}, Fingerprints{}, snap, Options{})
	c.planKept()
	want := []Finding{{Type: Kept, Kind: KindSecret, Name: "elsewhere", Backend: "default",
		Reason: "source copy kept by migration #2 to bao2 (--keep-source), version 1; remove it with `mcpctl migrate secrets --cleanup`"}}
	if diff := cmp.Diff(want, c.findings); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// Deleting a secret removes the source copies its --keep-source moves left
// (a kept copy without a row is a value nothing manages), before the row
// goes; a kept copy of another secret stays.
func TestDeleteRemovesKeptCopies(t *testing.T) {
	snap := migrationWorld()
	for i := range snap.Secrets {
		switch n := snap.Secrets[i].Name; n {
		case "openai", "github":
			snap.Secrets[i].BackendName = "bao"
		case "bao-token", "bao2-token":
			snap.Secrets[i].Keys = []string{"token"} // what the backends' configs name
		}
	}
	snap.KeptCopies = []state.Migration{
		{ID: 2, SecretID: "id-openai", SecretName: "openai", FromBackend: "default", ToBackend: "bao", State: state.MigrationKept, KeepSource: true},
		{ID: 3, SecretID: "id-github", SecretName: "github", FromBackend: "default", ToBackend: "bao", State: state.MigrationKept, KeepSource: true},
	}
	snap.Leftovers = map[int64]ObjectStatus{
		2: {Backend: "default", Meta: drivers.Meta{State: drivers.Present, Version: 1, OwnerID: "id-openai"}},
		3: {Backend: "default", Meta: drivers.Meta{State: drivers.Present, Version: 1, OwnerID: "id-github"}},
	}
	p, err := BuildChange(Change{Action: Delete, Kind: KindSecret, Name: "openai"}, Fingerprints{}, snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range p.Actions {
		ids = append(ids, a.ID)
	}
	if diff := cmp.Diff([]string{"secret/openai:cleanup:2", "secret/openai"}, ids); diff != "" {
		t.Fatalf("actions (-want +got):\n%s", diff)
	}
	cl, del := p.Actions[0], p.Actions[1]
	if !cl.Cleanup.DeleteObject || cl.Cleanup.Backend != "default" || cl.Cleanup.OwnerID != "id-openai" {
		t.Errorf("cleanup = %+v", cl.Cleanup)
	}
	if diff := cmp.Diff([]string{cl.ID}, del.Deps); diff != "" {
		t.Errorf("the delete must wait for the kept copy's removal (-want +got):\n%s", diff)
	}
}
