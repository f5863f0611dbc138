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

// A secret editor runs apply's steps for secrets: lock, schema check,
// secret writes with values, audit. Postgres refuses it every backend
// write, the journal (no moves) and DDL, and the backends stay as they were.
func TestSecretEditorRoleWritesSecretsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	if err := f.owner.CreateBackend(ctx, &state.Backend{Name: "kv", Type: "plaintext"}); err != nil {
		t.Fatal(err)
	}
	editor := f.login(t, state.RoleSecretEditor)

	l, err := editor.Lock(ctx, state.LockOptions{Operation: "apply", Timeout: time.Minute})
	if err != nil {
		t.Fatalf("Lock as secret editor: %v", err)
	}
	if held, h, err := f.owner.LockStatus(ctx); err != nil || !held || h == nil || h.Operation != "apply" {
		t.Errorf("LockStatus while the secret editor holds it = %v, %+v, %v", held, h, err)
	}
	// apply migrates first: on an up-to-date schema that must need no DDL.
	if err := editor.Migrate(ctx); err != nil {
		t.Errorf("Migrate of an up-to-date schema as secret editor: %v", err)
	}
	if _, err := editor.FingerprintKey(ctx); err != nil {
		t.Errorf("FingerprintKey as secret editor: %v", err)
	}
	backends := f.snapshot(t).Backends
	sec := &state.Secret{Name: "db", BackendName: "kv", Data: map[string]string{"PASSWORD": "p1"}}
	if err := editor.CreateSecret(ctx, sec); err != nil {
		t.Fatalf("CreateSecret with data as secret editor: %v", err)
	}
	sec.Data = map[string]string{"PASSWORD": "p2"}
	if err := editor.UpdateSecret(ctx, sec, true); err != nil {
		t.Fatalf("UpdateSecret with data as secret editor: %v", err)
	}
	got, err := editor.GetSecret(ctx, "db", true)
	if err != nil || got.Data["PASSWORD"] != "p2" || got.DataVersion != 2 || got.BackendVersion != 2 {
		t.Errorf("GetSecret(withData) as secret editor = data %v, version %d/%d, %v", got.Data != nil, got.DataVersion, got.BackendVersion, err)
	}
	if err := editor.AppendAudit(ctx, state.AuditEntry{Action: "update", Kind: "secret", Name: "db", Outcome: "ok"}); err != nil {
		t.Errorf("AppendAudit as secret editor: %v", err)
	}
	if err := editor.DeleteSecret(ctx, "db", sec.Generation); err != nil {
		t.Errorf("DeleteSecret as secret editor: %v", err)
	}

	// Backends are the backend admin's.
	wantDenied(t, "CreateBackend as secret editor", editor.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}), `backend "bao"`, "table backends")
	kv := backends[slices.IndexFunc(backends, func(b state.Backend) bool { return b.Name == "kv" })]
	kv.IsDefault = true
	wantDenied(t, "UpdateBackend as secret editor", editor.UpdateBackend(ctx, &kv), `backend "kv"`, "table backends")
	wantDenied(t, "DeleteBackend as secret editor", editor.DeleteBackend(ctx, "kv", kv.Generation), `backend "kv"`, "table backends")
	wantSQLDenied(t, editor, `UPDATE `+f.schema+`.backends SET description = 'x'`)
	// Moving a secret starts with a journal entry: only the migrator's.
	err = editor.StartMigration(ctx, &state.Migration{SecretName: "openai", FromBackend: "default", ToBackend: "kv"})
	wantDenied(t, "StartMigration as secret editor", err, "table secret_migrations")

	wantSQLDenied(t, editor, `CREATE TABLE `+f.schema+`.x (id int)`)
	wantSQLDenied(t, editor, `ALTER TABLE `+f.schema+`.secrets ADD COLUMN x int`)
	wantSQLDenied(t, editor, `DROP TABLE `+f.schema+`.audit_log`)
	wantSQLDenied(t, editor, `TRUNCATE `+f.schema+`.audit_log`)
	wantSQLDenied(t, editor, `UPDATE `+f.schema+`.audit_log SET detail = ''`)
	wantSQLDenied(t, editor, `DELETE FROM `+f.schema+`.audit_log`)
	wantSQLDenied(t, editor, `DELETE FROM `+f.schema+`.installation`)
	wantSQLDenied(t, editor, `CREATE FUNCTION `+f.schema+`.f() RETURNS int LANGUAGE sql AS 'SELECT 1'`)

	if err := l.Release(ctx); err != nil {
		t.Errorf("Release as secret editor: %v", err)
	}
	if held, _, err := f.owner.LockStatus(ctx); err != nil || held {
		t.Errorf("after Release: held %v, %v", held, err)
	}
	if diff := cmp.Diff(backends, f.snapshot(t).Backends); diff != "" {
		t.Errorf("the secret editor's refused backend writes changed backends (-before +after):\n%s", diff)
	}
}

