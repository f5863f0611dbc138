package delete

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// BackendOptions for `mcpctl delete secretbackend`.
type BackendOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	LockTimeout time.Duration
	Name        string
}

// NewCmdBackend builds `mcpctl delete secretbackend NAME`.
func NewCmdBackend(f *cmdutil.Factory, runF func(*BackendOptions) error) *cobra.Command {
	opts := &BackendOptions{IO: f.IOStreams, Store: f.Store}
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
	start := time.Now()
	err = cmdutil.WithLock(ctx, store, opts.LockTimeout, "delete secretbackend "+opts.Name, func(ctx context.Context) error {
		b, err := store.GetBackend(ctx, opts.Name)
		if err != nil {
			return err
		}
		switch {
		case b.Name == state.BootstrapBackend:
			return fmt.Errorf("backend %q is the bootstrap backend (the trust root for other backends' credentials) and cannot be deleted: %w", b.Name, state.ErrProtected)
		case b.Protected:
			return cmdutil.WithHint(fmt.Errorf("backend %q is protected (%s): %w", b.Name, state.AnnotationPreventDestroy, state.ErrProtected),
				"remove the %s annotation from its manifest and apply before deleting", state.AnnotationPreventDestroy)
		case b.IsDefault:
			return fmt.Errorf("backend %q is the default backend: make another backend the default first", b.Name)
		}
		return store.DeleteBackend(ctx, b.Name, b.Generation)
	})
	cmdutil.Audit(ctx, store, opts.IO, "delete", "secretbackend", opts.Name, "", start, err)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return cmdutil.WithHint(err, "list backends with `mcpctl get secretbackends`")
	case errors.Is(err, state.ErrInUse):
		return cmdutil.WithHint(err, "move its secrets elsewhere first: mcpctl migrate secrets --from %s --to OTHER", opts.Name)
	case err != nil:
		return err
	}
	fmt.Fprintf(opts.IO.Out, "secretbackend/%s deleted\n", opts.Name)
	return nil
}
