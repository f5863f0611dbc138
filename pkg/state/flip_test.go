package state_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// FlipSecret writes the row and the journal entry together, or neither.
func TestFlipSecretIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	if err := st.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}); err != nil {
		t.Fatal(err)
	}
	sec := &state.Secret{Name: "s", BackendName: "default", Data: map[string]string{"K": "v"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	j := &state.Migration{SecretID: sec.ID, SecretName: "s", FromBackendID: sec.BackendID, FromBackend: "default",
		ToBackend: "bao", State: state.MigrationStarted}
	bao, _ := st.GetBackend(ctx, "bao")
	j.ToBackendID = bao.ID
	if err := st.StartMigration(ctx, j); err != nil {
		t.Fatal(err)
	}

	// A stale generation: nothing changes, and the error says why.
	stale := *sec
	stale.Generation--
	stale.BackendID, stale.BackendName, stale.Data, stale.BackendVersion = bao.ID, "bao", nil, 4
	if err := st.FlipSecret(ctx, &stale, j.ID, 4, state.MigrationFlipped); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("flip at a stale generation: %v, want ErrConflict", err)
	}
	if got, _ := st.GetSecret(ctx, "s", true); got.BackendName != "default" || got.Data["K"] != "v" {
		t.Fatalf("row changed by a refused flip: %+v", got)
	}
	if open, _ := st.OpenMigrations(ctx); len(open) != 1 || open[0].State != state.MigrationStarted {
		t.Fatalf("journal changed by a refused flip: %+v", open)
	}

	flip := *sec
	flip.BackendID, flip.BackendName, flip.Data, flip.BackendVersion = bao.ID, "bao", nil, 4
	if err := st.FlipSecret(ctx, &flip, j.ID, 4, state.MigrationFlipped); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "s", true)
	if err != nil || got.BackendName != "bao" || got.Data != nil || got.BackendVersion != 4 || got.Generation != flip.Generation {
		t.Fatalf("after the flip: %+v %v (flip generation %d)", got, err, flip.Generation)
	}
	open, _ := st.OpenMigrations(ctx)
	if len(open) != 1 || open[0].State != state.MigrationFlipped || open[0].DestVersion != 4 {
		t.Fatalf("journal after the flip: %+v", open)
	}
}

// A flip that keeps the source copy (--keep-source) leaves the row's values
// in place, records the version of the object on the destination, and ends
// the entry kept: listed by KeptCopies, not by OpenMigrations (nothing
// resumes it).
func TestFlipSecretKeepingThePlaintextCopy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	if err := st.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}); err != nil {
		t.Fatal(err)
	}
	bao, _ := st.GetBackend(ctx, "bao")
	sec := &state.Secret{Name: "s", BackendName: "default", Data: map[string]string{"K": "old"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	// Values changed on plaintext: data version 2, while the object the
	// move writes on bao is at version 1.
	sec.Data = map[string]string{"K": "v"}
	if err := st.UpdateSecret(ctx, sec, true); err != nil || sec.DataVersion != 2 || sec.BackendVersion != 2 {
		t.Fatalf("update on plaintext: data version %d, backend version %d (%v), want 2 and 2", sec.DataVersion, sec.BackendVersion, err)
	}
	j := &state.Migration{SecretID: sec.ID, SecretName: "s", FromBackendID: sec.BackendID, FromBackend: "default",
		ToBackendID: bao.ID, ToBackend: "bao", KeepSource: true}
	if err := st.StartMigration(ctx, j); err != nil {
		t.Fatal(err)
	}
	flip := *sec
	flip.BackendID, flip.BackendName, flip.BackendVersion = bao.ID, "bao", 1
	if err := st.FlipSecret(ctx, &flip, j.ID, 1, state.MigrationKept); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "s", true)
	if err != nil || got.BackendName != "bao" || got.Data["K"] != "v" || got.DataOwner != sec.ID || got.DataVersion != sec.DataVersion {
		t.Fatalf("after the flip: %+v %v", got, err)
	}
	// The kept copy's data version is not the object's version on bao.
	if got.BackendVersion != 1 || flip.BackendVersion != 1 {
		t.Errorf("backend version %d (flip returned %d), want 1: the version of the object on bao", got.BackendVersion, flip.BackendVersion)
	}
	if open, err := st.OpenMigrations(ctx); err != nil || len(open) != 0 {
		t.Fatalf("open entries %+v (%v), want none", open, err)
	}
	kept, err := st.KeptCopies(ctx)
	if err != nil || len(kept) != 1 || kept[0].ID != j.ID || kept[0].State != state.MigrationKept || !kept[0].KeepSource {
		t.Fatalf("kept entries %+v (%v)", kept, err)
	}
	if err := st.SetMigrationState(ctx, j.ID, state.MigrationDone, 0, ""); err != nil {
		t.Fatal(err)
	}
	if kept, _ := st.KeptCopies(ctx); len(kept) != 0 {
		t.Fatalf("kept entries after done: %+v", kept)
	}
}

