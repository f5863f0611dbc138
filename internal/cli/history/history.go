// Package history implements `mcpctl history`: the audit log.
package history

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Options for `mcpctl history`.
type Options struct {
	IO     *cmdutil.IOStreams
	Store  func(context.Context) (*state.Store, error)
	Limit  int
	Output string
}

// NewCmdHistory builds `mcpctl history`.
func NewCmdHistory(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Show the audit log, newest first",
		Long: `Show what mcpctl did: every executed action of apply and migrate, every
imperative create and delete, and every read of secret values (exec, env,
describe --show-values), with who did it, the outcome and how long it took.
Values are never recorded.`,
		Example: `  mcpctl history
  mcpctl history -n 100
  mcpctl history -o json | jq '.[] | select(.outcome == "failed")'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Limit < 1 {
				return cmdutil.FlagErrorf("invalid -n %d: must be at least 1", opts.Limit)
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVarP(&opts.Limit, "limit", "n", 20, "Number of entries to show")
	cmdutil.OutputFlag(cmd, &opts.Output, "table", "json")
	return cmd
}

// entryJSON is the documented -o json shape of one audit entry.
type entryJSON struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	PlanID     string    `json:"plan_id,omitempty"`
	Action     string    `json:"action"`
	Kind       string    `json:"kind"`
	Name       string    `json:"name"`
	Outcome    string    `json:"outcome"`
	Detail     string    `json:"detail,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

func run(ctx context.Context, opts *Options) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	entries, err := store.ListAudit(ctx, opts.Limit)
	if err != nil {
		return fmt.Errorf("schema %q: reading the audit log: %w", store.Schema(), err)
	}
	if opts.Output == "json" {
		out := make([]entryJSON, 0, len(entries))
		for _, e := range entries {
			out = append(out, entryJSON{e.ID, e.At, e.Actor, e.PlanID, e.Action, e.Kind, e.Name, e.Outcome, e.Detail, e.DurationMS})
		}
		return cmdutil.WriteJSON(opts.IO.Out, out)
	}
	if len(entries) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "No audit entries in schema %q yet.\n", store.Schema())
		return nil
	}
	cs := opts.IO.ColorScheme()
	t := cmdutil.NewTable(opts.IO.Out, "TIME", "ACTOR", "ACTION", "RESOURCE", "OUTCOME", "DURATION", "DETAIL")
	for _, e := range entries {
		outcome := e.Outcome
		switch outcome {
		case "ok":
			outcome = cs.Green(outcome)
		case "failed":
			outcome = cs.Red(outcome)
		}
		t.Row(e.At.Local().Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Kind+"/"+e.Name, outcome,
			strconv.FormatInt(e.DurationMS, 10)+"ms", e.Detail)
	}
	return t.Flush()
}
