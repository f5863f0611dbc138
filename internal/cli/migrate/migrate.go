// Package migrate implements `mcpctl migrate secrets`: move secrets between
// backends imperatively, through the same engine and crash-safe protocol as
// apply.
package migrate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	applycmd "github.com/mcpctl/mcpctl/internal/cli/apply"
	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	plancmd "github.com/mcpctl/mcpctl/internal/cli/plan"
	applypkg "github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Options for `mcpctl migrate secrets`.
type Options struct {
	IO     *cmdutil.IOStreams
	Store  func(context.Context) (*state.Store, error)
	Pool   func(context.Context) (*backends.Pool, error)
	Getenv func(string) string

	From, To      string
	Names         []string
	Exclude       []string
	Cleanup       bool
	KeepSource    bool
	DestroySource bool
	DryRun        bool
	AutoApprove   bool
	Parallelism   int
	LockTimeout   time.Duration
}

// NewCmdMigrate builds the `mcpctl migrate` group.
func NewCmdMigrate(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate <resource>",
		Short: "Move secrets between backends",
		Long: `Move secrets between backends without editing manifests first: the imperative
form of changing spec.backend and running apply.`,
		Example: `  mcpctl migrate secrets --from default --to bao`,
		RunE:    cmdutil.RequireSubcommand("specify what to migrate"),
	}
	cmd.AddCommand(NewCmdSecrets(f, nil))
	return cmd
}

