package state_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// The mcpctl_* roles are cluster-global and shared by every test (and every
// package) running against the same server: tests never drop them, only
// the schemas their grants live in (testenv drops those with CASCADE).

// rolesFixture is a migrated schema with the roles granted on it and one
// plaintext secret with values, plus the owner's connection.
type rolesFixture struct {
	url, schema string
	owner       *state.Store
}

func newRolesFixture(t *testing.T) *rolesFixture {
	t.Helper()
	ctx := context.Background()
	dbURL, schema := testenv.Schema(t)
	owner := openSchema(t, dbURL, schema)
	if err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := owner.CreateSecret(ctx, &state.Secret{Name: "openai", BackendName: "default",
		Data: map[string]string{"API_KEY": "sk-roles-canary"}, Managed: true, Fingerprint: "hmac:abc"}); err != nil {
		t.Fatal(err)
	}
	if err := owner.EnsureRoles(ctx); err != nil {
		t.Fatalf("EnsureRoles: %v", err)
	}
	return &rolesFixture{url: dbURL, schema: schema, owner: owner}
}

// login creates a LOGIN role unique to the test, granted only granted (one
// of the mcpctl roles), and opens a store connected as it. The role is
// dropped when the test ends, after the store is closed.
func (f *rolesFixture) login(t *testing.T, granted string) *state.Store {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	role := f.schema + "_" + strings.TrimPrefix(granted, "mcpctl_")
	password := hex.EncodeToString(b) // works whether the server trusts 127.0.0.1 or asks for one
	for _, q := range []string{
		`CREATE ROLE ` + role + ` LOGIN PASSWORD '` + password + `'`,
		`GRANT ` + granted + ` TO ` + role,
	} {
		if _, err := f.owner.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v (the test database user needs CREATEROLE)", q, err)
		}
	}
	t.Cleanup(func() {
		if _, err := f.owner.Pool().Exec(context.Background(), `DROP ROLE IF EXISTS `+role); err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	u, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	st := openSchema(t, u.String(), f.schema)
	var current string
	if err := st.Pool().QueryRow(ctx, `SELECT current_user`).Scan(&current); err != nil || current != role {
		t.Fatalf("session runs as %q (%v), want %q", current, err, role)
	}
	return st
}

// snapshot is everything a write could change, read as the owner.
type snapshot struct {
	Backends   []state.Backend
	Secrets    []state.Secret
	Migrations []state.Migration
	Audit      []state.AuditEntry
	Key        []byte
}

func (f *rolesFixture) snapshot(t *testing.T) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	if s.Backends, err = f.owner.ListBackends(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Secrets, err = f.owner.ListSecrets(ctx, true); err != nil {
		t.Fatal(err)
	}
	if s.Migrations, err = f.owner.ListMigrations(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if s.Audit, err = f.owner.ListAudit(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if s.Key, err = f.owner.FingerprintKey(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func wantDenied(t *testing.T, what string, err error, mentions ...string) {
	t.Helper()
	if !errors.Is(err, state.ErrPermissionDenied) || !containsAll(err.Error(), append(mentions, "permission denied for")...) {
		t.Errorf("%s: %v, want ErrPermissionDenied saying \"permission denied for ...\" and %q", what, err, mentions)
	}
}

func wantSQLDenied(t *testing.T, st *state.Store, q string) {
	t.Helper()
	_, err := st.Pool().Exec(context.Background(), q)
	if sqlstate(err) != "42501" {
		t.Errorf("%s: %v, want SQLSTATE 42501 (insufficient_privilege)", q, err)
	}
}

func TestEnsureRolesIdempotentAndConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	if err := f.owner.EnsureRoles(ctx); err != nil {
		t.Fatalf("second EnsureRoles: %v", err)
	}
	// Separate pools, as separate processes would have.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		st := openSchema(t, f.url, f.schema)
		wg.Go(func() { errs[i] = st.EnsureRoles(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent EnsureRoles #%d: %v", i, err)
		}
	}
	got, err := f.owner.ExistingRoles(ctx)
	if err != nil || !slices.Equal(got, state.Roles()) {
		t.Fatalf("ExistingRoles = %v, %v; want %v", got, err, state.Roles())
	}
	var login, canData, canName bool
	err = f.owner.Pool().QueryRow(ctx, `SELECT rolcanlogin, has_column_privilege('mcpctl_viewer', $1, 'data', 'SELECT'),
		has_column_privilege('mcpctl_viewer', $1, 'name', 'SELECT') FROM pg_roles WHERE rolname = 'mcpctl_viewer'`,
		f.schema+".secrets").Scan(&login, &canData, &canName)
	if err != nil || login || canData || !canName {
		t.Fatalf("mcpctl_viewer: login %v, SELECT data %v, SELECT name %v (%v); want false, false, true", login, canData, canName, err)
	}
}

// A viewer does everything plan and drift need; Postgres refuses it the
// values, the fingerprint key and every write, and nothing changes.
func TestViewerRoleIsReadOnlyWithoutValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	j := &state.Migration{SecretName: "openai", FromBackend: "default", ToBackend: "bao"}
	if err := f.owner.StartMigration(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := f.owner.AppendAudit(ctx, state.AuditEntry{Action: "create", Kind: "secret", Name: "openai", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	before := f.snapshot(t)
	viewer := f.login(t, state.RoleViewer)

	// What plan and drift read.
	if bs, err := viewer.ListBackends(ctx); err != nil || len(bs) != 1 || bs[0].Name != "default" {
		t.Errorf("ListBackends as viewer = %v, %v", names(bs), err)
	}
	ss, err := viewer.ListSecrets(ctx, false)
	if err != nil || len(ss) != 1 || !ss[0].HasData || !slices.Equal(ss[0].Keys, []string{"API_KEY"}) ||
		ss[0].Fingerprint != "hmac:abc" || ss[0].Data != nil {
		t.Errorf("ListSecrets(withData=false) as viewer = %+v, %v", ss, err)
	}
	if open, err := viewer.OpenMigrations(ctx); err != nil || len(open) != 1 || open[0].ID != j.ID {
		t.Errorf("OpenMigrations as viewer = %+v, %v", open, err)
	}
	if audit, err := viewer.ListAudit(ctx, 10); err != nil || len(audit) != 1 {
		t.Errorf("ListAudit as viewer = %+v, %v", audit, err)
	}
	if st, err := viewer.Status(ctx); err != nil || !st.Initialized || st.Secrets != 1 {
		t.Errorf("Status as viewer = %+v, %v", st, err)
	}
	if held, _, err := viewer.LockStatus(ctx); err != nil || held {
		t.Errorf("LockStatus as viewer = %v, %v", held, err)
	}

	// The values and the key: refused by Postgres itself.
	wantSQLDenied(t, viewer, `SELECT data FROM `+f.schema+`.secrets`)
	wantSQLDenied(t, viewer, `SELECT * FROM `+f.schema+`.secrets`)
	wantSQLDenied(t, viewer, `SELECT fingerprint_key FROM `+f.schema+`.installation`)
	_, err = viewer.ListSecrets(ctx, true)
	wantDenied(t, "ListSecrets(withData=true)", err, "table secrets")
	_, err = viewer.GetSecret(ctx, "openai", true)
	wantDenied(t, "GetSecret(withData=true)", err, `secret "openai"`)
	_, err = viewer.FingerprintKey(ctx)
	wantDenied(t, "FingerprintKey", err, "fingerprint key", "table installation")

	// Every write.
	err = viewer.CreateSecret(ctx, &state.Secret{Name: "new", BackendName: "default", Data: map[string]string{"K": "v"}})
	wantDenied(t, "CreateSecret", err, `secret "new"`, "table secrets")
	sec := ss[0]
	sec.Labels = map[string]string{"team": "x"}
	wantDenied(t, "UpdateSecret", viewer.UpdateSecret(ctx, &sec, false), `secret "openai"`, "table secrets")
	sec.Data = map[string]string{"API_KEY": "other"}
	wantDenied(t, "UpdateSecret(withData)", viewer.UpdateSecret(ctx, &sec, true), `secret "openai"`, "table secrets")
	wantDenied(t, "DeleteSecret", viewer.DeleteSecret(ctx, "openai", sec.Generation), `secret "openai"`, "table secrets")
	wantDenied(t, "CreateBackend", viewer.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}), `backend "bao"`, "table backends")
	wantDenied(t, "AppendAudit", viewer.AppendAudit(ctx, state.AuditEntry{Action: "x"}), "table audit_log")
	wantDenied(t, "StartMigration", viewer.StartMigration(ctx, &state.Migration{SecretName: "openai", FromBackend: "default", ToBackend: "x"}), "table secret_migrations")
	wantDenied(t, "SetMigrationState", viewer.SetMigrationState(ctx, j.ID, state.MigrationDone, 0, ""), "table secret_migrations")
	// A writer's first step: taking the lock records the holder row.
	if l, err := viewer.Lock(ctx, state.LockOptions{Operation: "apply"}); err == nil {
		_ = l.Release(ctx)
		t.Error("Lock as viewer succeeded")
	} else {
		wantDenied(t, "Lock", err, "table lock_holder")
	}
	if held, _, err := f.owner.LockStatus(ctx); err != nil || held {
		t.Errorf("the viewer's failed Lock left the lock held: %v, %v", held, err)
	}
	if err := viewer.Migrate(ctx); err == nil {
		t.Error("Migrate as viewer succeeded")
	}
	wantSQLDenied(t, viewer, `CREATE TABLE `+f.schema+`.x (id int)`)
	wantSQLDenied(t, viewer, `TRUNCATE `+f.schema+`.audit_log`)
	// Nor can it widen its own rights.
	if err := viewer.EnsureRoles(ctx); !errors.Is(err, state.ErrPermissionDenied) || !strings.Contains(err.Error(), "owns the schema's tables") {
		t.Errorf("EnsureRoles as viewer: %v, want ErrPermissionDenied saying who may run it", err)
	}

	if diff := cmp.Diff(before, f.snapshot(t)); diff != "" {
		t.Errorf("the viewer's refused writes changed the state (-before +after):\n%s", diff)
	}
}

// An editor runs apply's steps: lock, schema check, secret writes with
// values, audit; no DDL, no audit rewriting, no journal (no moves).
func TestEditorRoleWritesButNoDDL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	editor := f.login(t, state.RoleEditor)

	l, err := editor.Lock(ctx, state.LockOptions{Operation: "apply", Timeout: time.Minute})
	if err != nil {
		t.Fatalf("Lock as editor: %v", err)
	}
	if held, h, err := f.owner.LockStatus(ctx); err != nil || !held || h == nil || h.Operation != "apply" {
		t.Errorf("LockStatus while the editor holds it = %v, %+v, %v", held, h, err)
	}
	// apply migrates first: on an up-to-date schema that must need no DDL.
	if err := editor.Migrate(ctx); err != nil {
		t.Errorf("Migrate of an up-to-date schema as editor: %v", err)
	}
	if _, err := editor.FingerprintKey(ctx); err != nil {
		t.Errorf("FingerprintKey as editor: %v", err)
	}
	if err := editor.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao", Config: []byte(`{"mount":"secret"}`)}); err != nil {
		t.Errorf("CreateBackend as editor: %v", err)
	}
	sec := &state.Secret{Name: "db", BackendName: "default", Data: map[string]string{"PASSWORD": "p1"}}
	if err := editor.CreateSecret(ctx, sec); err != nil {
		t.Fatalf("CreateSecret with data as editor: %v", err)
	}
	sec.Data = map[string]string{"PASSWORD": "p2"}
	if err := editor.UpdateSecret(ctx, sec, true); err != nil {
		t.Fatalf("UpdateSecret with data as editor: %v", err)
	}
	got, err := editor.GetSecret(ctx, "db", true)
	if err != nil || got.Data["PASSWORD"] != "p2" || got.DataVersion != 2 || got.BackendVersion != 2 {
		t.Errorf("GetSecret(withData) as editor = data %v, version %d/%d, %v", got.Data != nil, got.DataVersion, got.BackendVersion, err)
	}
	if err := editor.AppendAudit(ctx, state.AuditEntry{Action: "update", Kind: "secret", Name: "db", Outcome: "ok"}); err != nil {
		t.Errorf("AppendAudit as editor: %v", err)
	}
	if err := editor.DeleteSecret(ctx, "db", sec.Generation); err != nil {
		t.Errorf("DeleteSecret as editor: %v", err)
	}
	// Moving a secret starts with a journal entry: only the migrator's.
	err = editor.StartMigration(ctx, &state.Migration{SecretName: "openai", FromBackend: "default", ToBackend: "bao"})
	wantDenied(t, "StartMigration as editor", err, "table secret_migrations")

	wantSQLDenied(t, editor, `CREATE TABLE `+f.schema+`.x (id int)`)
	wantSQLDenied(t, editor, `ALTER TABLE `+f.schema+`.secrets ADD COLUMN x int`)
	wantSQLDenied(t, editor, `DROP TABLE `+f.schema+`.audit_log`)
	wantSQLDenied(t, editor, `TRUNCATE `+f.schema+`.audit_log`)
	wantSQLDenied(t, editor, `UPDATE `+f.schema+`.audit_log SET detail = ''`)
	wantSQLDenied(t, editor, `DELETE FROM `+f.schema+`.audit_log`)
	wantSQLDenied(t, editor, `DELETE FROM `+f.schema+`.installation`)
	wantSQLDenied(t, editor, `CREATE FUNCTION `+f.schema+`.f() RETURNS int LANGUAGE sql AS 'SELECT 1'`)

	if err := l.Release(ctx); err != nil {
		t.Errorf("Release as editor: %v", err)
	}
	if held, _, err := f.owner.LockStatus(ctx); err != nil || held {
		t.Errorf("after Release: held %v, %v", held, err)
	}
}

// The migrator runs the migration protocol's database steps.
func TestMigratorRoleMovesSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	if err := f.owner.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}); err != nil {
		t.Fatal(err)
	}
	m := f.login(t, state.RoleMigrator)
	sec, err := m.GetSecret(ctx, "openai", true)
	if err != nil || sec.Data["API_KEY"] != "sk-roles-canary" {
		t.Fatalf("GetSecret(withData) as migrator: %v", err)
	}
	j := &state.Migration{SecretID: sec.ID, SecretName: "openai", FromBackendID: sec.BackendID, FromBackend: "default",
		ToBackend: "bao", SourceVersion: sec.DataVersion}
	if err := m.StartMigration(ctx, j); err != nil {
		t.Fatalf("StartMigration as migrator: %v", err)
	}
	sec.BackendID, sec.BackendName, sec.Data, sec.BackendVersion = "", "bao", nil, 1
	if err := m.FlipSecret(ctx, &sec, j.ID, 1, state.MigrationFlipped); err != nil {
		t.Fatalf("FlipSecret as migrator: %v", err)
	}
	if err := m.SetMigrationState(ctx, j.ID, state.MigrationDone, 0, ""); err != nil {
		t.Fatalf("SetMigrationState as migrator: %v", err)
	}
	got, err := f.owner.GetSecret(ctx, "openai", true)
	if err != nil || got.BackendName != "bao" || got.HasData {
		t.Errorf("after the move: backend %q, has data %v, %v", got.BackendName, got.HasData, err)
	}
	wantSQLDenied(t, m, `CREATE TABLE `+f.schema+`.x (id int)`)
	wantSQLDenied(t, m, `DELETE FROM `+f.schema+`.secret_migrations`)
}

