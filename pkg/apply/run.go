package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// RunOptions describe one apply run.
type RunOptions struct {
	Store *state.Store
	Pool  *backends.Pool
	// Exactly one of Manifests (plan now, then apply), Saved (apply a plan
	// saved earlier, refused when stale), Build and Change is set. Build
	// computes the plan under the lock from the snapshot (migrate secrets).
	Manifests *manifest.Set
	Saved     *plan.Plan
	Build     func(ctx context.Context, snap *plan.Snapshot) (*plan.Plan, error)
	// Change, when set instead, is one imperative change (create, delete)
	// planned under the lock by plan.GatherChange and plan.BuildChange.
	Change *plan.Change

	PlanOptions plan.Options
	LockTimeout time.Duration
	Operation   string // recorded in the lock row: "apply", "migrate secrets"
	// Confirm is called with the plan before anything changes (it shows the
	// plan and asks, or checks --auto-approve). Returning false stops the run
	// with ErrDeclined.
	Confirm func(p *plan.Plan) (bool, error)
	Engine  Engine // Store and Pool are filled from above
}

// ErrDeclined is returned when Confirm said no.
var ErrDeclined = errors.New("apply cancelled")

// StaleError lists what moved since a saved plan was made.
type StaleError struct {
	Moved []plan.Moved
}

func (e *StaleError) Error() string {
	resources := map[string]bool{}
	for _, m := range e.Moved {
		resources[m.Resource] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the saved plan is stale: %d resource(s) changed since it was made:", len(resources))
	for _, m := range e.Moved {
		b.WriteString("\n  " + m.String())
	}
	b.WriteString("\nrun `mcpctl plan` again and review the new plan")
	return b.String()
}

// Run takes the schema lock, migrates the schema if needed, builds or checks
// the plan, asks for confirmation and executes it. The plan is returned even
// when nothing changes (so the caller can print "No changes.").
//
// A run whose lock was lost while it executed (its session terminated, a
// force-unlock) reports it: Result.LockLost is set and the error says so,
// since another writer may have run at the same time.
func Run(ctx context.Context, o RunOptions) (*plan.Plan, *Result, error) {
	op := o.Operation
	if op == "" {
		op = "apply"
	}
	lock, err := o.Store.Lock(ctx, state.LockOptions{Operation: op, Timeout: o.LockTimeout})
	if err != nil {
		return nil, nil, err
	}
	// Released here on a panic; releasing twice is a no-op.
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	p, res, err := run(ctx, o, lock)
	rerr := lock.Release(context.WithoutCancel(ctx))
	if res != nil && len(res.Outcomes) > 0 && errors.Is(rerr, state.ErrLockLost) {
		res.LockLost = fmt.Errorf("%w; another writer may have changed the schema while this run was unlocked: run `mcpctl plan` to check", rerr)
		err = errors.Join(err, res.LockLost)
	}
	return p, res, err
}

func run(ctx context.Context, o RunOptions, lock *state.Lock) (*plan.Plan, *Result, error) {
	// An existing schema is upgraded before planning (the plan reads it); a
	// database mcpctl never touched is planned as empty and initialised only
	// once the plan is accepted, so refused input leaves it untouched.
	st, err := o.Store.Status(ctx)
	if err != nil {
		return nil, nil, err
	}
	if st.Initialized {
		if err := o.Store.Migrate(ctx); err != nil {
			return nil, nil, fmt.Errorf("migrate the state schema: %w", err)
		}
	}

	opts := o.PlanOptions
	if opts.Schema == "" {
		opts.Schema = o.Store.Schema()
	}
	var p *plan.Plan
	switch {
	case o.Saved != nil:
		p = o.Saved
		if p.Schema != "" && p.Schema != o.Store.Schema() {
			return p, nil, fmt.Errorf("the saved plan was made for schema %q, not %q", p.Schema, o.Store.Schema())
		}
		snap, err := plan.Refresh(ctx, o.Store, o.Pool, p, opts)
		if err != nil {
			return p, nil, err
		}
		if moved := plan.Stale(p, snap); len(moved) > 0 {
			return p, nil, &StaleError{Moved: moved}
		}
		lookup := o.Engine.LookupEnv
		if lookup == nil {
			lookup = opts.LookupEnv
		}
		if err := Precheck(ctx, o.Store, o.Pool, p, lookup); err != nil {
			return p, nil, err
		}
	case o.Change != nil:
		snap, fps, err := plan.GatherChange(ctx, o.Store, o.Pool, *o.Change)
		if err != nil {
			return nil, nil, err
		}
		if p, err = plan.BuildChange(*o.Change, fps, snap, opts); err != nil {
			return p, nil, err
		}
	case o.Build != nil:
		snap, _, err := plan.Gather(ctx, o.Store, o.Pool, &manifest.Set{}, opts)
		if err != nil {
			return nil, nil, err
		}
		if p, err = o.Build(ctx, snap); err != nil {
			return p, nil, err
		}
	default:
		snap, fps, err := plan.Gather(ctx, o.Store, o.Pool, o.Manifests, opts)
		if err != nil {
			return nil, nil, err
		}
		if p, err = plan.Compute(o.Manifests, fps, snap, opts); err != nil {
			return p, nil, err
		}
		// The plan holds what execution needs: let the manifest set go
		// (tens of MB at 100,000 secrets) before the actions run.
		o.Manifests = nil
	}
	if !p.HasChanges() {
		return p, &Result{PlanID: p.ID}, nil
	}
	if o.Confirm != nil {
		ok, err := o.Confirm(p)
		if err != nil {
			return p, nil, err
		}
		if !ok {
			return p, nil, ErrDeclined
		}
	}
	if err := lock.Verify(ctx); err != nil {
		return p, nil, err
	}
	if !st.Initialized {
		if err := o.Store.Migrate(ctx); err != nil {
			return p, nil, fmt.Errorf("initialise the state schema: %w", err)
		}
	}
	eng := o.Engine
	eng.Store, eng.Pool = o.Store, o.Pool
	if eng.LookupEnv == nil {
		eng.LookupEnv = opts.LookupEnv
	}
	res := eng.Execute(ctx, p)
	return p, res, res.Err()
}

// Summary is the one line printed after an apply:
// "Apply complete: 3 created, 120 migrated, 0 failed in 4.2s".
func (r *Result) Summary() string {
	parts := []string{}
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(r.Count(plan.Create), "created")
	add(r.Count(plan.Update), "updated")
	add(r.Count(plan.Migrate), "migrated")
	add(r.Count(plan.Write), "written")
	add(r.Count(plan.Repair), "repaired")
	add(r.Count(plan.Cleanup), "cleaned up")
	add(r.Count(plan.Delete), "deleted")
	failed := r.Failed()
	parts = append(parts, fmt.Sprintf("%d failed", failed))
	if n := r.AuditFailures(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not audited", n))
	}
	head := "Apply complete"
	if failed > 0 {
		head = "Apply finished with errors"
	}
	d := r.Duration.Round(100 * time.Millisecond)
	if r.Duration < time.Second {
		d = r.Duration.Round(time.Millisecond)
	}
	return fmt.Sprintf("%s: %s in %s", head, strings.Join(parts, ", "), d)
}
