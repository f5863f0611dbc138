package db

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// StatusOptions for `mcpctl db status`.
type StatusOptions struct {
	IO     *cmdutil.IOStreams
	Store  func(context.Context) (*state.Store, error)
	Output string
}

// NewCmdStatus builds `mcpctl db status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the state schema's version and contents",
		Long: `Show whether the state schema exists, its version against the one this mcpctl
expects, how many backends and secrets it records, and how many secret
migrations are unfinished (an interrupted apply leaves some; the next apply
finishes them). It only reads.`,
		Example: `  mcpctl db status
  mcpctl db status -o json | jq .pendingMigrations`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runStatus(cmd.Context(), opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output, "text", "json")
	return cmd
}

// statusJSON is the documented -o json shape of `db status`.
type statusJSON struct {
	Schema            string `json:"schema"`
	Initialized       bool   `json:"initialized"`
	Version           int    `json:"version"`
	LatestVersion     int    `json:"latest_version"`
	Backends          int    `json:"backends"`
	Secrets           int    `json:"secrets"`
	PendingMigrations int    `json:"pending_migrations"`
}

func runStatus(ctx context.Context, opts *StatusOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	st, err := store.Status(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: %w", store.Schema(), err)
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, statusJSON{
			Schema: store.Schema(), Initialized: st.Initialized, Version: st.Version, LatestVersion: st.Latest,
			Backends: st.Backends, Secrets: st.Secrets, PendingMigrations: st.PendingMigrations,
		})
	}
	cs := opts.IO.ColorScheme()
	out := opts.IO.Out
	fmt.Fprintf(out, "Schema:             %s\n", store.Schema())
	if !st.Initialized {
		fmt.Fprintf(out, "Initialised:        %s (run `mcpctl db migrate` or `mcpctl apply`)\n", cs.Yellow("no"))
		fmt.Fprintf(out, "Latest version:     %d\n", st.Latest)
		return nil
	}
	version := fmt.Sprintf("%d", st.Version)
	switch {
	case st.Version < st.Latest:
		version += cs.Yellow(fmt.Sprintf(" (this mcpctl expects %d: run `mcpctl db migrate`)", st.Latest))
	case st.Version > st.Latest:
		version += cs.Yellow(fmt.Sprintf(" (newer than this mcpctl, which knows %d: upgrade mcpctl)", st.Latest))
	default:
		version += " (up to date)"
	}
	fmt.Fprintf(out, "Initialised:        %s\n", cs.Green("yes"))
	fmt.Fprintf(out, "Version:            %s\n", version)
	fmt.Fprintf(out, "Backends:           %d\n", st.Backends)
	fmt.Fprintf(out, "Secrets:            %d\n", st.Secrets)
	pending := fmt.Sprintf("%d", st.PendingMigrations)
	if st.PendingMigrations > 0 {
		pending = cs.Yellow(pending + " (unfinished secret moves: the next `mcpctl apply` completes them)")
	}
	fmt.Fprintf(out, "Open migrations:    %s\n", pending)
	return nil
}