// NewCmdSecrets builds `mcpctl migrate secrets`.
func NewCmdSecrets(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "secrets --from BACKEND --to BACKEND [--names a,b] [--exclude c,d] [flags] | --cleanup",
		Short: "Move secrets from one backend to another",
		Long: `Move every secret on --from (or only those --names lists, minus --exclude) to --to.

This builds a plan of migrations only and runs it through the same engine as
apply, under the same writer lock: each secret is journaled, copied, read back
and compared before its row flips to the new backend, then the source copy is
soft-deleted (--destroy-source destroys it). Consumers (mcpctl exec/env) keep
reading every secret from wherever its row says, during and after the move.
Killing the command and running it again resumes, before the flip and after
it (a source copy that could not be removed is removed by the next run).

--keep-source leaves the source copy readable (for a plaintext source: the
values stay in Postgres) and records it as kept: 'mcpctl get secrets' and
'mcpctl plan' show it until 'mcpctl migrate secrets --cleanup' removes it
(soft delete, or --destroy-source). --cleanup alone removes every kept copy;
with --from (where the copy is), --to, --names or --exclude only those.

Without --names, the credential Secrets of --to (its token Secret), and of any
backend that would then depend on itself, are not moved: each is named in a
warning. Naming such a secret in --names is an error naming the cycle.

The plan is shown first and must be confirmed with 'yes' on a terminal, or with
--auto-approve. --dry-run shows it and changes nothing (exit 0).

Manifests are not edited: a secret whose manifest still places it on --from
moves back on the next 'mcpctl apply -f'. Update spec.backend (or the default
backend) in the manifests too.`,
		Example: `  # Everything on the plaintext bootstrap backend to OpenBao
  mcpctl migrate secrets --from default --to bao

  # Two secrets, keeping the source copies until you have checked the result
  mcpctl migrate secrets --from default --to bao --names openai,github --keep-source

  # What would move?
  mcpctl migrate secrets --from default --to bao --dry-run

  # Remove the source copies kept by --keep-source
  mcpctl migrate secrets --cleanup`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case opts.Cleanup && opts.KeepSource:
				return cmdutil.FlagErrorf("--cleanup removes kept copies; --keep-source contradicts it")
			case !opts.Cleanup && (opts.From == "" || opts.To == ""):
				return cmdutil.FlagErrorf("name the backends with --from and --to (or remove kept copies with --cleanup)")
			case opts.From != "" && opts.From == opts.To:
				return cmdutil.FlagErrorf("--from and --to are both %q: nothing would move", opts.From)
			case opts.KeepSource && opts.DestroySource:
				return cmdutil.FlagErrorf("--keep-source and --destroy-source contradict each other")
			case opts.Parallelism < 1:
				return cmdutil.FlagErrorf("invalid --parallelism %d: must be at least 1", opts.Parallelism)
			}
			for _, n := range append(slices.Clone(opts.Names), opts.Exclude...) {
				if err := cmdutil.ValidateName("secret", n); err != nil {
					return err
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
	fs.StringVar(&opts.From, "from", "", "Backend the secrets live on now")
	fs.StringVar(&opts.To, "to", "", "Backend to move them to")
	fs.StringSliceVar(&opts.Names, "names", nil, "Only these secrets (comma-separated or repeated); default: every secret on --from")
	fs.StringSliceVar(&opts.Exclude, "exclude", nil, "Leave these secrets out (comma-separated or repeated)")
	fs.BoolVar(&opts.KeepSource, "keep-source", false, "Keep the source copies readable, recorded as kept until --cleanup removes them")
	fs.BoolVar(&opts.Cleanup, "cleanup", false, "Remove the source copies kept by --keep-source (and leftovers of interrupted moves) instead of moving")
	fs.BoolVar(&opts.DestroySource, "destroy-source", false, "Destroy (instead of soft-delete) the source copies, also with --cleanup")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "Show the plan and change nothing")
	fs.BoolVar(&opts.AutoApprove, "auto-approve", false, "Move without asking for confirmation (required without a terminal)")
	fs.IntVar(&opts.Parallelism, "parallelism", applycmd.DefaultParallelism, "How many secrets to move at once")
	_ = cmd.RegisterFlagCompletionFunc("from", cmdutil.CompleteBackendNames(f))
	_ = cmd.RegisterFlagCompletionFunc("to", cmdutil.CompleteBackendNames(f))
	_ = cmd.RegisterFlagCompletionFunc("names", cmdutil.CompleteSecretNames(f))
	_ = cmd.RegisterFlagCompletionFunc("exclude", cmdutil.CompleteSecretNames(f))
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	req := planpkg.MigrationRequest{
		From: opts.From, To: opts.To, Names: opts.Names, Exclude: opts.Exclude,
		KeepSource: opts.KeepSource, DestroySource: opts.DestroySource, Cleanup: opts.Cleanup,
		Schema: store.Schema(),
	}
	build := func(ctx context.Context, snap *planpkg.Snapshot) (*planpkg.Plan, error) {
		if err := planpkg.ObserveMigration(ctx, pool, snap, req, opts.Parallelism); err != nil {
			return nil, err
		}
		return planpkg.BuildMigration(req, snap)
	}

	if opts.DryRun {
		popts := planpkg.Options{Schema: store.Schema(), Parallelism: opts.Parallelism}
		snap, _, err := planpkg.Gather(ctx, store, pool, &manifest.Set{}, popts)
		if err != nil {
			return fmt.Errorf("read schema %q: %w", store.Schema(), err)
		}
		p, err := build(ctx, snap)
		if err != nil {
			return cmdutil.PlanProblems(opts.IO, err)
		}
		if !p.HasChanges() {
			cmdutil.PrintWarnings(opts.IO, p.Warnings)
			fmt.Fprintln(opts.IO.Out, noneLine(req))
			return nil
		}
		if err := plancmd.RenderText(opts.IO.Out, p, opts.IO.ColorEnabled()); err != nil {
			return err
		}
		fmt.Fprintln(opts.IO.Out, "\nDry run: nothing was changed.")
		return nil
	}

	ro := applypkg.RunOptions{
		Build:       build,
		LockTimeout: opts.LockTimeout,
		Operation:   "migrate secrets",
		PlanOptions: planpkg.Options{Parallelism: opts.Parallelism, KeepSource: opts.KeepSource, DestroySource: opts.DestroySource},
	}
	question := fmt.Sprintf("Move these secrets from %s to %s in schema %q?", opts.From, opts.To, store.Schema())
	if opts.Cleanup {
		question = fmt.Sprintf("Remove these copies in schema %q?", store.Schema())
	}
	return applycmd.Execute(ctx, opts.IO, opts.Store, opts.Pool, ro, applycmd.Settings{
		AutoApprove:   opts.AutoApprove,
		Parallelism:   opts.Parallelism,
		KeepSource:    opts.KeepSource,
		DestroySource: opts.DestroySource,
		Getenv:        opts.Getenv,
		Question:      question,
		NoChanges:     noneLine(req),
		After: func(p *planpkg.Plan) {
			names := make([]string, 0, len(p.Actions))
			for _, a := range p.Actions {
				if a.Action == planpkg.Migrate {
					names = append(names, a.Name)
				}
			}
			if len(names) == 0 {
				return
			}
			fmt.Fprintf(opts.IO.ErrOut, "Hint: update the manifests of %s to `spec.backend: %s`; a manifest that still places a secret on %s moves it back on the next `mcpctl apply -f`\n",
				nameList(names, 5), opts.To, opts.From)
		},
	})
}

func noneLine(req planpkg.MigrationRequest) string {
	if req.Cleanup {
		return "No changes: there are no kept copies to remove."
	}
	if len(req.Names) > 0 {
		return fmt.Sprintf("No changes: %s already moved.", strings.Join(req.Names, ", "))
	}
	return fmt.Sprintf("No changes: nothing to move from %s to %s.", req.From, req.To)
}

func nameList(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
