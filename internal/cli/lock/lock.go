// Package lock implements `mcpctl lock status|force-unlock`: the schema's
// writer lock.
package lock

import (
	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

// NewCmdLock builds the `mcpctl lock` group.
func NewCmdLock(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock <command>",
		Short: "Inspect or break the writer lock",
		Long: `Writers (apply, migrate, create, delete, db migrate) serialise on one Postgres
advisory lock per schema. A second writer waits up to --lock-timeout, then fails
naming the holder. These commands show the holder, and break a lock whose holder
is gone.`,
		Example: `  mcpctl lock status
  mcpctl lock force-unlock --yes`,
		RunE: cmdutil.RequireSubcommand("specify a lock command"),
	}
	cmd.AddCommand(NewCmdStatus(f, nil), NewCmdForceUnlock(f, nil))
	return cmd
}