// A backend admin creates, changes and deletes backends and sees secrets
// like a viewer: Postgres refuses it the values, the fingerprint key, every
// secret write and the journal, and the secrets stay as they were.
func TestBackendAdminRoleWritesBackendsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	admin := f.login(t, state.RoleBackendAdmin)

	l, err := admin.Lock(ctx, state.LockOptions{Operation: "apply", Timeout: time.Minute})
	if err != nil {
		t.Fatalf("Lock as backend admin: %v", err)
	}
	if err := admin.Migrate(ctx); err != nil {
		t.Errorf("Migrate of an up-to-date schema as backend admin: %v", err)
	}
	before := f.snapshot(t)
	b := &state.Backend{Name: "bao", Type: "openbao", Config: []byte(`{"mount":"secret"}`)}
	if err := admin.CreateBackend(ctx, b); err != nil {
		t.Fatalf("CreateBackend as backend admin: %v", err)
	}
	b.Description = "cluster OpenBao"
	if err := admin.UpdateBackend(ctx, b); err != nil {
		t.Fatalf("UpdateBackend as backend admin: %v", err)
	}
	if err := admin.DeleteBackend(ctx, "bao", b.Generation); err != nil {
		t.Fatalf("DeleteBackend as backend admin: %v", err)
	}
	if err := admin.AppendAudit(ctx, state.AuditEntry{Action: "delete", Kind: "secretbackend", Name: "bao", Outcome: "ok"}); err != nil {
		t.Errorf("AppendAudit as backend admin: %v", err)
	}
	// It sees where secrets are (a backend holding secrets cannot go).
	ss, err := admin.ListSecrets(ctx, false)
	if err != nil || len(ss) != 1 || ss[0].Data != nil || !ss[0].HasData {
		t.Errorf("ListSecrets(withData=false) as backend admin = %+v, %v", ss, err)
	}
	def := before.Backends[0]
	wantErr := admin.DeleteBackend(ctx, "default", def.Generation)
	if wantErr == nil {
		t.Error("DeleteBackend(default) as backend admin succeeded")
	}

	// Values, the key and secret writes: refused by Postgres itself.
	wantSQLDenied(t, admin, `SELECT data FROM `+f.schema+`.secrets`)
	wantSQLDenied(t, admin, `SELECT fingerprint_key FROM `+f.schema+`.installation`)
	_, err = admin.GetSecret(ctx, "openai", true)
	wantDenied(t, "GetSecret(withData=true) as backend admin", err, `secret "openai"`)
	_, err = admin.FingerprintKey(ctx)
	wantDenied(t, "FingerprintKey as backend admin", err, "fingerprint key", "table installation")
	err = admin.CreateSecret(ctx, &state.Secret{Name: "new", BackendName: "default", Data: map[string]string{"K": "v"}})
	wantDenied(t, "CreateSecret as backend admin", err, `secret "new"`, "table secrets")
	sec := ss[0]
	sec.Labels = map[string]string{"team": "x"}
	wantDenied(t, "UpdateSecret as backend admin", admin.UpdateSecret(ctx, &sec, false), `secret "openai"`, "table secrets")
	wantDenied(t, "DeleteSecret as backend admin", admin.DeleteSecret(ctx, "openai", sec.Generation), `secret "openai"`, "table secrets")
	err = admin.StartMigration(ctx, &state.Migration{SecretName: "openai", FromBackend: "default", ToBackend: "x"})
	wantDenied(t, "StartMigration as backend admin", err, "table secret_migrations")
	wantSQLDenied(t, admin, `CREATE TABLE `+f.schema+`.x (id int)`)
	wantSQLDenied(t, admin, `DELETE FROM `+f.schema+`.audit_log`)

	if err := l.Release(ctx); err != nil {
		t.Errorf("Release as backend admin: %v", err)
	}
	after := f.snapshot(t)
	if diff := cmp.Diff(before.Secrets, after.Secrets); diff != "" {
		t.Errorf("the backend admin's refused secret writes changed secrets (-before +after):\n%s", diff)
	}
}

// An installation set up by an earlier mcpctl has mcpctl_editor with its
// own rights, granted to login roles. db roles turns it into a member of
// the two roles it was split into: it holds no rights of its own on the
// schema any more, and its members can still do what they did.
func TestEnsureRolesConvertsLegacyEditor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newRolesFixture(t)
	// As an earlier `db roles` left it (roles are cluster-wide: another
	// test may have created it already).
	_, err := f.owner.Pool().Exec(ctx, `DO $$BEGIN CREATE ROLE mcpctl_editor NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END$$`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.owner.Pool().Exec(ctx, `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA `+f.schema+` TO mcpctl_editor`); err != nil {
		t.Fatal(err)
	}
	if err := f.owner.EnsureRoles(ctx); err != nil {
		t.Fatalf("EnsureRoles with a legacy mcpctl_editor: %v", err)
	}
	var own int
	err = f.owner.Pool().QueryRow(ctx, `
		SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
		WHERE n.nspname = $1 AND a.grantee = 'mcpctl_editor'::regrole`, f.schema).Scan(&own)
	if err != nil || own != 0 {
		t.Errorf("mcpctl_editor still holds %d rights of its own on the schema's tables (%v), want 0", own, err)
	}
	var member []string
	rows, err := f.owner.Pool().Query(ctx, `
		SELECT r.rolname::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid
		WHERE m.member = 'mcpctl_editor'::regrole ORDER BY 1`)
	if err == nil {
		member, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || !slices.Equal(member, []string{state.RoleBackendAdmin, state.RoleSecretEditor}) {
		t.Errorf("mcpctl_editor is a member of %v (%v), want %s and %s", member, err, state.RoleBackendAdmin, state.RoleSecretEditor)
	}

	// A login role granted the old editor keeps working through it.
	old := f.login(t, state.LegacyRoleEditor)
	if err := old.CreateBackend(ctx, &state.Backend{Name: "kv", Type: "plaintext"}); err != nil {
		t.Errorf("CreateBackend through the legacy editor: %v", err)
	}
	if err := old.CreateSecret(ctx, &state.Secret{Name: "db", BackendName: "kv", Data: map[string]string{"K": "v"}}); err != nil {
		t.Errorf("CreateSecret through the legacy editor: %v", err)
	}
	err = old.StartMigration(ctx, &state.Migration{SecretName: "db", FromBackend: "kv", ToBackend: "default"})
	wantDenied(t, "StartMigration through the legacy editor", err, "table secret_migrations")
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
