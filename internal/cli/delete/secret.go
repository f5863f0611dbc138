package delete

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/drivers"
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
	start := time.Now()
	var backend string
	err = cmdutil.WithLock(ctx, store, opts.LockTimeout, "delete secret "+opts.Name, func(ctx context.Context) error {
		row, err := store.GetSecret(ctx, opts.Name, false)
		if err != nil {
			return err
		}
		backend = row.BackendName
		// Refuse before touching the object: the row's protection and the
		// backends whose credentials come from this secret both forbid it.
		if row.Protected {
			return cmdutil.WithHint(fmt.Errorf("secret %q is protected (%s): %w", row.Name, state.AnnotationPreventDestroy, state.ErrProtected),
				"remove the %s annotation from its manifest and apply before deleting", state.AnnotationPreventDestroy)
		}
		if err := checkNotCredential(ctx, store, row.Name); err != nil {
			return err
		}
		drv, err := pool.Driver(ctx, row.BackendName)
		if err != nil {
			return err
		}
		if err := drv.Delete(ctx, drivers.Ref(row.Name), drivers.DeleteOptions{OwnerID: row.ID}); err != nil {
			return fmt.Errorf("secret %q: deleting its object on backend %s: %w", row.Name, row.BackendName, err)
		}
		// The plaintext driver's delete changes the row, so take the
		// current generation.
		cur, err := store.GetSecret(ctx, row.Name, false)
		if err != nil {
			return err
		}
		return store.DeleteSecret(ctx, cur.Name, cur.Generation)
	})
	detail := ""
	if backend != "" {
		detail = "object soft-deleted on backend " + backend
	}
	cmdutil.Audit(ctx, store, opts.IO, "delete", "secret", opts.Name, detail, start, err)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return cmdutil.WithHint(err, "list secrets with `mcpctl get secrets`")
	case err != nil:
		return err
	}
	fmt.Fprintf(opts.IO.Out, "secret/%s deleted\n", opts.Name)
	return nil
}

// checkNotCredential refuses to delete a secret a backend's config refers
// to (its token, say): the backend would stop working.
func checkNotCredential(ctx context.Context, store *state.Store, name string) error {
	bs, err := store.ListBackends(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		edges, err := planpkg.CredentialEdges(b.Name, b.Type, b.Config, nil)
		if err != nil {
			continue // a backend whose config no longer validates cannot use it either
		}
		for _, e := range edges {
			if e.Secret == name {
				return cmdutil.WithHint(
					fmt.Errorf("secret %q: %w: backend %q reads its credentials from it (key %q)", name, state.ErrInUse, b.Name, e.Key),
					"delete or reconfigure backend %s first", b.Name)
			}
		}
	}
	return nil
}
