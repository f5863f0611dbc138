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
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// SecretOptions for `mcpctl delete secret`.
type SecretOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	Pool        func(context.Context) (*backends.Pool, error)
	LockTimeout time.Duration
	Name        string
}

// NewCmdSecret builds `mcpctl delete secret NAME`.
func NewCmdSecret(f *cmdutil.Factory, runF func(*SecretOptions) error) *cobra.Command {
	opts := &SecretOptions{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
	return &cobra.Command{
		Use:               "secret NAME",
		Aliases:           cmdutil.KindSecret.AliasesFor("secret"),
		Short:             "Delete a secret (its backend object is soft-deleted)",
		Example:           `  mcpctl delete secret openai`,
		Args:              cmdutil.ExactArgs(1, "name the secret: mcpctl delete secret NAME"),
		ValidArgsFunction: cmdutil.CompleteSecretNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.LockTimeout = f.Options.LockTimeout
			if runF != nil {
				return runF(opts)
			}
			return runSecret(cmd.Context(), opts)
		},
	}
}

func runSecret(ctx context.Context, opts *SecretOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	ch := planpkg.Change{Action: planpkg.Delete, Kind: planpkg.KindSecret, Name: opts.Name}
	_, err = applycmd.ExecuteChange(ctx, opts.IO, store, pool, ch, opts.LockTimeout)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return cmdutil.WithHint(err, "list secrets with `mcpctl get secrets`")
	case errors.Is(err, state.ErrProtected):
		return cmdutil.WithHint(err, "remove the %s annotation from its manifest and apply before deleting", state.AnnotationPreventDestroy)
	case errors.Is(err, state.ErrInUse):
		var in *planpkg.CredentialInUseError
		if errors.As(err, &in) {
			return cmdutil.WithHint(err, "delete or reconfigure backend %s first", in.Backend)
		}
		return err
	case err != nil:
		return err
	}
	fmt.Fprintf(opts.IO.Out, "secret/%s deleted\n", opts.Name)
	return nil
}
