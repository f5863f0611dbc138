package state

import (
	"context"
	"errors"
	"fmt"
	"time"

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

// StartMigrations is StartMigration for several moves in one statement:
// apply records the journal entries of a chunk of moves before the first of
// them begins, one round trip instead of one per secret. Secret names must
// be distinct.
func (d *db) StartMigrations(ctx context.Context, ms []*Migration) error {
	if len(ms) == 0 {
		return nil
	}
	n := len(ms)
	var (
		secretIDs, names, fromIDs, froms, toIDs, tos, planIDs, errs = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		srcVersions, destVersions = make([]int64, n), make([]int64, n)
		keeps, destroys           = make([]bool, n), make([]bool, n)
		byName                    = make(map[string]*Migration, n)
	)
	for i, m := range ms {
		secretIDs[i], names[i], fromIDs[i], froms[i], toIDs[i], tos[i] = m.SecretID, m.SecretName, m.FromBackendID, m.FromBackend, m.ToBackendID, m.ToBackend
		planIDs[i], errs[i], srcVersions[i], destVersions[i], keeps[i], destroys[i] = m.PlanID, m.Error, m.SourceVersion, m.DestVersion, m.KeepSource, m.DestroySource
		byName[m.SecretName] = m
	}
	rows, err := d.q.Query(ctx, d.sql(`
		INSERT INTO {s}.secret_migrations (secret_id, secret_name, from_backend_id, from_backend, to_backend_id,
			to_backend, state, plan_id, source_version, dest_version, keep_source, destroy_source, error)
		SELECT NULLIF(x.secret_id, '')::uuid, x.secret_name, NULLIF(x.from_id, '')::uuid, x.from_backend, NULLIF(x.to_id, '')::uuid,
			x.to_backend, $13, x.plan_id, x.source_version, x.dest_version, x.keep_source, x.destroy_source, x.error
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::bigint[], $9::bigint[], $10::boolean[], $11::boolean[], $12::text[]) WITH ORDINALITY
			AS x(secret_id, secret_name, from_id, from_backend, to_id, to_backend, plan_id, source_version, dest_version,
				keep_source, destroy_source, error, ord)
		ORDER BY x.ord
		RETURNING secret_name, id, created_at, updated_at`),
		secretIDs, names, fromIDs, froms, toIDs, tos, planIDs, srcVersions, destVersions, keeps, destroys, errs, string(MigrationStarted))
	if err != nil {
		return mapErr(fmt.Sprintf("migrations of %d secrets", n), err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var (
			name string
			id   int64
			c, u time.Time
		)
		if err := rows.Scan(&name, &id, &c, &u); err != nil {
			return mapErr(fmt.Sprintf("migrations of %d secrets", n), err)
		}
		m, ok := byName[name]
		if !ok {
			return fmt.Errorf("migrations of %d secrets: the journal returned an entry for %q, which was not asked for", n, name)
		}
		m.ID, m.CreatedAt, m.UpdatedAt, m.State = id, c, u, MigrationStarted
		got++
	}
	if err := rows.Err(); err != nil {
		return mapErr(fmt.Sprintf("migrations of %d secrets", n), err)
	}
	if got != n {
		return fmt.Errorf("migrations of %d secrets: the journal recorded %d", n, got)
	}
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

// MigrationClose is one journal entry for CloseMigrationsAudited: the
// entry to move to done, the destination version to record (when > 0) and
// the audit entry of the apply action its move completes.
type MigrationClose struct {
	ID          int64
	DestVersion int64
	Audit       AuditEntry
}

// CloseMigrationsAudited moves journal entries to done (recording each
// destination version when > 0, clearing the error) and appends their audit
// entries in one statement, all committing together: the last step of moves
// that complete apply actions, recorded with them (see FlipSecretAudited).
// A kill leaves every entry of the batch either closed with its audit
// entry or neither. Apply gathers the closes of moves
// finishing at about the same time into one commit (a group commit). It
// returns the ids it closed: an id not found (no such entry) is left out,
// with no audit entry written for it, and the others are closed all the
// same. IDs must be distinct.
func (d *db) CloseMigrationsAudited(ctx context.Context, cs []MigrationClose) (map[int64]bool, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	n := len(cs)
	ids, dests, durs := make([]int64, n), make([]int64, n), make([]int64, n)
	text := make([][]string, 7) // actor, plan_id, action, kind, name, outcome, detail
	for c := range text {
		text[c] = make([]string, n)
	}
	for i, c := range cs {
		ids[i], dests[i], durs[i] = c.ID, c.DestVersion, c.Audit.DurationMS
		a := c.Audit
		for k, v := range []string{a.Actor, a.PlanID, a.Action, a.Kind, a.Name, a.Outcome, a.Detail} {
			text[k][i] = v
		}
	}
	what := fmt.Sprintf("journal entries (%d)", n)
	rows, err := d.queryGeneric(ctx, d.sql(`
		WITH x AS (
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
				$7::text[], $8::text[], $9::text[], $10::bigint[]) WITH ORDINALITY
				AS x(id, dest_version, actor, plan_id, action, kind, name, outcome, detail, duration_ms, ord)),
		j AS (
			UPDATE {s}.secret_migrations m
			SET state = $11, dest_version = CASE WHEN x.dest_version > 0 THEN x.dest_version ELSE m.dest_version END,
				error = '', updated_at = now()
			FROM x WHERE m.id = ANY($1::bigint[]) AND m.id = x.id
			RETURNING m.id),
		a AS (
			INSERT INTO {s}.audit_log (at, actor, plan_id, action, kind, name, outcome, detail, duration_ms)
			SELECT now(), x.actor, x.plan_id, x.action, x.kind, x.name, x.outcome, x.detail, x.duration_ms
			FROM x JOIN j ON j.id = x.id ORDER BY x.ord
			RETURNING 1)
		SELECT id FROM j`),
		ids, dests, text[0], text[1], text[2], text[3], text[4], text[5], text[6], durs, string(MigrationDone))
	if err != nil {
		return nil, mapErr(what, err)
	}
	defer rows.Close()
	closed := make(map[int64]bool, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(what, err)
		}
		closed[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(what, err)
	}
	return closed, nil
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
