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
	// LockLost is set by Run when the schema lock was found lost at the
	// end of the run: the actions ran, but not all of them under the lock.
	LockLost error
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
	deps := make([][]int, n)
	for i := range p.Actions {
		for _, d := range p.Actions[i].Deps {
			if j, ok := index[d]; ok {
				deps[i] = append(deps[i], j)
			}
		}
	}
	sched := newScheduler(deps)

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
		ready = make(chan int, n) // each action is sent at most once
		done  = make(chan struct{})
	)
	record := func(i int, o Outcome) {
		res.Outcomes[i] = o
		if e.Progress != nil {
			e.Progress.Done(o)
		}
	}
	// ended books an outcome with the scheduler and queues what it made
	// ready; skipped actions get their outcome here, unaudited (they did
	// not run).
	ended := func(i int, o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		record(i, o)
		next, skipped := sched.finish(i, o.Status == StatusOK)
		for _, sk := range skipped {
			a := &p.Actions[sk.action]
			record(sk.action, Outcome{ActionID: a.ID, Resource: a.Resource(), Action: a.Action, Status: StatusSkipped,
				Err: fmt.Errorf("%s: skipped: %s did not complete", a.Resource(), p.Actions[sk.cause].Resource())})
		}
		for _, d := range next {
			ready <- d
		}
		if sched.done() {
			close(done)
		}
	}
	// finished books an action that ran (or whose last statement did).
	finished := func(i int, t0 time.Time, err error) {
		a := &p.Actions[i]
		o := Outcome{ActionID: a.ID, Resource: a.Resource(), Action: a.Action, Status: StatusOK, Err: err, Duration: time.Since(t0)}
		if err != nil {
			o.Status = StatusFailed
		}
		o.AuditErr = x.audit(ctx, a, o)
		ended(i, o)
	}
	for _, i := range sched.ready() {
		ready <- i
	}
	// A move's last statement (its audited flip or journal close) is
	// committed by a committer, not by the worker that did the move: the
	// worker takes its next action while the statement commits, so the
	// par workers keep the backends busy instead of each waiting for a
	// Postgres commit per secret. The action is still complete, its
	// dependents released and its outcome reported, only once the
	// statement has committed; a kill before that leaves the move to be
	// resumed as before. Backend calls stay bounded by par (committers
	// only talk to Postgres), and at most par statements wait. There are
	// par committers so that journal closes, which wait a little for
	// each other (closeLinger), can fill a shared statement.
	type pending struct {
		i    int
		t0   time.Time
		last func(context.Context) error
	}
	var (
		cwg     sync.WaitGroup
		commits = make(chan pending, par)
	)
	for range par {
		cwg.Go(func() {
			for c := range commits {
				finished(c.i, c.t0, c.last(ctx))
			}
		})
	}
	for range par {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				case i := <-ready:
					t0 := time.Now()
					err := ctx.Err()
					var later func(context.Context) error
					if err == nil {
						later, err = x.run(ctx, &p.Actions[i])
					}
					if err == nil && later != nil {
						commits <- pending{i: i, t0: t0, last: later}
						continue
					}
					finished(i, t0, err)
				}
			}
		})
	}
	wg.Wait()
	close(commits)
	cwg.Wait()
	x.moves.closeUnused(context.WithoutCancel(ctx))
	res.Duration = time.Since(start)
	return res
}
