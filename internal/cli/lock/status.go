package lock

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// StatusOptions for `mcpctl lock status`.
type StatusOptions struct {
	IO     *cmdutil.IOStreams
	Store  func(context.Context) (*state.Store, error)
	Output string
}

// NewCmdStatus builds `mcpctl lock status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show who holds the writer lock",
		Long: `Show whether a writer holds the schema's lock and, if so, who: user, host,
process id, CI run URL, the operation and when it started.`,
		Example: `  mcpctl lock status
  mcpctl lock status -o json`,
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

// holderJSON is the -o json shape of a lock holder.
type holderJSON struct {
	User      string    `json:"user"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	CIRunURL  string    `json:"ci_run_url,omitempty"`
	Operation string    `json:"operation"`
	StartedAt time.Time `json:"started_at"`
}

func runStatus(ctx context.Context, opts *StatusOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	held, holder, err := store.LockStatus(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: lock status: %w", store.Schema(), err)
	}
	if opts.Output == "json" {
		v := struct {
			Schema string      `json:"schema"`
			Held   bool        `json:"held"`
			Holder *holderJSON `json:"holder,omitempty"`
		}{Schema: store.Schema(), Held: held}
		if held && holder != nil {
			v.Holder = &holderJSON{holder.User, holder.Host, holder.PID, holder.CIRunURL, holder.Operation, holder.StartedAt}
		}
		return cmdutil.WriteJSON(opts.IO.Out, v)
	}
	switch {
	case !held:
		fmt.Fprintf(opts.IO.Out, "The writer lock on schema %q is free.\n", store.Schema())
	case holder == nil:
		fmt.Fprintf(opts.IO.Out, "The writer lock on schema %q is held (holder unknown).\n", store.Schema())
	default:
		fmt.Fprintf(opts.IO.Out, "The writer lock on schema %q is held by %s.\n", store.Schema(), holder)
	}
	return nil
}
