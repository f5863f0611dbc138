package state

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// queryGeneric runs q like Query, but has Postgres reuse the statement's
// generic plan instead of planning it again for each call.
//
// It is for statements that take their rows as arrays (unnest) and update
// through them. For a prepared statement Postgres compares the generic
// plan's cost with the plans made for the actual arguments; it costs an
// array of unknown length as larger than the few rows a batch usually
// holds, so it plans every call afresh, which costs more than running it
// (journal closes: 0.11-0.33 ms of planning against 0.08 ms of execution a
// call in pg_stat_statements). Such a statement must find its rows through
// an index on the arrays (= ANY), so that the generic plan is as fast.
//
// The setting is local to the call: set_config(..., true) lasts until the
// end of the transaction, and the two statements go in one batch, which
// Postgres runs as one implicit transaction, in one round trip. Inside an
// explicit transaction (a Tx) q runs as it is.
func (d *db) queryGeneric(ctx context.Context, q string, args ...any) (pgx.Rows, error) {
	bs, ok := d.q.(interface {
		SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	})
	if _, tx := d.q.(pgx.Tx); !ok || tx {
		return d.q.Query(ctx, q, args...)
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('plan_cache_mode', 'force_generic_plan', true)`)
	b.Queue(q, args...)
	br := bs.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// batchRows are the rows of a batch's last statement; closing them ends
// the batch (and its implicit transaction).
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.br.Close()
}

// Err, called once the rows are read, also ends the batch: its commit is
// what can still fail.
func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	r.Close()
	return r.err
}