// CloseMigrationsAudited closes several journal entries with their audit
// entries in one statement; an unknown id is left out, the rest closed; a
// refused audit entry leaves every entry of the batch as it was.
func TestCloseMigrationsAudited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	var ids []int64
	for _, name := range []string{"a", "b", "c"} {
		m := &state.Migration{SecretName: name, FromBackend: "bao", ToBackend: "default", PlanID: "p1"}
		if err := st.StartMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := st.SetMigrationState(ctx, m.ID, state.MigrationFlipped, 3, "earlier error"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	entry := func(name string, ms int64) state.AuditEntry {
		return state.AuditEntry{Actor: "ci", PlanID: "p1", Action: "migrate", Kind: "secret", Name: name, Outcome: "ok", Detail: "moved", DurationMS: ms}
	}
	if closed, err := st.CloseMigrationsAudited(ctx, nil); err != nil || len(closed) != 0 {
		t.Fatalf("no entries: %v %v", closed, err)
	}

	// A batch the audit log refuses: nothing applies.
	if _, err := st.Pool().Exec(ctx, `ALTER TABLE `+st.Schema()+`.audit_log ADD CONSTRAINT no_b CHECK (name <> 'b') NOT VALID`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CloseMigrationsAudited(ctx, []state.MigrationClose{{ID: ids[0], Audit: entry("a", 1)}, {ID: ids[1], Audit: entry("b", 2)}}); err == nil {
		t.Fatal("a batch whose audit entry is refused was accepted")
	}
	if open, _ := st.OpenMigrations(ctx); len(open) != 3 {
		t.Fatalf("a refused batch closed entries: %+v", open)
	}
	if as, _ := st.ListAudit(ctx, 0); len(as) != 0 {
		t.Fatalf("a refused batch wrote audit entries: %+v", as)
	}
	if _, err := st.Pool().Exec(ctx, `ALTER TABLE `+st.Schema()+`.audit_log DROP CONSTRAINT no_b`); err != nil {
		t.Fatal(err)
	}

	closed, err := st.CloseMigrationsAudited(ctx, []state.MigrationClose{
		{ID: ids[0], DestVersion: 9, Audit: entry("a", 1)},
		{ID: 1 << 40, Audit: entry("ghost", 2)},
		{ID: ids[2], Audit: entry("c", 3)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(closed) != 2 || !closed[ids[0]] || !closed[ids[2]] {
		t.Fatalf("closed = %v, want %d and %d", closed, ids[0], ids[2])
	}
	open, _ := st.OpenMigrations(ctx)
	if len(open) != 1 || open[0].ID != ids[1] {
		t.Fatalf("open after the batch: %+v, want only %d", open, ids[1])
	}
	all, _ := st.ListMigrations(ctx, 0)
	for _, m := range all {
		switch m.ID {
		case ids[0]:
			if m.State != state.MigrationDone || m.DestVersion != 9 || m.Error != "" {
				t.Errorf("entry a = %+v, want done at dest version 9, error cleared", m)
			}
		case ids[2]:
			if m.State != state.MigrationDone || m.DestVersion != 3 {
				t.Errorf("entry c = %+v, want done, dest version kept", m)
			}
		}
	}
	as, _ := st.ListAudit(ctx, 0)
	if len(as) != 2 || as[0].Name != "c" || as[1].Name != "a" || as[1].DurationMS != 1 || as[0].Detail != "moved" || as[0].At.IsZero() {
		t.Fatalf("audit = %+v, want a then c, one each, the ghost none", as)
	}
}

// Journal closes reuse the statement's generic plan instead of planning
// each call (queryGeneric), and the setting that asks for it does not
// outlive the call.
func TestCloseMigrationsReuseTheGenericPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, schema := testenv.Schema(t)
	// One connection: the prepared statement and its plan counts are
	// that connection's.
	st, err := state.Open(ctx, state.Options{URL: url, Schema: schema, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const calls = 12
	for i := range calls {
		ms := []*state.Migration{
			{SecretName: fmt.Sprintf("a%d", i), FromBackend: "bao", ToBackend: "default"},
			{SecretName: fmt.Sprintf("b%d", i), FromBackend: "bao", ToBackend: "default"},
		}
		if err := st.StartMigrations(ctx, ms); err != nil {
			t.Fatal(err)
		}
		closed, err := st.CloseMigrationsAudited(ctx, []state.MigrationClose{{ID: ms[0].ID}, {ID: ms[1].ID}})
		if err != nil || len(closed) != 2 {
			t.Fatalf("close %d: %v %v", i, closed, err)
		}
	}
	var generic, custom int64
	err = st.Pool().QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE '%unnest%UPDATE%secret_migrations%' AND statement NOT LIKE '%pg_prepared_statements%'`).Scan(&generic, &custom)
	if err != nil {
		t.Fatal(err)
	}
	if generic != calls || custom != 0 {
		t.Errorf("the close statement ran %d times with its generic plan and %d with a plan of its own, want %d and 0", generic, custom, calls)
	}
	var mode string
	if err := st.Pool().QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&mode); err != nil || mode != "auto" {
		t.Errorf("plan_cache_mode after the closes: %q (%v), want auto", mode, err)
	}
}
