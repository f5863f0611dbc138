// Package plan implements `mcpctl plan`: what apply would change, computed
// from the manifests, the state rows and the backends' metadata, without
// writing anything anywhere.
package plan

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Options for `mcpctl plan`.
type Options struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
	Pool  func(context.Context) (*backends.Pool, error)

	Manifests        cmdutil.ManifestFlags
	Shape            cmdutil.PlanFlags
	Output           string // text, json, markdown
	Out              string // --out FILE
	DetailedExitCode bool
	Parallelism      int
}

// NewCmdPlan builds `mcpctl plan`.
func NewCmdPlan(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
	cmd := &cobra.Command{
		Use:   "plan -f PATH... [flags]",
		Short: "Show what apply would change",
		Long: `Compare the manifests with reality — the state rows in Postgres and the
metadata of every backend object — and print the changes apply would make, in
the order it would make them:

  + create / repair    ~ update / write    - delete / cleanup    → migrate

plan never writes: not to Postgres (it works against an uninitialised database
by planning the creates), not to a backend, and it never reads a secret value.
Managed values are compared by a keyed fingerprint; a role that may not read the
fingerprint key (mcpctl_viewer) gets those comparisons reported as "unknown".

Resources in state that no manifest declares are listed as unmanaged; --prune
plans their deletion (restricted to the labels -l selects). A plan that would
delete more than --max-deletes resources, everything, or that comes from an
empty manifest set is refused unless --allow-mass-delete.

A plan that cannot be applied — a lost secret, a credential cycle, a protected
resource to delete, an unobservable backend — fails (exit 1) listing every
problem. Warnings, such as literal values in the manifests, go to stderr.

-o json prints the plan document (docs/plan-json.md), -o markdown a pull-request
comment with a Mermaid drawing of the migrations. --out FILE saves the plan
(mode 0600, no values) for 'mcpctl apply FILE', which runs exactly it, and
refuses it before changing anything if what it was computed from has moved
since or if an action could not run (an environment variable unset, a file
unreadable or changed). A plan needing literal 'value:'s is not saved (exit 1):
apply such manifests with 'apply -f', or use fromEnv/fromFile.

Exit codes: 0 success, 1 error; with --detailed-exitcode 0 means no changes and
2 means there are changes.`,
		Example: `  # What would change?
  mcpctl plan -f manifests/

  # In CI: save the plan, comment it on the pull request, gate on changes
  mcpctl plan -f manifests/ --out plan.json -o markdown --detailed-exitcode > comment.md

  # Also delete what the manifests no longer declare, for one team only
  mcpctl plan -f manifests/ --prune -l team=infra`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Manifests.Paths) == 0 {
				return cmdutil.FlagErrorf("give the manifests to plan with -f PATH (a file, a directory, or - for stdin)")
			}
			if opts.Parallelism < 1 {
				return cmdutil.FlagErrorf("invalid --parallelism %d: must be at least 1", opts.Parallelism)
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.Manifests.Register(fs)
	opts.Shape.Register(fs)
	cmdutil.OutputFlag(cmd, &opts.Output, "text", "json", "markdown")
	fs.StringVar(&opts.Out, "out", "", "Save the plan to FILE (mode 0600) for `mcpctl apply FILE`")
	fs.BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "Exit 2 when there are changes (0: none, 1: error)")
	fs.IntVar(&opts.Parallelism, "parallelism", planpkg.DefaultParallelism, "How many backend objects to look at concurrently")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	popts, err := opts.Shape.Options()
	if err != nil {
		return err
	}
	popts.Parallelism = opts.Parallelism
	set, err := opts.Manifests.Load(ctx, opts.IO)
	if err != nil {
		return err
	}
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	popts.Schema = store.Schema()
	snap, fps, err := planpkg.Gather(ctx, store, pool, set, popts)
	if err != nil {
		return fmt.Errorf("plan against schema %q: %w", store.Schema(), err)
	}
	p, err := planpkg.Compute(set, fps, snap, popts)
	if err != nil {
		cmdutil.PrintWarnings(opts.IO, set.Warnings)
		return cmdutil.PlanProblems(opts.IO, err)
	}
	cmdutil.PrintWarnings(opts.IO, p.Warnings)
	if opts.Out != "" {
		// Refuse before printing anything: a plan that would apply only
		// partly from the file is not one to review.
		if err := planpkg.CheckSaveable(p); err != nil {
			return cmdutil.WithHint(err, "apply these manifests directly with `mcpctl apply -f`, or give those values with fromEnv or fromFile so a saved plan can resolve them")
		}
	}

	if err := Render(opts.IO, p, opts.Output); err != nil {
		return err
	}
	if opts.Out != "" {
		if err := planpkg.WriteFile(opts.Out, p); err != nil {
			return err
		}
		// The saved-plan note is for people; with -o json or markdown
		// stdout is a document, so it goes to stderr.
		w := opts.IO.ErrOut
		if opts.Output == "text" {
			w = opts.IO.Out
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Saved the plan to %s. To perform exactly these actions, run:\n  mcpctl apply %s\n", opts.Out, opts.Out)
	}
	if opts.DetailedExitCode && p.HasChanges() {
		return cmdutil.Changes
	}
	return nil
}

// Render writes p in the given format (text, json or markdown). Text is
// coloured only when stdout is a terminal and colour is not disabled; its
// warnings are left out, since they were printed on stderr.
func Render(ios *cmdutil.IOStreams, p *planpkg.Plan, format string) error {
	var err error
	switch format {
	case "json":
		err = planpkg.RenderJSON(ios.Out, p)
	case "markdown":
		err = planpkg.RenderMarkdown(ios.Out, p)
	default:
		err = RenderText(ios.Out, p, ios.ColorEnabled())
	}
	if err != nil {
		return fmt.Errorf("print the plan: %w", err)
	}
	return nil
}

// RenderText writes the text form of p without its warnings (the commands
// print them on stderr).
func RenderText(w io.Writer, p *planpkg.Plan, color bool) error {
	shown := *p
	shown.Warnings = nil
	return planpkg.RenderText(w, &shown, planpkg.TextOptions{Color: color})
}
