package apply_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/plan"
)

// TestMovesAreJournaledInChunks: the started entries of a migration are
// recorded a chunk of moves per statement (entries of one statement share
// its transaction's timestamp), every entry ends done, and every secret is
// readable on its destination.
func TestMovesAreJournaledInChunks(t *testing.T) {
	t.Parallel()
	const n = 64
	w, s := seededWorld(t, n, "default")
	w.write("secrets.yaml", w.secretsYAML(n, "bao"))
	if _, res := w.mustApply(s); res.Failed() != 0 {
		t.Fatalf("migration: %v", res.Err())
	}
	ctx := context.Background()
	var entries, statements, open int
	err := s.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT created_at), count(*) FILTER (WHERE state <> 'done')
		FROM `+w.schema+`.secret_migrations`).Scan(&entries, &statements, &open)
	if err != nil {
		t.Fatal(err)
	}
	if entries != n || open != 0 {
		t.Fatalf("journal: %d entries (%d open), want %d, all done", entries, open, n)
	}
	// 64 moves in chunks of 16: 4 statements (a few more if workers race
	// for the first moves), not one per move.
	if statements > n/4 {
		t.Errorf("the %d journal entries were started by %d statements, want them started in chunks", n, statements)
	}
	w.checkReadable(s, n, "after the migration")
	w.checkSettled(s, n, "bao")
}

// TestMoveAuditCommitsWithTheMove: a move that is its whole action has its
// audit entry written by the statement completing the move (the flip, or
// closing the journal after the source copy is removed: both stamp the
// same transaction time), once, in both directions.
func TestMoveAuditCommitsWithTheMove(t *testing.T) {
	t.Parallel()
	const n = 12
	w, s := seededWorld(t, n, "default")
	for _, to := range []string{"bao", "default"} {
		w.write("secrets.yaml", w.secretsYAML(n, to))
		if _, res := w.mustApply(s); res.Failed() != 0 {
			t.Fatalf("migration to %s: %v", to, res.Err())
		}
		if entries, withMove := w.moveAudits(s, to); entries != n || withMove != n {
			t.Errorf("to %s: %d audit entries for %d moves, %d of them written with the move", to, entries, n, withMove)
		}
	}
	w.checkReadable(s, n, "after both moves")
}

// TestWorkerDoesNotWaitForTheMovesLastStatement: a move that is its whole
// action hands its last statement (the audited flip, or the journal close
// after the source copy is removed) to a committer, and the worker goes on
// with its next move while it commits. With one worker, the first move's
// last statement is held (at its failpoint, which runs right after it)
// until the worker has written the second move's destination copy; an
// engine whose worker ran the statement itself would never get there.
// Every action still ends OK, with its audit entry, in both directions.
func TestWorkerDoesNotWaitForTheMovesLastStatement(t *testing.T) {
	t.Parallel()
	const n = 3
	w, s := seededWorld(t, n, "default")
	ctx := context.Background()
	for _, dir := range []struct{ to, last, progress string }{
		{"bao", apply.FPFlipped, apply.FPWritten},  // plaintext → openbao: the flip is last
		{"default", apply.FPDone, apply.FPFlipped}, // openbao → plaintext: the close is last
	} {
		w.write("secrets.yaml", w.secretsYAML(n, dir.to))
		var (
			mu       sync.Mutex
			held     bool
			progress int
			advanced = make(chan struct{})
		)
		hook := func(step string) {
			mu.Lock()
			switch {
			case step == dir.progress:
				progress++
				if progress == 2 {
					close(advanced)
				}
				mu.Unlock()
			case step == dir.last && !held:
				held = true
				mu.Unlock()
				select {
				case <-advanced:
				case <-time.After(20 * time.Second):
					t.Errorf("to %s: the worker did not start the next move while the first move's last statement was pending", dir.to)
				}
			default:
				mu.Unlock()
			}
		}
		_, res, err := w.applyWith(ctx, s, apply.Engine{Parallelism: 1, Failpoint: hook})
		if err != nil {
			t.Fatalf("to %s: %v", dir.to, err)
		}
		if res.Failed() != 0 || res.AuditFailures() != 0 || res.Count(plan.Migrate) != n {
			t.Fatalf("to %s: %d failed, %d audit failures, %d moves: %v", dir.to, res.Failed(), res.AuditFailures(), res.Count(plan.Migrate), res.Err())
		}
		if entries, withMove := w.moveAudits(s, dir.to); entries != n || withMove != n {
			t.Errorf("to %s: %d audit entries for %d moves, %d of them written with the move", dir.to, entries, n, withMove)
		}
	}
	w.checkReadable(s, n, "after both moves")
}
