package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// RolesOptions for `mcpctl db roles`.
type RolesOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	LockTimeout time.Duration
}

// NewCmdRoles builds `mcpctl db roles`.
func NewCmdRoles(f *cmdutil.Factory, runF func(*RolesOptions) error) *cobra.Command {
	opts := &RolesOptions{IO: f.IOStreams, Store: f.Store}
	return &cobra.Command{
		Use:   "roles",
		Short: "Create the least-privilege Postgres roles",
		Long: `Create (idempotently) the Postgres roles that enforce least privilege on the
state schema, so the database refuses what a job should not do:

  mcpctl_viewer          read everything except secret values and the
                         fingerprint key (plan, drift, get, history)
  mcpctl_secret_editor   also write secrets, values included (apply of secret
                         changes, create/delete secret, exec, env); not backends
  mcpctl_backend_admin   also write backends (apply of backend changes,
                         create/delete secretbackend); never reads a value
  mcpctl_migrator        both editors' rights and the migration journal: move
                         secrets (migrate secrets, apply of any plan)

The audit log is append-only for all of them. An mcpctl_editor role left by an
earlier mcpctl loses its own rights on the schema and becomes a member of
mcpctl_secret_editor and mcpctl_backend_admin, so whoever was granted it keeps
what they could do; move them to the new roles and drop it.

The roles cannot log in; grant them to the login roles your jobs use. Role
names are global to the Postgres cluster; the privileges are set on the
schema given by --schema, replacing whatever these roles had on it. Run it as
the role that owns the schema (and may create roles), and again after
` + "`mcpctl db migrate`" + ` upgrades the schema. See docs/security.md.`,
		Example: `  mcpctl db roles
  psql -c 'GRANT mcpctl_viewer TO ci_plan'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.LockTimeout = f.Options.LockTimeout
			if runF != nil {
				return runF(opts)
			}
			return runRoles(cmd.Context(), opts)
		},
	}
}

func runRoles(ctx context.Context, opts *RolesOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	existed, err := store.ExistingRoles(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: %w", store.Schema(), err)
	}
	err = cmdutil.WithLock(ctx, store, opts.LockTimeout, "db roles", func(ctx context.Context) error {
		return store.EnsureRoles(ctx)
	})
	if err != nil {
		return err
	}

	legacy, err := store.LegacyEditorExists(ctx)
	if err != nil {
		return fmt.Errorf("schema %q: %w", store.Schema(), err)
	}
	out := opts.IO.Out
	var created []string
	for _, r := range state.Roles() {
		if !slices.Contains(existed, r) {
			created = append(created, r)
		}
	}
	switch {
	case len(created) == 0:
		fmt.Fprintf(out, "Roles %s already existed.\n", strings.Join(state.Roles(), ", "))
	case len(existed) == 0:
		fmt.Fprintf(out, "Created roles %s (NOLOGIN).\n", strings.Join(created, ", "))
	default:
		fmt.Fprintf(out, "Created roles %s (NOLOGIN); %s already existed.\n", strings.Join(created, ", "), strings.Join(existed, ", "))
	}
	fmt.Fprintf(out, "Privileges on schema %q (USAGE on the schema; no role may create objects in it):\n\n", store.Schema())
	header := []string{"TABLE"}
	for _, r := range state.Roles() {
		header = append(header, strings.ToUpper(r))
	}
	t := cmdutil.NewTable(out, header...)
	var row []string
	for _, p := range state.PrivilegeMatrix() {
		if len(row) == 0 {
			row = []string{p.Table}
		}
		row = append(row, p.String())
		if len(row) == len(header) {
			t.Row(row...)
			row = nil
		}
	}
	if err := t.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nGrant them to the login roles your jobs use, e.g.:")
	for _, g := range [][2]string{
		{"GRANT " + state.RoleViewer + " TO ci_plan;", "plan, drift"},
		{"GRANT " + state.RoleSecretEditor + " TO app_team;", "secrets, not backends"},
		{"GRANT " + state.RoleBackendAdmin + " TO platform_team;", "backends, never a value"},
		{"GRANT " + state.RoleMigrator + " TO ci_apply;", "any apply, migrate secrets"},
	} {
		fmt.Fprintf(out, "  %-46s -- %s\n", g[0], g[1])
	}
	if legacy {
		fmt.Fprintf(out, "\n%s (from an earlier mcpctl) now holds no rights of its own on schema %q: it is a member of %s and %s,\n"+
			"so its members keep what they could do. Grant them the role they need instead, then DROP ROLE %s (docs/security.md).\n",
			state.LegacyRoleEditor, store.Schema(), state.RoleSecretEditor, state.RoleBackendAdmin, state.LegacyRoleEditor)
	}
	return nil
}
