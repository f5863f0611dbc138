// Package graph implements `mcpctl graph`: a picture of the backends, how
// many secrets each holds, whose credentials live where, and (with -f) the
// moves a plan would make.
package graph

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Options for `mcpctl graph`.
type Options struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
	Pool  func(context.Context) (*backends.Pool, error)

	Manifests cmdutil.ManifestFlags
	Output    string // mermaid, dot
}

// NewCmdGraph builds `mcpctl graph`.
func NewCmdGraph(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
	cmd := &cobra.Command{
		Use:   "graph [-f PATH...] [-o mermaid|dot]",
		Short: "Draw the backends, their secrets and the planned moves",
		Long: `Draw the installation: every backend with how many secrets it holds, a dotted
arrow from each backend to the backend that keeps its token (the credential
dependency the planner orders by), and with -f the moves the plan of those
manifests would make, as thick arrows labelled with how many secrets move.

-o mermaid (the default) prints a Mermaid flowchart, which GitHub and GitLab
render inside a ` + "```mermaid" + ` block; -o dot prints Graphviz, for 'dot -Tsvg'.
Without -f, graph reads only the state database; with -f it plans, which
observes the backends, and fails like plan when the plan is refused.`,
		Example: `  # Paste into a pull request or a wiki page
  mcpctl graph

  # What will the migration set move?
  mcpctl graph -f manifests/

  # An SVG with Graphviz
  mcpctl graph -f manifests/ -o dot | dot -Tsvg > placement.svg`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	opts.Manifests.Register(cmd.Flags())
	cmdutil.OutputFlag(cmd, &opts.Output, "mermaid", "dot")
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	var g *Graph
	if len(opts.Manifests.Paths) > 0 {
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
		popts := planpkg.Options{Schema: store.Schema()}
		snap, fps, err := planpkg.Gather(ctx, store, pool, set, popts)
		if err != nil {
			return fmt.Errorf("plan against schema %q: %w", store.Schema(), err)
		}
		p, err := planpkg.Compute(set, fps, snap, popts)
		if err != nil {
			return cmdutil.PlanProblems(opts.IO, err)
		}
		cmdutil.PrintWarnings(opts.IO, p.Warnings)
		g = Build(snap, p)
	} else {
		// The picture of what is: rows only, no backend is contacted.
		store, err := opts.Store(ctx)
		if err != nil {
			return err
		}
		bs, err := store.ListBackends(ctx)
		if err != nil {
			return fmt.Errorf("schema %q: list backends: %w", store.Schema(), err)
		}
		if len(bs) == 0 {
			return cmdutil.WithHint(fmt.Errorf("schema %q: %w", store.Schema(), state.ErrNotInitialized),
				"nothing to draw yet; `mcpctl graph -f MANIFESTS` draws what applying them would create")
		}
		ss, err := store.ListSecrets(ctx, false)
		if err != nil {
			return fmt.Errorf("schema %q: list secrets: %w", store.Schema(), err)
		}
		g = Build(&planpkg.Snapshot{Initialized: true, Backends: bs, Secrets: ss}, nil)
	}
	var err error
	if opts.Output == "dot" {
		err = RenderDOT(opts.IO.Out, g)
	} else {
		err = RenderMermaid(opts.IO.Out, g)
	}
	if err != nil {
		return fmt.Errorf("print the graph: %w", err)
	}
	return nil
}
