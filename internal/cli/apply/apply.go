// Package apply implements `mcpctl apply`: make reality match the manifests,
// or run a plan saved by `mcpctl plan --out`.
package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	plancmd "github.com/mcpctl/mcpctl/internal/cli/plan"
	"github.com/mcpctl/mcpctl/internal/failpoint"
	applypkg "github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/backends"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// DefaultParallelism is how many actions run at once by default.
const DefaultParallelism = 8

// Options for `mcpctl apply`.
type Options struct {
	IO     *cmdutil.IOStreams
	Store  func(context.Context) (*state.Store, error)
	Pool   func(context.Context) (*backends.Pool, error)
	Getenv func(string) string

	Manifests     cmdutil.ManifestFlags
	Shape         cmdutil.PlanFlags
	PlanFile      string // a saved plan instead of -f
	AutoApprove   bool
	Parallelism   int
	KeepSource    bool
	DestroySource bool
	LockTimeout   time.Duration
}

// NewCmdApply builds `mcpctl apply`.
func NewCmdApply(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "apply (-f PATH... | PLANFILE) [flags]",
		Short: "Make reality match the manifests",
		Long: `Make the secret backends and the placement of every secret match the
manifests, or run a plan saved by 'mcpctl plan --out FILE'.

apply takes the schema's writer lock (waiting up to --lock-timeout for another
writer, then failing with the holder's name), creates or upgrades the state
schema, computes the plan (or checks that a saved one is still current: a saved
plan whose resources moved since is refused, naming each one and how), prints
it and asks for 'yes'. Without a terminal to ask on, --auto-approve is
required. Actions run in dependency order, --parallelism at a time; a failed
action skips the actions that depend on it and the others go on.

Moving a secret to another backend is a migration: journaled, copied, read back
and compared before the row flips, then the source copy is soft-deleted
(--destroy-source destroys it, --keep-source leaves it). Killing apply at any
point and running it again converges without losing a value.

Exit codes: 0 success or no changes, 1 error (including any failed action).`,
		Example: `  # Review and confirm on a terminal
  mcpctl apply -f manifests/

  # In CI, after reviewing the saved plan on the pull request
  mcpctl apply plan.json

  # Unattended, keeping the source copies of migrated secrets
  mcpctl apply -f manifests/ --auto-approve --keep-source`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return cmdutil.FlagErrorf("unexpected argument %q: apply takes one saved plan file", args[1])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.PlanFile = args[0]
			}
			switch {
			case opts.PlanFile != "" && len(opts.Manifests.Paths) > 0:
				return cmdutil.FlagErrorf("give either manifests with -f or a saved plan file, not both")
			case opts.PlanFile == "" && len(opts.Manifests.Paths) == 0:
				return cmdutil.FlagErrorf("give the manifests to apply with -f PATH, or a plan file saved by `mcpctl plan --out FILE`")
			case opts.Parallelism < 1:
				return cmdutil.FlagErrorf("invalid --parallelism %d: must be at least 1", opts.Parallelism)
			case opts.KeepSource && opts.DestroySource:
				return cmdutil.FlagErrorf("--keep-source and --destroy-source contradict each other")
			}
			if opts.PlanFile != "" {
				// A saved plan is run exactly as reviewed: what shaped it
				// cannot change now, and destroying more than it says is
				// not a decision to take at apply time.
				if name := opts.Shape.Changed(cmd); name != "" {
					return cmdutil.FlagErrorf("--%s shapes a plan and cannot change a saved one; pass it to `mcpctl plan` instead", name)
				}
				for _, name := range []string{"destroy-source", "files-root"} {
					if cmd.Flags().Changed(name) {
						return cmdutil.FlagErrorf("--%s cannot change a saved plan; pass it to `mcpctl plan` instead", name)
					}
				}
			}
			opts.LockTimeout = f.Options.LockTimeout
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.Manifests.Register(fs)
	opts.Shape.Register(fs)
	fs.BoolVar(&opts.AutoApprove, "auto-approve", false, "Apply without asking for confirmation (required without a terminal)")
	fs.IntVar(&opts.Parallelism, "parallelism", DefaultParallelism, "How many actions to run at once")
	fs.BoolVar(&opts.KeepSource, "keep-source", false, "Keep the source copy of migrated secrets")
	fs.BoolVar(&opts.DestroySource, "destroy-source", false, "Destroy (instead of soft-delete) the source copies of migrated secrets and pruned objects")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	ro := applypkg.RunOptions{
		LockTimeout: opts.LockTimeout,
		Operation:   "apply",
	}
	if opts.PlanFile != "" {
		p, err := planpkg.ReadFile(opts.PlanFile)
		if err != nil {
			return err
		}
		ro.Saved = p
	} else {
		popts, err := opts.Shape.Options()
		if err != nil {
			return err
		}
		popts.KeepSource, popts.DestroySource = opts.KeepSource, opts.DestroySource
		popts.Parallelism = opts.Parallelism
		set, err := opts.Manifests.Load(ctx, opts.IO)
		if err != nil {
			return err
		}
		ro.Manifests, ro.PlanOptions = set, popts
	}
	return Execute(ctx, opts.IO, opts.Store, opts.Pool, ro, Settings{
		AutoApprove: opts.AutoApprove,
		Parallelism: opts.Parallelism,
		KeepSource:  opts.KeepSource,
		Getenv:      opts.Getenv,
	})
}

