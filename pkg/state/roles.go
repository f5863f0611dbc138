package state

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The least-privilege roles `mcpctl db roles` creates. Roles are global to
// the Postgres cluster, so their names are fixed: every schema (and every
// database) of the cluster shares them, and EnsureRoles grants each of them
// the same rights on the schema it runs for.
const (
	// RoleViewer reads everything plan, drift, get and history need:
	// every table but the fingerprint key, every secrets column but data.
	RoleViewer = "mcpctl_viewer"
	// RoleSecretEditor writes secrets (values included), the audit log
	// (append only) and the lock row, and reads backends: apply of secret
	// changes, create/delete secret, exec, env. It cannot change a backend
	// (the original mcpctl's secrets resource).
	RoleSecretEditor = "mcpctl_secret_editor"
	// RoleBackendAdmin writes backends and reads secrets like a viewer (no
	// values, no fingerprint key): create/delete secretbackend, apply of
	// backend changes (the original mcpctl's secretbackends resource).
	RoleBackendAdmin = "mcpctl_backend_admin"
	// RoleMigrator holds both editors' rights plus the migration journal,
	// which every move of a secret between backends writes first: migrate
	// secrets, and apply of any plan, moves and default changes included
	// (the original mcpctl's run:migrate-secrets right).
	RoleMigrator = "mcpctl_migrator"

	// LegacyRoleEditor is the writer role of mcpctl before the editor was
	// split. EnsureRoles never creates it; where it exists, EnsureRoles
	// takes its direct rights on the schema away and makes it a member of
	// RoleSecretEditor and RoleBackendAdmin, so login roles granted it keep
	// exactly what they could do.
	LegacyRoleEditor = "mcpctl_editor"
)

// Roles lists the least-privilege roles, least privileged first.
func Roles() []string {
	return []string{RoleViewer, RoleSecretEditor, RoleBackendAdmin, RoleMigrator}
}

// TablePrivileges is what one role may do on one table of the schema.
type TablePrivileges struct {
	Role  string
	Table string
	// Privileges are table-level privileges, among SELECT, INSERT, UPDATE,
	// DELETE, in that order.
	Privileges []string
	// SelectExcept, when set, stands for SELECT on every column of the
	// table but these (Postgres column privileges) instead of a table-level
	// SELECT.
	SelectExcept []string
}

// String renders the privileges for people: "SELECT, INSERT",
// "SELECT (every column but data)", "none".
func (p TablePrivileges) String() string {
	var parts []string
	if len(p.SelectExcept) > 0 {
		parts = append(parts, "SELECT (every column but "+strings.Join(p.SelectExcept, ", ")+")")
	}
	parts = append(parts, p.Privileges...)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// SensitiveColumns are the secrets columns viewers may not read: the values.
// Every other column, present or added by a later migration, is readable,
// so plan keeps working as the schema grows; a new sensitive column must be
// listed here.
func SensitiveColumns() []string { return []string{"data"} }

// PrivilegeMatrix is every privilege EnsureRoles grants, table by table in
// schema order, each role least privileged first. Tables it does not list
// get nothing: a table a later migration adds stays closed to the roles
// until this matrix names it.
func PrivilegeMatrix() []TablePrivileges {
	var (
		sel     = []string{"SELECT"}
		insert  = []string{"SELECT", "INSERT"}
		write   = []string{"SELECT", "INSERT", "UPDATE", "DELETE"}
		journal = []string{"SELECT", "INSERT", "UPDATE"}
		none    []string
	)
	// Columns: viewer, secret editor, backend admin, migrator.
	rows := []struct {
		table string
		privs [4][]string
		// selectExcept[i], when set, replaces a table-level SELECT.
		selectExcept [4][]string
	}{
		{table: "schema_migrations", privs: [4][]string{sel, sel, sel, sel}},
		// Only backend admins (and the migrator) change backends; secret
		// editors read them to place secrets.
		{table: "backends", privs: [4][]string{sel, sel, write, write}},
		// Viewers and backend admins see every column but the values
		// (has_data, keys and the keyed fingerprint say enough for a plan).
		{table: "secrets", privs: [4][]string{none, write, none, write},
			selectExcept: [4][]string{SensitiveColumns(), nil, SensitiveColumns(), nil}},
		// Journal entries are history: nobody deletes them. Only the
		// migrator starts and advances moves.
		{table: "secret_migrations", privs: [4][]string{sel, sel, sel, journal}},
		// The audit log is append-only for every role mcpctl runs as.
		{table: "audit_log", privs: [4][]string{sel, insert, insert, insert}},
		// Writers take the lock: the holder row is theirs to write and clear.
		{table: "lock_holder", privs: [4][]string{sel, write, write, write}},
		// The fingerprint key: with it, the fingerprints a role can read
		// would let it test guesses of a value offline; only the roles
		// that write values (and so read them anyway) get it. Backend
		// admins see that the row exists (apply's up-to-date check).
		{table: "installation", privs: [4][]string{none, sel, none, sel},
			selectExcept: [4][]string{nil, nil, {"fingerprint_key"}, nil}},
	}
	var out []TablePrivileges
	for _, r := range rows {
		for i, role := range Roles() {
			out = append(out, TablePrivileges{Role: role, Table: r.table, Privileges: r.privs[i], SelectExcept: r.selectExcept[i]})
		}
	}
	return out
}

// rolesLockKey serialises EnsureRoles runs in one database: concurrent
// GRANTs on one object fail with "tuple concurrently updated". The text
// cannot be "mcpctl:" + a schema name (a space is not allowed in one), so
// it never collides with a schema's writer lock.
func rolesLockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("mcpctl:db roles"))
	return int64(h.Sum64())
}

