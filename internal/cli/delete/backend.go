package delete

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	applycmd "github.com/mcpctl/mcpctl/internal/cli/apply"
	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// BackendOptions for `mcpctl delete secretbackend`.
type BackendOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	Pool        func(context.Context) (*backends.Pool, error)
	LockTimeout time.Duration
	Name        string
}

// NewCmdBackend builds `mcpctl delete secretbackend NAME`.
func NewCmdBackend(f *cmdutil.Factory, runF func(*BackendOptions) error) *cobra.Command {
	opts := &BackendOptions{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
	return &cobra.Command{
		Use:               "secretbackend NAME",
		Aliases:           cmdutil.KindSecretBackend.AliasesFor("secretbackend"),
		Short:             "Delete a secret backend that holds no secrets",
		Example:           `  mcpctl delete secretbackend old-bao`,
		Args:              cmdutil.ExactArgs(1, "name the backend: mcpctl delete secretbackend NAME"),
		ValidArgsFunction: cmdutil.CompleteBackendNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.LockTimeout = f.Options.LockTimeout
			if runF != nil {
				return runF(opts)
			}
			return runBackend(cmd.Context(), opts)
		},
	}
}

func runBackend(ctx context.Context, opts *BackendOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	ch := plan.Change{Action: plan.Delete, Kind: plan.KindSecretBackend, Name: opts.Name}
	_, err = applycmd.ExecuteChange(ctx, opts.IO, store, pool, ch, opts.LockTimeout)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return cmdutil.WithHint(err, "list backends with `mcpctl get secretbackends`")
	case errors.Is(err, state.ErrInUse):
		return cmdutil.WithHint(err, "move its secrets elsewhere first: mcpctl migrate secrets --from %s --to OTHER", opts.Name)
	case errors.Is(err, state.ErrProtected) && opts.Name != state.BootstrapBackend:
		return cmdutil.WithHint(err, "remove the %s annotation from its manifest and apply before deleting", state.AnnotationPreventDestroy)
	case err != nil:
		return err
	}
	fmt.Fprintf(opts.IO.Out, "secretbackend/%s deleted\n", opts.Name)
	return nil
}
