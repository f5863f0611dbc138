package state

import (
	"context"
	"crypto/rand"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// schemaMigration is one embedded migration file, NNNN_name.sql.
type schemaMigration struct {
	version int
	name    string
	sql     string
}

// schemaMigrations parses the embedded files once per call; they are few
// and small, and a bad file name is a build mistake caught by every test.
func schemaMigrations() ([]schemaMigration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []schemaMigration
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("embedded migration %s: name must be NNNN_name.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, schemaMigration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("embedded migrations: expected version %d, found %d (%s)", i+1, m.version, m.name)
		}
	}
	return out, nil
}

// LatestSchemaVersion is the schema version this binary migrates to.
func LatestSchemaVersion() int {
	ms, err := schemaMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrateLockTimeout bounds Migrate's wait for the lock when it takes the
// lock itself and ctx has no deadline.
const migrateLockTimeout = 5 * time.Minute

// Migrate creates the schema if needed and applies the pending embedded
// migrations, each in its own transaction recorded in schema_migrations,
// then makes sure the installation's fingerprint key exists. It runs under
// the schema's advisory lock: if this Store holds it (Lock), Migrate uses
// it; otherwise it takes it for the duration. Idempotent, and safe when
// several processes migrate at once.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := schemaMigrations()
	if err != nil {
		return err
	}
	s.mu.Lock()
	held := s.lock
	s.mu.Unlock()
	if held == nil {
		timeout := migrateLockTimeout
		if dl, ok := ctx.Deadline(); ok {
			timeout = time.Until(dl)
		}
		l, err := s.Lock(ctx, LockOptions{Operation: "db migrate", Timeout: timeout})
		if err != nil {
			return fmt.Errorf("migrate schema %q: %w", s.schema, err)
		}
		defer l.Release(context.WithoutCancel(ctx))
		held = l
	}
	if err := s.migrate(ctx, ms); err != nil {
		return fmt.Errorf("migrate schema %q: %w", s.schema, err)
	}
	// The lock was taken before the lock_holder table existed.
	if !held.hasRow() {
		if err := held.writeHolder(ctx); err != nil {
			return fmt.Errorf("migrate schema %q: %w", s.schema, err)
		}
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, ms []schemaMigration) error {
	if s.upToDate(ctx, ms) {
		return nil
	}
	_, err := s.pool.Exec(ctx, s.sql(`
		CREATE SCHEMA IF NOT EXISTS {s};
		CREATE TABLE IF NOT EXISTS {s}.schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`))
	if err != nil {
		return mapErr("create schema", err)
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return err
	}
	for v := range applied {
		if v > len(ms) {
			return fmt.Errorf("the database is at schema version %d, newer than this mcpctl knows (%d): upgrade mcpctl", v, len(ms))
		}
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			// Unqualified names in the file land in our schema; pg_catalog
			// stays implicitly first for built-ins.
			if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+s.ident); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, s.sql(`INSERT INTO {s}.schema_migrations (version, name) VALUES ($1, $2)`), m.version, m.name)
			return err
		})
		if err != nil {
			return mapErr(fmt.Sprintf("schema migration %04d_%s", m.version, m.name), err)
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, s.sql(`INSERT INTO {s}.installation (fingerprint_key) VALUES ($1) ON CONFLICT DO NOTHING`), key)
	return mapErr("create fingerprint key", err)
}

// upToDate reports whether every migration is applied and the fingerprint
// key exists, using reads only. Migrate then issues no DDL and no INSERT:
// even CREATE SCHEMA IF NOT EXISTS needs CREATE on the database, which the
// roles apply runs as (mcpctl_secret_editor, mcpctl_backend_admin, mcpctl_migrator) do not have. Any doubt (an error, a
// role that may not read a table) takes the full path, which reports it.
func (s *Store) upToDate(ctx context.Context, ms []schemaMigration) bool {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.ident+".schema_migrations").Scan(&exists)
	if err != nil || !exists {
		return false
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil || len(applied) != len(ms) {
		return false
	}
	for _, m := range ms {
		if !applied[m.version] {
			return false
		}
	}
	var hasKey bool
	err = s.pool.QueryRow(ctx, s.sql(`SELECT EXISTS (SELECT FROM {s}.installation)`)).Scan(&hasKey)
	return err == nil && hasKey
}

func (s *Store) appliedVersions(ctx context.Context) (map[int]bool, error) {
	rows, err := s.pool.Query(ctx, s.sql(`SELECT version FROM {s}.schema_migrations`))
	if err != nil {
		return nil, mapErr("read schema version", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, mapErr("read schema version", err)
	}
	out := map[int]bool{}
	for _, v := range vs {
		out[int(v)] = true
	}
	return out, nil
}

// Status describes the schema.
type Status struct {
	Schema      string
	Initialized bool // at least the first migration is applied
	Version     int  // highest applied migration
	Latest      int  // highest migration this binary knows
	// PendingMigrations counts known migrations not applied yet.
	PendingMigrations int
	Backends          int
	Secrets           int
}

// Status reports the schema version and row counts. It never writes, and
// works on an uninitialised database (Initialized=false).
func (s *Store) Status(ctx context.Context) (Status, error) {
	st := Status{Schema: s.schema, Latest: LatestSchemaVersion()}
	st.PendingMigrations = st.Latest
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.ident+".schema_migrations").Scan(&exists)
	if err != nil {
		return st, mapErr("schema status", err)
	}
	if !exists {
		return st, nil
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return st, err
	}
	for v := range applied {
		st.Version = max(st.Version, v)
		if v <= st.Latest {
			st.PendingMigrations--
		}
	}
	st.Initialized = applied[1]
	if !st.Initialized {
		return st, nil
	}
	err = s.pool.QueryRow(ctx, s.sql(`SELECT (SELECT count(*) FROM {s}.backends), (SELECT count(*) FROM {s}.secrets)`)).
		Scan(&st.Backends, &st.Secrets)
	if err != nil {
		return st, mapErr("schema status", err)
	}
	return st, nil
}
