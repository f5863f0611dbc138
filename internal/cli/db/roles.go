package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// RolesOptions for `mcpctl db roles`.
type RolesOptions struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
}

// NewCmdRoles builds `mcpctl db roles`.
func NewCmdRoles(f *cmdutil.Factory, runF func(*RolesOptions) error) *cobra.Command {
	opts := &RolesOptions{IO: f.IOStreams, Store: f.Store}
	return &cobra.Command{
		Use:   "roles",
		Short: "Create the least-privilege Postgres roles",
		Long: `Create (idempotently) the Postgres roles that enforce least privilege on the
state schema, so the database refuses what a job should not do:

  mcpctl_viewer     read everything except secret values (enough for plan and drift)
  mcpctl_editor     also write backends and secrets (apply, create, delete)
  mcpctl_migrator   also move secrets between backends (migrate secrets)

The roles cannot log in; grant them to the login roles your jobs use.`,
		Example: `  mcpctl db roles
  psql -c 'GRANT mcpctl_viewer TO ci_plan'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runRoles(cmd.Context(), opts)
		},
	}
}

// roleEnsurer is the store capability `db roles` needs; the state package
// gains it with the security work (issue 7).
type roleEnsurer interface {
	EnsureRoles(ctx context.Context) error
}

func runRoles(ctx context.Context, opts *RolesOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	r, ok := any(store).(roleEnsurer)
	if !ok {
		// TODO(issue 7): remove once state.Store.EnsureRoles exists.
		return errors.New("db roles: not implemented yet in this build")
	}
	if err := r.EnsureRoles(ctx); err != nil {
		return fmt.Errorf("schema %q: creating roles: %w", store.Schema(), err)
	}
	fmt.Fprintf(opts.IO.Out, "Roles mcpctl_viewer, mcpctl_editor and mcpctl_migrator are ready on schema %q.\n", store.Schema())
	fmt.Fprintln(opts.IO.Out, "Grant them to login roles, e.g.: GRANT mcpctl_viewer TO ci_plan;")
	return nil
}
