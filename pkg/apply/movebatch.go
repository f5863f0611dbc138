package apply

import (
	"context"
	"fmt"
	"sync"

	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// moveChunk is how many moves one preparation covers.
const moveChunk = 16

// moveBatch prepares the plan's migrate actions a chunk at a time: one
// query reads the rows of the next moveChunk secrets to move (with their
// values where they live on a plaintext backend) and one statement records
// their journal entries as started, instead of the two round trips per
// secret of reading the row and starting the entry as each move begins.
//
// The protocol is unchanged: every move still has its started entry
// before anything is written, and then proceeds as the resumption of that
// entry. A crash leaves started entries for moves of the chunk that had
// not begun; the next run resumes them like any interrupted move (there is
// no copy to find yet). Entries of moves that end up not running (their
// precondition fails, a dependency failed) are closed by the run.
type moveBatch struct {
	x *executor

	mu      sync.Mutex
	order   []*plan.Action         // eligible migrate actions, in plan order
	index   map[string]int         // secret name -> position in order
	chunkOf map[string]*moveChunkP // secret name -> its preparation
	used    map[int64]bool         // journal entries a move took
	ahead   sync.WaitGroup         // preparations started ahead of their moves
	entries []*state.Migration     // every entry prepared
}

// moveChunkP is one preparation: done once its results are in.
type moveChunkP struct {
	actions  []*plan.Action
	end      int  // position in order after its last move
	followed bool // the next chunk has been assigned
	done     chan struct{}
	err      error
	rows     map[string]state.Secret
	journal  map[string]*state.Migration
}

// newMoveBatch collects the migrate actions that start a new move (not the
// resumption of an open journal entry).
func newMoveBatch(x *executor, p *plan.Plan) *moveBatch {
	b := &moveBatch{x: x, index: map[string]int{}, chunkOf: map[string]*moveChunkP{}, used: map[int64]bool{}}
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.Kind == plan.KindSecret && a.Action == plan.Migrate && a.Migration != nil && a.Migration.JournalID == 0 {
			if _, dup := b.index[a.Name]; !dup {
				b.index[a.Name] = len(b.order)
				b.order = append(b.order, a)
			}
		}
	}
	return b
}

// take returns the secret's row as read for its chunk and its started
// journal entry. j is nil when the chunk could not journal the move yet
// (its destination backend is created by this run, the row already names
// it...): the move then starts its own entry. ok is false when the batch
// does not cover the secret: the caller reads and journals it itself.
func (b *moveBatch) take(ctx context.Context, name string) (row state.Secret, j *state.Migration, ok bool, err error) {
	b.mu.Lock()
	pos, eligible := b.index[name]
	if !eligible {
		b.mu.Unlock()
		return row, nil, false, nil
	}
	c := b.chunkOf[name]
	if c == nil {
		// This move and the next ones not yet prepared, in plan order:
		// the workers take actions in about that order.
		c = b.assign(pos)
		b.mu.Unlock()
		b.prepareNow(ctx, c)
	} else {
		b.mu.Unlock()
	}
	// While this chunk's moves run, the next chunk is prepared, so the
	// workers do not all stop at every chunk boundary to wait for it.
	b.mu.Lock()
	if !c.followed {
		c.followed = true
		if next := b.assign(c.end); next != nil {
			b.ahead.Go(func() { b.prepareNow(ctx, next) })
		}
	}
	b.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		return row, nil, false, ctx.Err()
	}
	if c.err != nil {
		return row, nil, false, c.err
	}
	row, found := c.rows[name]
	if !found {
		return row, nil, false, nil // the secret has no row: the move fails as before
	}
	j = c.journal[name]
	if j != nil {
		b.mu.Lock()
		b.used[j.ID] = true
		b.mu.Unlock()
	}
	return row, j, true, nil
}

// assign makes a chunk of the first moveChunk moves from position pos on
// that no chunk covers yet; nil when there are none. Called with mu held.
func (b *moveBatch) assign(pos int) *moveChunkP {
	c := &moveChunkP{done: make(chan struct{})}
	for i := pos; i < len(b.order) && len(c.actions) < moveChunk; i++ {
		a := b.order[i]
		if b.chunkOf[a.Name] == nil {
			b.chunkOf[a.Name] = c
			c.actions = append(c.actions, a)
			c.end = i + 1
		}
	}
	if len(c.actions) == 0 {
		return nil
	}
	return c
}

func (b *moveBatch) prepareNow(ctx context.Context, c *moveChunkP) {
	c.err = b.prepare(ctx, c, c.actions)
	close(c.done)
}

// prepare reads the chunk's rows and records its journal entries.
func (b *moveBatch) prepare(ctx context.Context, c *moveChunkP, chunk []*plan.Action) error {
	names := make([]string, len(chunk))
	withData := false
	for i, a := range chunk {
		names[i] = a.Name
		if from, err := b.x.backend(ctx, a.Migration.From); err == nil && from.Type == plaintextType {
			withData = true
		}
	}
	rows, err := b.x.e.Store.GetSecrets(ctx, names, withData)
	if err != nil {
		return fmt.Errorf("read the secrets to move: %w", err)
	}
	c.rows = make(map[string]state.Secret, len(rows))
	for _, r := range rows {
		c.rows[r.Name] = r
	}
	c.journal = map[string]*state.Migration{}
	var entries []*state.Migration
	for _, a := range chunk {
		row, ok := c.rows[a.Name]
		if !ok || row.Generation != a.Precondition.RowGeneration {
			continue // the move fails its precondition: nothing to journal
		}
		from, err := b.x.backend(ctx, row.BackendName)
		if err != nil {
			continue // the move reports it
		}
		dest, err := b.x.backend(ctx, a.Migration.To)
		if err != nil || dest.ID == row.BackendID {
			continue
		}
		ms := a.Migration
		j := &state.Migration{
			SecretID: row.ID, SecretName: row.Name,
			FromBackendID: from.ID, FromBackend: from.Name,
			ToBackendID: dest.ID, ToBackend: dest.Name,
			PlanID: b.x.plan.ID, SourceVersion: row.BackendVersion,
			KeepSource: ms.KeepSource || b.x.e.KeepSource, DestroySource: ms.DestroySource || b.x.e.DestroySource,
		}
		c.journal[a.Name] = j
		entries = append(entries, j)
	}
	if err := b.x.e.Store.StartMigrations(ctx, entries); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	b.mu.Lock()
	b.entries = append(b.entries, entries...)
	b.mu.Unlock()
	return nil
}

// closeUnused closes the entries prepared for moves that never began (their
// action was skipped or the run stopped first): the row never moved and no
// copy was written, so there is nothing for a later run to do.
func (b *moveBatch) closeUnused(ctx context.Context) {
	b.ahead.Wait()
	b.mu.Lock()
	var open []*state.Migration
	for _, j := range b.entries {
		if !b.used[j.ID] {
			open = append(open, j)
		}
	}
	b.mu.Unlock()
	for _, j := range open {
		_ = b.x.e.Store.SetMigrationState(ctx, j.ID, state.MigrationDone, 0, "abandoned: the move never began")
	}
}
