package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

const migrationCols = `id, coalesce(secret_id::text, ''), secret_name, coalesce(from_backend_id::text, ''), from_backend,
	coalesce(to_backend_id::text, ''), to_backend, state, plan_id, source_version, dest_version,
	keep_source, destroy_source, error, created_at, updated_at`

func scanMigration(row pgx.Row) (Migration, error) {
	var m Migration
	err := row.Scan(&m.ID, &m.SecretID, &m.SecretName, &m.FromBackendID, &m.FromBackend, &m.ToBackendID,
		&m.ToBackend, &m.State, &m.PlanID, &m.SourceVersion, &m.DestVersion, &m.KeepSource, &m.DestroySource,
		&m.Error, &m.CreatedAt, &m.UpdatedAt)
	return m, err
}

func migrationWhat(m *Migration) string {
	return fmt.Sprintf("migration of secret %q from %q to %q", m.SecretName, m.FromBackend, m.ToBackend)
}

// StartMigration records a move in the journal with state started (whatever
// m.State says) and fills m's ID, State and timestamps.
func (d *db) StartMigration(ctx context.Context, m *Migration) error {
	err := d.q.QueryRow(ctx, d.sql(`
		INSERT INTO {s}.secret_migrations (secret_id, secret_name, from_backend_id, from_backend, to_backend_id,
			to_backend, state, plan_id, source_version, dest_version, keep_source, destroy_source, error)
		VALUES (NULLIF($1, '')::uuid, $2, NULLIF($3, '')::uuid, $4, NULLIF($5, '')::uuid, $6, $7, $8, $9, $10, $11, $12, $13)
		RETURNING id, created_at, updated_at`),
		m.SecretID, m.SecretName, m.FromBackendID, m.FromBackend, m.ToBackendID, m.ToBackend, string(MigrationStarted),
		m.PlanID, m.SourceVersion, m.DestVersion, m.KeepSource, m.DestroySource, m.Error).
		Scan(&m.ID, &m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return mapErr(migrationWhat(m), err)
	}
	m.State = MigrationStarted
	return nil
}

// SetMigrationState moves journal entry id to state st and records the
// last error (errText, "" to clear; never values). destVersion is recorded
// when > 0 and left alone otherwise.
func (d *db) SetMigrationState(ctx context.Context, id int64, st MigrationState, destVersion int64, errText string) error {
	what := fmt.Sprintf("journal entry %d", id)
	tag, err := d.q.Exec(ctx, d.sql(`
		UPDATE {s}.secret_migrations
		SET state = $2, dest_version = CASE WHEN $3 > 0 THEN $3 ELSE dest_version END, error = $4, updated_at = now()
		WHERE id = $1`), id, string(st), destVersion, errText)
	if err != nil {
		return mapErr(what, err)
	}
	if tag.RowsAffected() == 0 {
		return &dbError{what: what, kind: ErrNotFound}
	}
	return nil
}

// OpenMigrations lists journal entries neither done nor kept, oldest
// first: moves an interrupted run left behind, which the next apply resumes.
func (d *db) OpenMigrations(ctx context.Context) ([]Migration, error) {
	return d.queryMigrations(ctx, `SELECT `+migrationCols+` FROM {s}.secret_migrations WHERE state NOT IN ('done', 'kept') ORDER BY id`)
}

// KeptCopies lists journal entries in state kept, oldest first: source
// copies a move with --keep-source left readable on purpose.
func (d *db) KeptCopies(ctx context.Context) ([]Migration, error) {
	return d.queryMigrations(ctx, `SELECT `+migrationCols+` FROM {s}.secret_migrations WHERE state = 'kept' ORDER BY id`)
}

// ListMigrations lists journal entries newest first, at most limit of them
// (all when limit <= 0).
func (d *db) ListMigrations(ctx context.Context, limit int) ([]Migration, error) {
	return d.queryMigrations(ctx, `SELECT `+migrationCols+` FROM {s}.secret_migrations ORDER BY id DESC LIMIT $1`, limitArg(limit))
}

func (d *db) queryMigrations(ctx context.Context, q string, args ...any) ([]Migration, error) {
	rows, err := d.q.Query(ctx, d.sql(q), args...)
	if err != nil {
		if isUninitialized(err) {
			return nil, nil
		}
		return nil, mapErr("read migration journal", err)
	}
	defer rows.Close()
	var out []Migration
	for rows.Next() {
		m, err := scanMigration(rows)
		if err != nil {
			return nil, fmt.Errorf("read migration journal: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil && !isUninitialized(err) {
		return nil, mapErr("read migration journal", err)
	}
	return out, nil
}

// limitArg makes a LIMIT parameter: NULL (no limit) for n <= 0.
func limitArg(n int) any {
	if n <= 0 {
		return nil
	}
	return int64(n)
}

// FingerprintKey reads the installation's HMAC key for value fingerprints.
// Roles denied the installation table get an error wrapping
// ErrPermissionDenied (callers report the comparison as unknown);
// ErrNotInitialized before Migrate.
func (d *db) FingerprintKey(ctx context.Context) ([]byte, error) {
	var key []byte
	err := d.q.QueryRow(ctx, d.sql(`SELECT fingerprint_key FROM {s}.installation`)).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &dbError{what: "fingerprint key", kind: ErrNotInitialized}
	}
	if err != nil {
		return nil, mapErr("fingerprint key", err)
	}
	return key, nil
}
