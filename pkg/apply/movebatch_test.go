package apply_test

import (
	"context"
	"testing"
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