// Settings are how a reconcile command wants a plan executed.
type Settings struct {
	AutoApprove   bool
	Parallelism   int
	KeepSource    bool
	DestroySource bool
	Getenv        func(string) string
	// Question is asked on the terminal ("Apply these changes to schema X?"
	// when empty).
	Question string
	// NoChanges is printed when there is nothing to do (plan's "No
	// changes." sentence when empty).
	NoChanges string
	// After is printed after a successful run with changes (migrate's
	// reminder to update the manifests).
	After func(p *planpkg.Plan)
}

// Execute runs ro through the apply engine the way apply and migrate share:
// show the plan on stdout, confirm (or refuse without a terminal and
// without --auto-approve), show progress on stderr, then the summary. It
// returns SilentError after printing failures itself.
func Execute(ctx context.Context, ios *cmdutil.IOStreams, openStore func(context.Context) (*state.Store, error), openPool func(context.Context) (*backends.Pool, error), ro applypkg.RunOptions, s Settings) error {
	store, err := openStore(ctx)
	if err != nil {
		return err
	}
	pool, err := openPool(ctx)
	if err != nil {
		return err
	}
	ro.Store, ro.Pool = store, pool
	ro.Engine = applypkg.Engine{
		Parallelism:   s.Parallelism,
		Actor:         cmdutil.Actor(),
		KeepSource:    s.KeepSource,
		DestroySource: s.DestroySource,
		Progress:      applypkg.NewProgress(ios.ErrOut, ios.IsStderrTTY()),
		Failpoint:     failpoint.FromEnv(s.Getenv),
	}
	ro.Confirm = func(p *planpkg.Plan) (bool, error) {
		cmdutil.PrintWarnings(ios, p.Warnings)
		if err := plancmd.RenderText(ios.Out, p, ios.ColorEnabled()); err != nil {
			return false, err
		}
		fmt.Fprintln(ios.Out)
		if s.AutoApprove {
			return true, nil
		}
		if !ios.CanPrompt() {
			return false, cmdutil.WithHint(errors.New("apply needs confirmation and there is no terminal to ask on"),
				"review the plan above, then pass --auto-approve (or save it with `mcpctl plan --out FILE` and run `mcpctl apply FILE`)")
		}
		q := s.Question
		if q == "" {
			q = fmt.Sprintf("Apply these changes to schema %q?", store.Schema())
		}
		return cmdutil.ConfirmYes(ios, q)
	}

	p, res, err := applypkg.Run(ctx, ro)
	switch {
	case errors.Is(err, applypkg.ErrDeclined):
		return cmdutil.ErrCancelled
	case err != nil && res == nil:
		return cmdutil.PlanProblems(ios, err)
	}
	if !p.HasChanges() {
		cmdutil.PrintWarnings(ios, p.Warnings)
		line := s.NoChanges
		if line == "" {
			line = planpkg.SummaryLine(p)
		}
		fmt.Fprintln(ios.Out, line)
		return nil
	}
	if res.Failed() > 0 {
		fmt.Fprintf(ios.ErrOut, "Error: %d of %d actions did not complete:\n", res.Failed(), len(res.Outcomes))
		for _, o := range res.Outcomes {
			if o.Status == applypkg.StatusOK {
				continue
			}
			fmt.Fprintf(ios.ErrOut, "  %s %s: %v\n", o.Status, o.Resource, o.Err)
		}
	}
	for _, o := range res.Outcomes {
		if o.AuditErr != nil {
			fmt.Fprintf(ios.ErrOut, "Warning: %v\n", o.AuditErr)
		}
	}
	fmt.Fprintln(ios.Out, res.Summary())
	if res.LockLost != nil {
		fmt.Fprintf(ios.ErrOut, "Error: %v\n", res.LockLost)
	}
	if res.Failed() > 0 {
		fmt.Fprintln(ios.ErrOut, "Hint: fix the cause and run the same command again; what completed is not redone, and interrupted migrations resume")
		return cmdutil.SilentError
	}
	if res.LockLost != nil {
		return cmdutil.SilentError
	}
	if s.After != nil {
		s.After(p)
	}
	return nil
}
