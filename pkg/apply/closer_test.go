package apply

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// gatedCloser is a batchCloser whose statements block until released, and
// which records each statement's ids.
type gatedCloser struct {
	mu      sync.Mutex
	batches [][]int64
	entered chan struct{}
	release chan struct{}
	fail    error
}

func (g *gatedCloser) CloseMigrationsAudited(_ context.Context, cs []state.MigrationClose) (map[int64]bool, error) {
	g.entered <- struct{}{}
	<-g.release
	g.mu.Lock()
	defer g.mu.Unlock()
	var ids []int64
	out := map[int64]bool{}
	for _, c := range cs {
		ids = append(ids, c.ID)
		if c.ID > 0 {
			out[c.ID] = true
		}
	}
	g.batches = append(g.batches, ids)
	return out, g.fail
}

// A close handed over while no statement is in flight is written at once;
// the ones handed over while it is in flight wait and share the next
// statement (at most closeBatchMax each); nobody returns before the
// statement holding its close has returned.
func TestCloseBatchGroupsClosesWhileAStatementIsInFlight(t *testing.T) {
	g := &gatedCloser{entered: make(chan struct{}, 64), release: make(chan struct{})}
	var b closeBatch
	ctx := context.Background()
	type result struct {
		id     int64
		closed bool
		err    error
	}
	results := make(chan result, 64)
	closeOne := func(id int64) {
		ok, err := b.close(ctx, g, state.MigrationClose{ID: id}, 0)
		results <- result{id, ok, err}
	}
	go closeOne(1)
	<-g.entered // the first statement is in flight, holding only 1
	const waiting = closeBatchMax + 4
	for id := int64(2); id < 2+waiting; id++ {
		go closeOne(id)
	}
	// Wait until every later close is pending behind the statement.
	for deadline := time.Now().Add(5 * time.Second); ; {
		b.mu.Lock()
		n := len(b.pending)
		b.mu.Unlock()
		if n == waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d closes pending, want %d", n, waiting)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-results:
		t.Fatalf("close %d returned before its statement did", r.id)
	default:
	}
	go func() {
		for range 3 {
			g.release <- struct{}{}
		}
	}()
	for range 1 + waiting {
		r := <-results
		if r.err != nil || !r.closed {
			t.Errorf("close %d: closed %v, %v", r.id, r.closed, r.err)
		}
	}
	if len(g.batches) != 3 || len(g.batches[0]) != 1 || len(g.batches[1]) != closeBatchMax || len(g.batches[2]) != waiting-closeBatchMax {
		t.Errorf("statements carried %v, want [1] then %d then %d closes", g.batches, closeBatchMax, waiting-closeBatchMax)
	}

	// A failed statement is reported to each close it carried; an entry
	// the statement did not find is reported not closed.
	g.fail = errors.New("injected")
	go closeOne(100)
	<-g.entered
	g.release <- struct{}{}
	if r := <-results; r.err == nil || r.closed {
		t.Errorf("close in a failed statement: closed %v, %v", r.closed, r.err)
	}
	g.fail = nil
	go closeOne(-1)
	<-g.entered
	g.release <- struct{}{}
	if r := <-results; r.err != nil || r.closed {
		t.Errorf("close of an unknown entry: closed %v, %v", r.closed, r.err)
	}
}

// countingCloser is a batchCloser that records each statement's size.
type countingCloser struct {
	mu      sync.Mutex
	batches []int
}

func (c *countingCloser) CloseMigrationsAudited(_ context.Context, cs []state.MigrationClose) (map[int64]bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, len(cs))
	out := map[int64]bool{}
	for _, x := range cs {
		out[x.ID] = true
	}
	return out, nil
}

// With a linger, a close that would start a statement with few closes
// waits for more: closes handed over one after the other, none of them
// while a statement is in flight, still share statements; a full batch
// does not wait for the linger to end; without a linger each is written
// at once.
func TestCloseBatchLingerJoinsClosesArrivingApart(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		linger    time.Duration
		n         int
		maxBatchs int
	}{
		{linger: 0, n: 6, maxBatchs: 6},
		{linger: 300 * time.Millisecond, n: 6, maxBatchs: 1},
		{linger: time.Hour, n: closeBatchMax, maxBatchs: 1}, // full: written without waiting the hour
	} {
		var (
			b  closeBatch
			c  countingCloser
			wg sync.WaitGroup
		)
		for i := range tc.n {
			wg.Go(func() {
				if ok, err := b.close(ctx, &c, state.MigrationClose{ID: int64(i + 1)}, tc.linger); !ok || err != nil {
					t.Errorf("linger %s: close %d: %v %v", tc.linger, i+1, ok, err)
				}
			})
			if tc.linger == 0 {
				wg.Wait() // one after the other: nothing to join
			} else {
				time.Sleep(time.Millisecond) // apart, but within the linger
			}
		}
		wg.Wait()
		total := 0
		for _, n := range c.batches {
			total += n
		}
		if total != tc.n || len(c.batches) > tc.maxBatchs {
			t.Errorf("linger %s: %d closes in statements of %v, want at most %d statements", tc.linger, tc.n, c.batches, tc.maxBatchs)
		}
		if tc.linger == 0 && len(c.batches) != tc.n {
			t.Errorf("no linger: statements %v, want one per close", c.batches)
		}
	}
}
