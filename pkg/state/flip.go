package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// FlipSecret is step 5 of the migration protocol: the secret's row is
// rewritten to name its new backend (values included: set when entering a
// plaintext backend, cleared when leaving one) and the journal entry moves to
// st ("flipped", or "done" when nothing is left to clean up), where the row
// still has sec.Generation (ErrConflict otherwise).
//
// Both happen in one statement (data-modifying CTEs), so they commit together
// and cost one round trip instead of four (BEGIN, two UPDATEs, COMMIT): the
// flip is on the hot path of every migrated secret.
func (s *Store) FlipSecret(ctx context.Context, sec *Secret, journalID int64, destVersion int64, st MigrationState) error {
	return s.flip(ctx, sec, journalID, destVersion, st, nil)
}

// FlipSecretAudited is FlipSecret whose statement also appends audit to
// the audit log: apply records a move that the flip completes together with
// it, so a kill never leaves the move done and its audit entry missing, and
// the entry costs no round trip of its own.
func (s *Store) FlipSecretAudited(ctx context.Context, sec *Secret, journalID int64, destVersion int64, st MigrationState, audit AuditEntry) error {
	return s.flip(ctx, sec, journalID, destVersion, st, &audit)
}

func (s *Store) flip(ctx context.Context, sec *Secret, journalID int64, destVersion int64, st MigrationState, audit *AuditEntry) error {
	what := secretWhat(sec.Name)
	p, err := secretParams(sec, true)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// $1..$11 from secretParams, $12 data, $13 data owner, $14 generation,
	// $15 journal id, $16 journal state, $17 destination version.
	args := append(p.args, p.data, sec.DataOwner, sec.Generation, journalID, string(st), destVersion)
	// $18..$25: the audit entry, inserted once the journal moved.
	args, auditCTE := auditWith(args, audit, "j")
	err = scanWritten(s.pool.QueryRow(ctx, s.sql(`
		WITH b AS (`+backendMatch+`),
		w AS (
			UPDATE {s}.secrets s SET backend_id = b.id, external_ref = $4, keys = $5, backend_version = `+versionWithData+`,
				fingerprint = $7, managed = $8, labels = $9, annotations = $10, protected = $11,
				data = $12, data_owner = COALESCE(NULLIF($13, ''), s.id::text)
			FROM b
			WHERE s.name = $1 AND s.generation = $14
			`+secretReturning+`),
		j AS (
			UPDATE {s}.secret_migrations
			SET state = $16, dest_version = CASE WHEN $17 > 0 THEN $17 ELSE dest_version END, error = '', updated_at = now()
			WHERE id = $15 AND EXISTS (SELECT 1 FROM w)
			RETURNING id)`+auditCTE+`
		`+secretWritten+` WHERE EXISTS (SELECT 1 FROM j)`), args...), sec)
	if errors.Is(err, pgx.ErrNoRows) {
		// Nothing was written when the row moved on; say how (conflict, gone).
		if werr := s.whyNoRow(ctx, "secrets", what, sec.Name, sec.Generation); werr != nil {
			return werr
		}
		return &dbError{what: fmt.Sprintf("journal entry %d", journalID), kind: ErrNotFound}
	}
	return mapErr(what, err)
}
