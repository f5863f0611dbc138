// Package apply executes a Plan: actions in dependency order on a bounded
// worker pool, each recorded in the audit log, migrations through the
// crash-safe protocol in migrate.go. It never recomputes desired state: what
// it does is what the plan says, checked against the plan's preconditions.
package apply

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Status is the outcome of one action.
type Status string

const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// Outcome is what happened to one action.
type Outcome struct {
	ActionID string
	Resource string
	Action   plan.ActionType
	Status   Status
	Err      error
	Duration time.Duration
	// AuditErr says why the action's audit entry could not be written
	// (nil when it was). The action's own outcome stands either way.
	AuditErr error
}

// Result lists every action of the plan with its outcome, in plan order.
type Result struct {
	PlanID   string
	Outcomes []Outcome
	Duration time.Duration
}

// Failed counts failed and skipped actions.
func (r *Result) Failed() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status != StatusOK {
			n++
		}
	}
	return n
}

// AuditFailures counts the actions whose audit entry could not be written.
func (r *Result) AuditFailures() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.AuditErr != nil {
			n++
		}
	}
	return n
}

// fingerprintKey reads the key of the changed-since-plan check. A role that
// may not read it (a backend admin) writes no values, so it goes without;
// any other failure is returned, since a transient error must not silently
// turn the check off.
func fingerprintKey(ctx context.Context, st interface {
	FingerprintKey(ctx context.Context) ([]byte, error)
}) ([]byte, error) {
	key, err := st.FingerprintKey(ctx)
	switch {
	case errors.Is(err, state.ErrPermissionDenied):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read the fingerprint key (the changed-since-plan check needs it): %w", err)
	}
	return key, nil
}

// Count returns how many actions of type t succeeded.
func (r *Result) Count(t plan.ActionType) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Action == t && o.Status == StatusOK {
			n++
		}
	}
	return n
}

// Err is nil when every action succeeded, else an error naming the failures.
func (r *Result) Err() error {
	var errs []error
	for _, o := range r.Outcomes {
		if o.Status == StatusFailed {
			errs = append(errs, o.Err)
		}
	}
	if len(errs) == 0 && r.Failed() == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d actions did not complete: %w", r.Failed(), len(r.Outcomes), errors.Join(errs...))
}

// Progress receives the run's progress. Implementations must be safe for
// concurrent use.
type Progress interface {
	Start(total int)
	Done(o Outcome)
	Finish()
}

// Engine executes plans against one state store and its backends.
type Engine struct {
	Store *state.Store
	Pool  *backends.Pool
	// Parallelism bounds concurrent actions (default 8).
	Parallelism int
	// Actor is recorded in the audit log (see Actor()).
	Actor string
	// LookupEnv resolves fromEnv sources (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// KeepSource / DestroySource override the plan's migration options when set.
	KeepSource, DestroySource bool
	Progress                  Progress
	// Failpoint is handed to the Migrator (see Migrator.Failpoint).
	Failpoint func(step string)
}

// Execute runs every action of p. A failed action skips the actions that
// depend on it, directly or not; independent actions go on. The caller holds
// the schema lock and has checked that the plan is not stale.
func (e *Engine) Execute(ctx context.Context, p *plan.Plan) *Result {
	start := time.Now()
	n := len(p.Actions)
	res := &Result{PlanID: p.ID, Outcomes: make([]Outcome, n)}
	if e.Progress != nil {
		e.Progress.Start(n)
		defer e.Progress.Finish()
	}
	if n == 0 {
		return res
	}
	index := make(map[string]int, n)
	for i := range p.Actions {
		index[p.Actions[i].ID] = i
	}
	dependents := make([][]int, n)
	waiting := make([]int, n)
	for i := range p.Actions {
		for _, d := range p.Actions[i].Deps {
			j, ok := index[d]
			if !ok {
				continue
			}
			dependents[j] = append(dependents[j], i)
			waiting[i]++
		}
	}

	key, err := fingerprintKey(ctx, e.Store)
	x := &executor{e: e, plan: p, key: key}
	x.migr = &Migrator{Store: e.Store, Drivers: e.Pool, Backend: x.backend, Failpoint: e.Failpoint}
	x.moves = newMoveBatch(x, p)
	if err == nil {
		err = x.loadJournal(ctx)
	}
	if err == nil {
		err = x.loadBackends(ctx)
	}
	if err != nil {
		for i := range p.Actions {
			res.Outcomes[i] = Outcome{ActionID: p.Actions[i].ID, Resource: p.Actions[i].Resource(), Action: p.Actions[i].Action, Status: StatusFailed, Err: err}
		}
		return res
	}

	par := e.Parallelism
	if par <= 0 {
		par = 8
	}
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		ready = make(chan int, n)
		left  = n
		done  = make(chan struct{})
	)
	var finish func(i int, o Outcome)
	finish = func(i int, o Outcome) {
		// called with mu held
		res.Outcomes[i] = o
		if e.Progress != nil {
			e.Progress.Done(o)
		}
		left--
		for _, d := range dependents[i] {
			if o.Status != StatusOK {
				if res.Outcomes[d].ActionID == "" {
					a := &p.Actions[d]
					finish(d, Outcome{ActionID: a.ID, Resource: a.Resource(), Action: a.Action, Status: StatusSkipped,
						Err: fmt.Errorf("%s: skipped: %s did not complete", a.Resource(), p.Actions[i].Resource())})
				}
				continue
			}
			waiting[d]--
			if waiting[d] == 0 && res.Outcomes[d].ActionID == "" {
				ready <- d
			}
		}
		if left == 0 {
			close(done)
		}
	}
	for i := range p.Actions {
		if waiting[i] == 0 {
			ready <- i
		}
	}
	for w := 0; w < par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				case i := <-ready:
					a := &p.Actions[i]
					t0 := time.Now()
					var err error
					if ctx.Err() != nil {
						err = ctx.Err()
					} else {
						err = x.run(ctx, a)
					}
					o := Outcome{ActionID: a.ID, Resource: a.Resource(), Action: a.Action, Status: StatusOK, Err: err, Duration: time.Since(t0)}
					if err != nil {
						o.Status = StatusFailed
					}
					o.AuditErr = x.audit(ctx, a, o)
					mu.Lock()
					finish(i, o)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	x.moves.closeUnused(context.WithoutCancel(ctx))
	res.Duration = time.Since(start)
	return res
}
