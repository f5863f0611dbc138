package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	applypkg "github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/backends"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// ExecuteChange runs one imperative change (create, delete) the way apply
// runs manifests: under the writer lock, planned with pkg/plan against the
// current state, executed by the apply engine (which audits it with the
// plan's id and reports progress on stderr). The command line is the
// confirmation, as with kubectl create and delete, so nothing is asked and
// the plan is not printed. It returns the executed plan; a refusal is
// returned as its error (and audited as failed), a failed action as that
// action's own error.
func ExecuteChange(ctx context.Context, ios *cmdutil.IOStreams, store *state.Store, pool *backends.Pool, ch planpkg.Change, lockTimeout time.Duration) (*planpkg.Plan, error) {
	start := time.Now()
	ro := applypkg.RunOptions{
		Store:       store,
		Pool:        pool,
		Change:      &ch,
		LockTimeout: lockTimeout,
		Operation:   strings.TrimPrefix(ch.Command(), "mcpctl "),
		Engine: applypkg.Engine{
			Parallelism: 1,
			Actor:       cmdutil.Actor(),
			Progress:    applypkg.NewProgress(ios.ErrOut, ios.IsStderrTTY()),
		},
	}
	p, res, err := applypkg.Run(ctx, ro)
	if res == nil {
		if err == nil {
			return p, nil
		}
		err = refusal(err)
		// The engine audits what it runs; a change refused before it ran
		// is audited here, as failed.
		cmdutil.Audit(ctx, store, ios, string(ch.Action), string(ch.Kind), ch.Name, "", start, err)
		return p, err
	}
	var skipped error
	for _, o := range res.Outcomes {
		if o.AuditErr != nil {
			fmt.Fprintf(ios.ErrOut, "Warning: %v\n", o.AuditErr)
		}
	}
	for _, o := range res.Outcomes {
		switch o.Status {
		case applypkg.StatusFailed:
			return p, o.Err
		case applypkg.StatusSkipped:
			skipped = o.Err
		}
	}
	if skipped == nil && res.LockLost != nil {
		return p, res.LockLost
	}
	return p, skipped
}

// refusal words a plan error for a one-resource command: its problem
// alone, or the list of them.
func refusal(err error) error {
	var pe *planpkg.Error
	if !errors.As(err, &pe) {
		return err
	}
	if len(pe.Problems) == 1 {
		return errors.New(pe.Problems[0])
	}
	return errors.New("the change was refused:\n  - " + strings.Join(pe.Problems, "\n  - "))
}
