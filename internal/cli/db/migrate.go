package db

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// MigrateOptions for `mcpctl db migrate`.
type MigrateOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	LockTimeout time.Duration
}

// NewCmdMigrate builds `mcpctl db migrate`.
func NewCmdMigrate(f *cmdutil.Factory, runF func(*MigrateOptions) error) *cobra.Command {
	opts := &MigrateOptions{IO: f.IOStreams, Store: f.Store}
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the state schema",
		Long: `Create the state schema, or upgrade it to this mcpctl's version, under the
writer lock. It is idempotent: running it on an up-to-date schema changes nothing.
The first run also creates the bootstrap backend plaintext/"default", which keeps
values in Postgres and is the trust root for every other backend's credentials.

apply runs the same migrations itself; run this once up front when the
identity that applies manifests may not create schemas.`,
		Example: `  mcpctl db migrate
  mcpctl --database-url postgres://admin@db/mcpctl db migrate`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.LockTimeout = f.Options.LockTimeout
			if runF != nil {
				return runF(opts)
			}
			return runMigrate(cmd.Context(), opts)
		},
	}
}

func runMigrate(ctx context.Context, opts *MigrateOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	before, err := store.Status(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: %w", store.Schema(), err)
	}
	err = cmdutil.WithLock(ctx, store, opts.LockTimeout, "db migrate", func(ctx context.Context) error {
		return store.Migrate(ctx)
	})
	if err != nil {
		return err
	}
	after, err := store.Status(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: %w", store.Schema(), err)
	}
	out := opts.IO.Out
	switch {
	case !before.Initialized:
		fmt.Fprintf(out, "Initialised schema %q at version %d with the bootstrap backend %q.\n", store.Schema(), after.Version, state.BootstrapBackend)
	case before.Version != after.Version:
		fmt.Fprintf(out, "Upgraded schema %q from version %d to %d.\n", store.Schema(), before.Version, after.Version)
	default:
		fmt.Fprintf(out, "Schema %q is up to date (version %d).\n", store.Schema(), after.Version)
	}
	return nil
}
