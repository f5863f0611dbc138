package state_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func TestMigrateTwiceIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)

	before, err := st.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Initialized || before.PendingMigrations != state.LatestSchemaVersion() || before.Latest < 1 {
		t.Fatalf("status before migrate = %+v, want uninitialised with %d pending", before, state.LatestSchemaVersion())
	}
	for i := range 2 {
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	after, err := st.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := state.Status{Schema: st.Schema(), Initialized: true, Version: state.LatestSchemaVersion(),
		Latest: state.LatestSchemaVersion(), Backends: 1}
	if after != want {
		t.Fatalf("status after migrating twice = %+v, want %+v", after, want)
	}
	var versions, keys int
	if err := st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM `+st.Schema()+`.schema_migrations),
		(SELECT count(*) FROM `+st.Schema()+`.installation)`).Scan(&versions, &keys); err != nil {
		t.Fatal(err)
	}
	if versions != state.LatestSchemaVersion() || keys != 1 {
		t.Fatalf("schema_migrations rows = %d, installation rows = %d; want %d and 1", versions, keys, state.LatestSchemaVersion())
	}
}

func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, schema := testenv.Schema(t)
	// Separate Stores are separate pools and sessions, as separate processes are.
	const n = 4
	stores := make([]*state.Store, n)
	for i := range stores {
		stores[i] = openSchema(t, url, schema)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, st := range stores {
		wg.Go(func() { errs[i] = st.Migrate(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate in store %d: %v", i, err)
		}
	}
	bs, err := stores[0].ListBackends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Name != state.BootstrapBackend {
		t.Fatalf("backends after concurrent migrations = %v, want only the bootstrap one", names(bs))
	}
	key1, err := stores[0].FingerprintKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key2, err := stores[n-1].FingerprintKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(key1) != 32 || string(key1) != string(key2) {
		t.Fatalf("fingerprint keys differ or have the wrong length (%d, %d bytes)", len(key1), len(key2))
	}
}

func TestBootstrapBackend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)

	b, err := st.GetBackend(ctx, state.BootstrapBackend)
	if err != nil {
		t.Fatal(err)
	}
	if b.Type != "plaintext" || !b.IsDefault || !b.Protected || b.Generation != 1 || b.ID == "" || string(b.Config) != "{}" {
		t.Fatalf("bootstrap backend = %+v", b)
	}

	err = st.DeleteBackend(ctx, state.BootstrapBackend, b.Generation)
	if !errors.Is(err, state.ErrProtected) {
		t.Fatalf("DeleteBackend(default) = %v, want ErrProtected", err)
	}
	// The database refuses it too, not just the Go code: unprotect the row
	// and delete it with plain SQL.
	_, err = st.Pool().Exec(ctx, `UPDATE `+st.Schema()+`.backends SET protected = false WHERE name = 'default'`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Pool().Exec(ctx, `DELETE FROM `+st.Schema()+`.backends WHERE name = 'default'`)
	if sqlstate(err) != "MC001" {
		t.Fatalf("plain SQL delete of the bootstrap backend: %v, want the trigger's refusal (MC001)", err)
	}
	_, err = st.Pool().Exec(ctx, `UPDATE `+st.Schema()+`.backends SET name = 'other' WHERE name = 'default'`)
	if sqlstate(err) != "MC002" {
		t.Fatalf("renaming the bootstrap backend: %v, want the trigger's refusal (MC002)", err)
	}
	_, err = st.Pool().Exec(ctx, `TRUNCATE `+st.Schema()+`.backends CASCADE`)
	if sqlstate(err) != "MC001" {
		t.Fatalf("truncating backends: %v, want the trigger's refusal (MC001)", err)
	}
	if _, err := st.GetBackend(ctx, state.BootstrapBackend); err != nil {
		t.Fatalf("bootstrap backend gone: %v", err)
	}
}

func TestUninitialisedSchemaReadsEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)

	bs, err := st.ListBackends(ctx)
	if err != nil || len(bs) != 0 {
		t.Fatalf("ListBackends = %v, %v; want empty, nil", bs, err)
	}
	ss, err := st.ListSecrets(ctx, false)
	if err != nil || len(ss) != 0 {
		t.Fatalf("ListSecrets = %v, %v; want empty, nil", ss, err)
	}
	if ms, err := st.OpenMigrations(ctx); err != nil || len(ms) != 0 {
		t.Fatalf("OpenMigrations = %v, %v", ms, err)
	}
	if as, err := st.ListAudit(ctx, 10); err != nil || len(as) != 0 {
		t.Fatalf("ListAudit = %v, %v", as, err)
	}
	if _, err := st.GetSecret(ctx, "x", false); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetSecret on an uninitialised schema = %v, want ErrNotFound", err)
	}
	err = st.CreateSecret(ctx, &state.Secret{Name: "x", BackendName: "default"})
	if !errors.Is(err, state.ErrNotInitialized) {
		t.Fatalf("CreateSecret on an uninitialised schema = %v, want ErrNotInitialized", err)
	}
	held, _, err := st.LockStatus(ctx)
	if err != nil || held {
		t.Fatalf("LockStatus = %v, %v", held, err)
	}
	// Reads never create anything.
	var exists bool
	if err := st.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, st.Schema()).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatal("reads created the schema")
	}
}

func TestMigrateRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	_, err := st.Pool().Exec(ctx, `INSERT INTO `+st.Schema()+`.schema_migrations (version, name) VALUES (9999, 'future')`)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Migrate(ctx)
	if err == nil || !containsAll(err.Error(), "9999", "upgrade mcpctl") {
		t.Fatalf("Migrate on a newer schema = %v, want a refusal naming the version", err)
	}
}