// A right the roles get from elsewhere (here PUBLIC) is reported, not
// silently kept: EnsureRoles must not claim viewers cannot read values.
func TestEnsureRolesReportsPrivilegesFromElsewhere(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	if _, err := f.owner.Pool().Exec(ctx, `GRANT SELECT ON `+f.schema+`.secrets TO PUBLIC`); err != nil {
		t.Fatal(err)
	}
	err := f.owner.EnsureRoles(ctx)
	if err == nil || !containsAll(err.Error(), `mcpctl_viewer may SELECT "`+f.schema+`"."secrets"."data"`, "PUBLIC") {
		t.Fatalf("EnsureRoles with SELECT on secrets granted to PUBLIC: %v", err)
	}
}

func TestEnsureRolesNeedsAMigratedSchema(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	err := st.EnsureRoles(context.Background())
	if !errors.Is(err, state.ErrNotInitialized) || !strings.Contains(err.Error(), st.Schema()) {
		t.Fatalf("EnsureRoles on an empty schema: %v, want ErrNotInitialized naming the schema", err)
	}
}

// Every table the migrations create has a row in the matrix (a new table
// forces a decision), and the matrix names no table that does not exist.
func TestPrivilegeMatrixCoversTheSchema(t *testing.T) {
	t.Parallel()
	st := migratedStore(t)
	rows, err := st.Pool().Query(context.Background(),
		`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, st.Schema())
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var inMatrix []string
	for _, p := range state.PrivilegeMatrix() {
		if !slices.Contains(inMatrix, p.Table) {
			inMatrix = append(inMatrix, p.Table)
		}
	}
	slices.Sort(inMatrix)
	if diff := cmp.Diff(tables, inMatrix); diff != "" {
		t.Errorf("tables of the schema (-) vs the privilege matrix (+):\n%s", diff)
	}
}

// docs/security.md shows the matrix EnsureRoles grants.
func TestSecurityDocShowsPrivilegeMatrix(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	header := "| Table | " + strings.Join(state.Roles(), " | ") + " |"
	if !strings.Contains(doc, header) {
		t.Errorf("docs/security.md has no matrix header %q", header)
	}
	byTable := map[string][]string{}
	var order []string
	for _, p := range state.PrivilegeMatrix() {
		if _, ok := byTable[p.Table]; !ok {
			order = append(order, p.Table)
		}
		byTable[p.Table] = append(byTable[p.Table], p.String())
	}
	for _, table := range order {
		row := "| `" + table + "` | " + strings.Join(byTable[table], " | ") + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/security.md lacks the matrix row\n%s", row)
		}
	}
}
