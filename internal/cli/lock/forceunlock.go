package lock

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// ForceUnlockOptions for `mcpctl lock force-unlock`.
type ForceUnlockOptions struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
	Yes   bool
}

// NewCmdForceUnlock builds `mcpctl lock force-unlock`.
func NewCmdForceUnlock(f *cmdutil.Factory, runF func(*ForceUnlockOptions) error) *cobra.Command {
	opts := &ForceUnlockOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:   "force-unlock",
		Short: "Break the writer lock of a holder that is gone",
		Long: `Break the schema's writer lock by terminating the Postgres session that holds
it and clearing the holder record.

Only do this when the holder shown by 'mcpctl lock status' is really gone (a
killed CI job, a crashed laptop): interrupting a live apply is safe for data
(every step is journalled and the next apply converges) but wastes its work.
It asks for confirmation on a terminal; elsewhere pass --yes.`,
		Example: `  mcpctl lock status
  mcpctl lock force-unlock --yes`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !opts.Yes && !opts.IO.CanPrompt() {
				return cmdutil.WithHint(errors.New("force-unlock needs confirmation and there is no terminal to ask on"),
					"pass --yes once `mcpctl lock status` shows the holder is gone")
			}
			if runF != nil {
				return runF(opts)
			}
			return runForceUnlock(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "Do not ask for confirmation")
	return cmd
}

func runForceUnlock(ctx context.Context, opts *ForceUnlockOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	held, holder, err := store.LockStatus(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: lock status: %w", store.Schema(), err)
	}
	if !held {
		fmt.Fprintf(opts.IO.Out, "The writer lock on schema %q is not held; nothing to do.\n", store.Schema())
		return nil
	}
	if !opts.Yes {
		who := "an unknown holder"
		if holder != nil {
			who = holder.String()
		}
		ok, err := cmdutil.ConfirmYes(opts.IO, fmt.Sprintf("Break the writer lock on schema %q held by %s?", store.Schema(), who))
		if err != nil {
			return err
		}
		if !ok {
			return cmdutil.ErrCancelled
		}
	}
	was, err := store.ForceUnlock(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: force-unlock: %w", store.Schema(), err)
	}
	if was != nil {
		fmt.Fprintf(opts.IO.Out, "Broke the writer lock on schema %q held by %s.\n", store.Schema(), was)
	} else {
		fmt.Fprintf(opts.IO.Out, "Broke the writer lock on schema %q.\n", store.Schema())
	}
	return nil
}
