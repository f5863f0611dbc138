// Package db implements `mcpctl db migrate|status|roles`: the state schema's
// lifecycle.
package db

import (
	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

// NewCmdDB builds the `mcpctl db` group.
func NewCmdDB(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db <command>",
		Short: "Create, upgrade and inspect mcpctl's Postgres schema",
		Long: `mcpctl keeps its state (backends, secret placements, the migration journal,
the audit log and the writer lock) in one Postgres schema, --schema (default
"mcpctl"). These commands create and upgrade it, report on it, and create the
least-privilege roles.`,
		Example: `  mcpctl db migrate
  mcpctl db status
  mcpctl --schema team_a db status -o json`,
		RunE: cmdutil.RequireSubcommand("specify a db command"),
	}
	cmd.AddCommand(NewCmdMigrate(f, nil), NewCmdStatus(f, nil), NewCmdRoles(f, nil))
	return cmd
}
