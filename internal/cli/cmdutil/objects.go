package cmdutil

import (
	"context"
	"errors"
	"sync"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/plan"
)

// bulkStatMin is the number of objects from which one bulk Stat of a
// backend (a paginated LIST on OpenBao) beats one Stat each.
const bulkStatMin = 8

// StatObjects observes the objects named on one backend, at most
// parallelism Stat calls at a time, never reading values. An absent object
// is State Absent; a failure is recorded per object in Err, so callers can
// report every one.
func StatObjects(ctx context.Context, ds plan.DriverSource, backend string, names []string, parallelism int) map[string]plan.ObjectStatus {
	out := make(map[string]plan.ObjectStatus, len(names))
	failAll := func(err error) map[string]plan.ObjectStatus {
		for _, n := range names {
			out[n] = plan.ObjectStatus{Backend: backend, Err: err.Error()}
		}
		return out
	}
	if len(names) == 0 {
		return out
	}
	drv, err := ds.Driver(ctx, backend)
	if err != nil {
		return failAll(err)
	}
	if bs, ok := drv.(drivers.BulkStater); ok && len(names) >= bulkStatMin {
		all, err := bs.StatAll(ctx)
		switch {
		case err == nil:
			for _, n := range names {
				meta, found := all[drivers.Ref(n)]
				if !found {
					meta = drivers.Meta{State: drivers.Absent}
				}
				out[n] = plan.ObjectStatus{Backend: backend, Meta: meta}
			}
			return out
		case !errors.Is(err, drivers.ErrUnsupported):
			return failAll(err)
		}
	}
	if parallelism < 1 {
		parallelism = 1
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelism)
	for _, n := range names {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			st := plan.ObjectStatus{Backend: backend}
			meta, err := drv.Stat(ctx, drivers.Ref(n))
			switch {
			case errors.Is(err, drivers.ErrNotFound):
				st.Meta = drivers.Meta{State: drivers.Absent}
			case err != nil:
				st.Err = err.Error()
			default:
				st.Meta = meta
			}
			mu.Lock()
			out[n] = st
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}