// ExistingRoles lists which of Roles() exist in the cluster, in that order.
func (s *Store) ExistingRoles(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY array_position($1::text[], rolname::text)`, Roles())
	if err != nil {
		return nil, mapErr("list roles", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, mapErr("list roles", err)
	}
	return names, nil
}

// EnsureRoles creates the NOLOGIN roles mcpctl_viewer, mcpctl_secret_editor,
// mcpctl_backend_admin and mcpctl_migrator if they do not exist, and sets their privileges on this
// schema to exactly PrivilegeMatrix (plus USAGE on the schema for all,
// USAGE on its sequences and EXECUTE on its functions for the writers; no
// role may create objects). It then checks, with Postgres's own privilege
// functions, that each role can do what the matrix grants and nothing
// more: a right that comes from PUBLIC, another role or a superuser
// attribute is reported, not silently kept.
//
// It is idempotent and safe to run concurrently (in one database it waits
// for other runs; role creation tolerates a run in another database). The
// caller needs CREATEROLE (when a role is missing) and must own the
// schema's tables. The schema must be migrated to this binary's version;
// run it again after `db migrate` upgrades the schema.
func (s *Store) EnsureRoles(ctx context.Context) error {
	what := fmt.Sprintf("roles on schema %q", s.schema)
	st, err := s.Status(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if !st.Initialized {
		return &dbError{what: what, kind: ErrNotInitialized}
	}
	if st.Version < st.Latest {
		return fmt.Errorf("%s: the schema is at version %d, this mcpctl expects %d: run `mcpctl db migrate` first", what, st.Version, st.Latest)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, rolesLockKey()); err != nil {
			return mapErr("wait for other runs", err)
		}
		for _, r := range Roles() {
			if err := createRole(ctx, tx, r); err != nil {
				return err
			}
		}
		tables, err := s.tableColumns(ctx, tx)
		if err != nil {
			return err
		}
		for _, q := range s.grantStatements(tables) {
			if _, err := tx.Exec(ctx, q); err != nil {
				return mapErr("set privileges", err)
			}
		}
		if err := s.convertLegacyEditor(ctx, tx); err != nil {
			return err
		}
		return s.verifyPrivileges(ctx, tx)
	})
	if err != nil {
		var pe *dbError
		if errors.As(err, &pe) && errors.Is(pe.kind, ErrPermissionDenied) {
			return fmt.Errorf("%s: %w (run `mcpctl db roles` as a role with CREATEROLE that owns the schema's tables, e.g. the one that ran `mcpctl db migrate`)", what, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// createRole creates role r unless it exists. Another session may create it
// at the same moment (from another database, which the advisory lock does
// not cover): its CREATE wins and ours is rolled back to a savepoint.
func createRole(ctx context.Context, tx pgx.Tx, r string) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, r).Scan(&exists); err != nil {
		return mapErr("role "+r, err)
	}
	if exists {
		return nil
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return mapErr("role "+r, err)
	}
	_, err = sp.Exec(ctx, `CREATE ROLE `+pgx.Identifier{r}.Sanitize()+` NOLOGIN`)
	switch code := sqlstate(err); {
	case err == nil:
		return mapErr("create role "+r, sp.Commit(ctx))
	case code == "42710" || code == "23505": // duplicate_object, unique_violation
		return mapErr("create role "+r, sp.Rollback(ctx))
	default:
		_ = sp.Rollback(ctx)
		return mapErr("create role "+r, err)
	}
}

// tableColumns maps each table of the schema to its columns.
func (s *Store) tableColumns(ctx context.Context, tx pgx.Tx) (map[string][]string, error) {
	rows, err := tx.Query(ctx, `
		SELECT c.relname, a.attname
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
		ORDER BY c.relname, a.attnum`, s.schema)
	if err != nil {
		return nil, mapErr("list tables", err)
	}
	out := map[string][]string{}
	var table, column string
	_, err = pgx.ForEachRow(rows, []any{&table, &column}, func() error {
		out[table] = append(out[table], column)
		return nil
	})
	if err != nil {
		return nil, mapErr("list tables", err)
	}
	return out, nil
}

// grantStatements revokes whatever the roles had on the schema, then grants
// the matrix, so a rerun converges on it (also after an upgrade took a right
// away). EnsureRoles runs them in one transaction: nobody sees the roles
// without their rights.
func (s *Store) grantStatements(tables map[string][]string) []string {
	all := quoteAll(Roles())
	writers := quoteAll([]string{RoleSecretEditor, RoleBackendAdmin, RoleMigrator})
	sch := s.ident
	q := []string{
		`REVOKE ALL ON SCHEMA ` + sch + ` FROM ` + all,
		// Table-level REVOKE also revokes the column privileges.
		`REVOKE ALL ON ALL TABLES IN SCHEMA ` + sch + ` FROM ` + all,
		`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ` + sch + ` FROM ` + all,
		`REVOKE ALL ON ALL ROUTINES IN SCHEMA ` + sch + ` FROM ` + all,
		`GRANT USAGE ON SCHEMA ` + sch + ` TO ` + all,
	}
	for _, p := range PrivilegeMatrix() {
		cols, ok := tables[p.Table]
		if !ok {
			continue
		}
		role := pgx.Identifier{p.Role}.Sanitize()
		table := sch + "." + pgx.Identifier{p.Table}.Sanitize()
		if len(p.Privileges) > 0 {
			q = append(q, `GRANT `+strings.Join(p.Privileges, ", ")+` ON `+table+` TO `+role)
		}
		if len(p.SelectExcept) > 0 {
			var readable []string
			for _, c := range cols {
				if !slices.Contains(p.SelectExcept, c) {
					readable = append(readable, c)
				}
			}
			q = append(q, `GRANT SELECT (`+quoteAll(readable)+`) ON `+table+` TO `+role)
		}
	}
	// Identity columns draw from sequences and the triggers are functions:
	// Postgres does not check either for these uses today, but a writer
	// must not depend on that.
	q = append(q,
		`GRANT USAGE ON ALL SEQUENCES IN SCHEMA `+sch+` TO `+writers,
		`GRANT EXECUTE ON ALL ROUTINES IN SCHEMA `+sch+` TO `+writers)
	return q
}

// convertLegacyEditor turns an mcpctl_editor left by an earlier mcpctl
// into a plain member of the two roles it was split into: its own rights
// on this schema are revoked, and through the memberships it (and every
// login role granted it) can still do exactly what it could. Nothing
// happens when the role does not exist.
func (s *Store) convertLegacyEditor(ctx context.Context, tx pgx.Tx) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, LegacyRoleEditor).Scan(&exists); err != nil {
		return mapErr("role "+LegacyRoleEditor, err)
	}
	if !exists {
		return nil
	}
	legacy := pgx.Identifier{LegacyRoleEditor}.Sanitize()
	sch := s.ident
	for _, q := range []string{
		`REVOKE ALL ON SCHEMA ` + sch + ` FROM ` + legacy,
		`REVOKE ALL ON ALL TABLES IN SCHEMA ` + sch + ` FROM ` + legacy,
		`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ` + sch + ` FROM ` + legacy,
		`REVOKE ALL ON ALL ROUTINES IN SCHEMA ` + sch + ` FROM ` + legacy,
		`GRANT ` + quoteAll([]string{RoleSecretEditor, RoleBackendAdmin}) + ` TO ` + legacy,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return mapErr("convert role "+LegacyRoleEditor, err)
		}
	}
	return nil
}

// LegacyEditorExists reports whether the pre-split mcpctl_editor role
// exists in the cluster (db roles then says what became of it).
func (s *Store) LegacyEditorExists(ctx context.Context) (bool, error) {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, LegacyRoleEditor).Scan(&exists)
	return exists, mapErr("role "+LegacyRoleEditor, err)
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// verifyPrivileges asks Postgres what each role can do on each table of the
// schema, through any path (its grants, PUBLIC, membership in other roles,
// predefined roles such as pg_read_all_data, superuser), and compares that
// with the matrix. GRANT by a role that does not own a table only warns, so
// this is also what catches a run by the wrong role. Privileges Postgres
// also grants per column are checked per column too, so a stray column
// grant is found as well.
func (s *Store) verifyPrivileges(ctx context.Context, tx pgx.Tx) error {
	want := map[[2]string]TablePrivileges{}
	for _, p := range PrivilegeMatrix() {
		want[[2]string{p.Role, p.Table}] = p
	}
	var problems []string
	rows, err := tx.Query(ctx, `
		SELECT r.role, has_schema_privilege(r.role::name, $2, 'USAGE'), has_schema_privilege(r.role::name, $2, 'CREATE')
		FROM unnest($1::text[]) AS r(role)`, Roles(), s.schema)
	if err != nil {
		return mapErr("check privileges", err)
	}
	var (
		role          string
		usage, create bool
	)
	_, err = pgx.ForEachRow(rows, []any{&role, &usage, &create}, func() error {
		if !usage {
			problems = append(problems, fmt.Sprintf("%s lacks USAGE on schema %s", role, s.ident))
		}
		if create {
			problems = append(problems, fmt.Sprintf("%s may create objects in schema %s", role, s.ident))
		}
		return nil
	})
	if err != nil {
		return mapErr("check privileges", err)
	}

	rows, err = tx.Query(ctx, `
		SELECT r.role, c.relname, p.priv, has_table_privilege(r.role::name, c.oid, p.priv),
			p.by_column AND has_any_column_privilege(r.role::name, c.oid, p.priv)
		FROM unnest($1::text[]) AS r(role)
		CROSS JOIN pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN (VALUES ('SELECT', true), ('INSERT', true), ('UPDATE', true), ('DELETE', false),
			('TRUNCATE', false), ('REFERENCES', true), ('TRIGGER', false)) AS p(priv, by_column)
		WHERE n.nspname = $2 AND c.relkind IN ('r', 'p')
		ORDER BY c.relname, r.role, p.priv`, Roles(), s.schema)
	if err != nil {
		return mapErr("check privileges", err)
	}
	var (
		table, priv           string
		onTable, onSomeColumn bool
	)
	_, err = pgx.ForEachRow(rows, []any{&role, &table, &priv, &onTable, &onSomeColumn}, func() error {
		p := want[[2]string{role, table}]
		qualified := s.ident + "." + pgx.Identifier{table}.Sanitize()
		granted := slices.Contains(p.Privileges, priv)
		byColumns := priv == "SELECT" && len(p.SelectExcept) > 0
		switch {
		case granted && !onTable:
			problems = append(problems, fmt.Sprintf("%s lacks %s on %s", role, priv, qualified))
		case !granted && onTable:
			problems = append(problems, fmt.Sprintf("%s may %s on %s", role, priv, qualified))
		case !granted && !byColumns && onSomeColumn:
			problems = append(problems, fmt.Sprintf("%s may %s on columns of %s", role, priv, qualified))
		}
		return nil
	})
	if err != nil {
		return mapErr("check privileges", err)
	}

	rows, err = tx.Query(ctx, `
		SELECT r.role, c.relname, a.attname, has_column_privilege(r.role::name, c.oid, a.attnum, 'SELECT')
		FROM unnest($1::text[]) AS r(role)
		CROSS JOIN pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = $2 AND c.relkind IN ('r', 'p')
		ORDER BY c.relname, r.role, a.attnum`, Roles(), s.schema)
	if err != nil {
		return mapErr("check privileges", err)
	}
	var (
		column string
		ok     bool
	)
	_, err = pgx.ForEachRow(rows, []any{&role, &table, &column, &ok}, func() error {
		p := want[[2]string{role, table}]
		if len(p.SelectExcept) == 0 {
			return nil // the table-level check covered it
		}
		where := s.ident + "." + pgx.Identifier{table}.Sanitize() + "." + pgx.Identifier{column}.Sanitize()
		switch hidden := slices.Contains(p.SelectExcept, column); {
		case hidden && ok:
			problems = append(problems, fmt.Sprintf("%s may SELECT %s", role, where))
		case !hidden && !ok:
			problems = append(problems, fmt.Sprintf("%s lacks SELECT on %s", role, where))
		}
		return nil
	})
	if err != nil {
		return mapErr("check privileges", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the roles' privileges differ from what mcpctl grants: %s. "+
			"A missing right means the GRANT was not run by the tables' owner; "+
			"an extra one comes from PUBLIC, membership in another role (or a predefined role such as pg_read_all_data) "+
			"or a superuser attribute, and must be revoked there", strings.Join(problems, "; "))
	}
	return nil
}
