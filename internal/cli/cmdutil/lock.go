package cmdutil

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// Locker is the part of the store a writer needs to serialise itself.
type Locker interface {
	Lock(ctx context.Context, opts state.LockOptions) (*state.Lock, error)
}

// WithLock runs fn holding the schema's writer lock, waiting up to timeout
// for another writer to finish. The lock is released even when fn fails or
// the run is interrupted.
func WithLock(ctx context.Context, store Locker, timeout time.Duration, operation string, fn func(ctx context.Context) error) error {
	l, err := store.Lock(ctx, state.LockOptions{
		Operation: operation,
		Timeout:   timeout,
		Holder:    state.CurrentHolder(operation),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	defer func() {
		// Release on a context that outlives cancellation: an interrupted
		// run must still hand the lock back.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = l.Release(rctx)
	}()
	return fn(ctx)
}
