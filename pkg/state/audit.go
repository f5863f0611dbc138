package state

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// AppendAudit records executed actions in one statement. A zero At is the
// database's now(). Details must never carry values.
func (d *db) AppendAudit(ctx context.Context, entries ...AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	// One array per column, unnested server-side: one round trip for any n.
	n := len(entries)
	at := make([]pgtype.Timestamptz, n)
	text := make([][]string, 7) // actor, plan_id, action, kind, name, outcome, detail
	for c := range text {
		text[c] = make([]string, n)
	}
	dur := make([]int64, n)
	for i, e := range entries {
		at[i] = pgtype.Timestamptz{Time: e.At, Valid: !e.At.IsZero()}
		for c, v := range []string{e.Actor, e.PlanID, e.Action, e.Kind, e.Name, e.Outcome, e.Detail} {
			text[c][i] = v
		}
		dur[i] = e.DurationMS
	}
	_, err := d.q.Exec(ctx, d.sql(`
		INSERT INTO {s}.audit_log (at, actor, plan_id, action, kind, name, outcome, detail, duration_ms)
		SELECT coalesce(u.at, now()), u.actor, u.plan_id, u.action, u.kind, u.name, u.outcome, u.detail, u.duration_ms
		FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
			AS u(at, actor, plan_id, action, kind, name, outcome, detail, duration_ms)`),
		at, text[0], text[1], text[2], text[3], text[4], text[5], text[6], dur)
	return mapErr(fmt.Sprintf("audit log (%d entries)", n), err)
}

// ListAudit lists audit entries newest first, at most limit of them (all
// when limit <= 0). Empty on an uninitialised schema.
func (d *db) ListAudit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := d.q.Query(ctx, d.sql(`
		SELECT id, at, actor, plan_id, action, kind, name, outcome, detail, duration_ms
		FROM {s}.audit_log ORDER BY id DESC LIMIT $1`), limitArg(limit))
	if err != nil {
		if isUninitialized(err) {
			return nil, nil
		}
		return nil, mapErr("read audit log", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.PlanID, &e.Action, &e.Kind, &e.Name, &e.Outcome, &e.Detail, &e.DurationMS); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil && !isUninitialized(err) {
		return nil, mapErr("read audit log", err)
	}
	return out, nil
}

// auditWith returns args followed by audit's columns, and the SQL that
// inserts audit into the audit log once the CTE named after has produced a
// row: the audit entry of a write that commits in the same statement as the
// write, so a kill never leaves the one without the other. The SQL is empty
// when audit is nil; otherwise it is a CTE to append after a WITH list
// (", a AS (...)") with its parameters numbered after args.
func auditWith(args []any, audit *AuditEntry, after string) ([]any, string) {
	if audit == nil {
		return args, ""
	}
	n := len(args)
	args = append(args, audit.Actor, audit.PlanID, audit.Action, audit.Kind, audit.Name, audit.Outcome, audit.Detail, audit.DurationMS)
	ph := make([]string, 8)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(n+1+i)
	}
	return args, `,
		a AS (
			INSERT INTO {s}.audit_log (at, actor, plan_id, action, kind, name, outcome, detail, duration_ms)
			SELECT now(), ` + strings.Join(ph, ", ") + ` FROM ` + after + `
			RETURNING 1)`
}
