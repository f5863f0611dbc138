package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// PrecheckError lists what would make actions of a saved plan fail. It is
// returned before anything changes, so a saved plan applies as a whole or
// not at all as far as its inputs go.
type PrecheckError struct {
	Problems []string
}

func (e *PrecheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the saved plan cannot run: %d action(s) would fail, so nothing was changed:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	return b.String()
}

// Precheck verifies that every action of a saved plan can run, before any
// of them does: the managed values of each action resolve from their
// sources (environment variables set, files readable, no literal, which a
// saved plan cannot carry) to the fingerprint the plan recorded; the config
// of each backend it creates or updates validates; and the driver of each
// existing backend it uses opens. Stale (the rows and objects the plan was
// computed from) is checked separately. Values are resolved and dropped:
// the engine resolves them again when it writes.
func Precheck(ctx context.Context, store *state.Store, pool *backends.Pool, p *plan.Plan, lookupEnv func(string) (string, bool)) error {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	// Without the key (a role that may not read it) the fingerprints are
	// not compared here, as the engine does not compare them either.
	key, err := fingerprintKey(ctx, store)
	switch {
	case errors.Is(err, state.ErrNotInitialized):
		// This apply creates the schema and its key after the check; a plan
		// made against such a database recorded no fingerprints either.
		key = nil
	case err != nil:
		return err
	}
	var problems []string
	changed := map[string]bool{} // backends the plan creates or reconfigures
	used := map[string]bool{}
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.Kind == plan.KindSecretBackend {
			if (a.Action == plan.Create || a.Action == plan.Update) && a.After != nil {
				changed[a.Name] = true
				if a.Config != nil {
					if _, err := drivers.Validate(a.After.Type, a.Config); err != nil {
						problems = append(problems, fmt.Sprintf("%s: config: %v", a.Resource(), err))
					}
				}
			}
			continue
		}
		if a.Values != nil {
			if _, _, err := a.ResolveValues(key, lookupEnv); err != nil {
				problems = append(problems, err.Error())
			}
		}
		for _, b := range usedBackends(a) {
			used[b] = true
		}
	}
	rows, err := store.ListBackends(ctx)
	if err != nil {
		return fmt.Errorf("read the backends: %w", err)
	}
	exists := map[string]bool{}
	for _, r := range rows {
		exists[r.Name] = true
	}
	for _, b := range slices.Sorted(maps.Keys(used)) {
		switch {
		case changed[b]:
			continue // opened with its new config once its own action ran
		case !exists[b] && b == state.BootstrapBackend && !p.Initialized:
			continue // created with the schema, once the plan is accepted
		case !exists[b]:
			problems = append(problems, fmt.Sprintf("secretbackend/%s does not exist (any more)", b))
			continue
		}
		if _, err := pool.Driver(ctx, b); err != nil {
			problems = append(problems, fmt.Sprintf("secretbackend/%s: cannot be opened: %v", b, err))
		}
	}
	if len(problems) > 0 {
		return &PrecheckError{Problems: problems}
	}
	return ctx.Err()
}

// usedBackends are the backends whose drivers an action calls.
func usedBackends(a *plan.Action) []string {
	var out []string
	add := func(b string) {
		if b != "" {
			out = append(out, b)
		}
	}
	switch {
	case a.Migration != nil:
		add(a.Migration.From)
		add(a.Migration.To)
	case a.Cleanup != nil:
		add(a.Cleanup.Backend)
	case a.After != nil:
		add(a.After.Backend)
	case a.Before != nil:
		add(a.Before.Backend)
	}
	return out
}
