package apply

import (
	"context"
	"sync"
	"time"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// closeBatchMax bounds how many journal closes one statement carries.
const closeBatchMax = 16

// closeLinger is how long a close committed off the worker waits for
// others to share its statement: about the time a few moves take to reach
// their close, a fraction of a commit's cost on a loaded machine.
const closeLinger = 3 * time.Millisecond

// batchCloser is a store that closes several journal entries, each with its
// audit entry, in one statement (*state.Store is one).
type batchCloser interface {
	CloseMigrationsAudited(ctx context.Context, cs []state.MigrationClose) (map[int64]bool, error)
}

var _ batchCloser = (*state.Store)(nil)

// closeBatch is a group commit of the last step of moves (7: the journal
// entry closed, with the audit entry of the action the move completes):
// a move hands its close to the batch and waits until a statement holding
// it has committed, so its action is never reported OK (nor FPDone hit)
// before the close is durable. A move that finds no statement in flight
// writes at once whatever closes are waiting, its own among them; closes
// handed over while a statement is in flight wait for it to end and go
// together in the next (at most closeBatchMax). With several workers, moves
// that finish at about the same time share one commit instead of paying
// one each, and no worker ever waits for a batch to fill: a lone move's
// close is written as soon as it is handed over.
//
// A kill before a close is written leaves its entry flipped with the source
// copy already deleted; the next plan shows a cleanup that only closes the
// journal entry (compute_journal.go), as for a kill between steps 6 and 7
// of a move on its own.
//
// A caller that is not holding up a worker (a committer, see
// Engine.Execute) passes a linger: when it would start a statement with
// fewer than closeBatchMax closes waiting, it first waits up to linger for
// more (or until the batch is full), so closes arriving a few at a time
// still share commits.
type closeBatch struct {
	mu       sync.Mutex
	cond     *sync.Cond
	pending  []*closeReq
	flushing bool
	full     chan struct{} // signalled when closeBatchMax closes are waiting
}

type closeReq struct {
	c    state.MigrationClose
	done bool
	err  error // the statement failed; nothing of it applied
	// closed: the statement closed this entry (false with err nil: no
	// such entry).
	closed bool
}

// close writes c in a batch and reports whether it was closed. err is the
// failure of the statement that carried it (nothing of it applied).
func (b *closeBatch) close(ctx context.Context, store batchCloser, c state.MigrationClose, linger time.Duration) (bool, error) {
	r := &closeReq{c: c}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cond == nil {
		b.cond = sync.NewCond(&b.mu)
		b.full = make(chan struct{}, 1)
	}
	b.pending = append(b.pending, r)
	if len(b.pending) >= closeBatchMax {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
	for !r.done {
		if b.flushing {
			b.cond.Wait()
			continue
		}
		if linger > 0 && len(b.pending) < closeBatchMax {
			// Hold the batch open: closes handed over meanwhile wait for
			// this statement instead of starting their own.
			b.flushing = true
			select {
			case <-b.full: // a stale signal from a batch already written
			default:
			}
			b.mu.Unlock()
			t := time.NewTimer(linger)
			select {
			case <-t.C:
			case <-b.full:
			case <-ctx.Done():
			}
			t.Stop()
			b.mu.Lock()
			b.flushing = false
			linger = 0 // once: then write whatever is waiting
		}
		n := min(len(b.pending), closeBatchMax)
		batch := make([]*closeReq, n)
		copy(batch, b.pending)
		b.pending = append(b.pending[:0], b.pending[n:]...)
		b.flushing = true
		b.mu.Unlock()
		b.flush(ctx, store, batch)
		b.mu.Lock()
		b.flushing = false
		b.cond.Broadcast()
	}
	return r.closed, r.err
}

// flush writes one batch; called without mu held, by one goroutine at a
// time (flushing). Its results are published when mu is taken again.
func (b *closeBatch) flush(ctx context.Context, store batchCloser, batch []*closeReq) {
	cs := make([]state.MigrationClose, len(batch))
	for i, r := range batch {
		cs[i] = r.c
	}
	closed, err := store.CloseMigrationsAudited(ctx, cs)
	b.mu.Lock()
	for _, r := range batch {
		r.done, r.err, r.closed = true, err, err == nil && closed[r.c.ID]
	}
	b.mu.Unlock()
}
