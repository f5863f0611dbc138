// Package delete implements `mcpctl delete secretbackend|secret NAME`.
package delete

import (
	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

// NewCmdDelete builds the `mcpctl delete` group.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete <resource> NAME",
		Short: "Delete a secret backend or a secret",
		Long: `Delete one resource directly, as 'apply --prune' would delete it: planned and
executed by the same engine (writer lock, checks, audit log), without asking.

Deleting a secret soft-deletes its object on the backend (OpenBao/Vault keep
the version, recoverable with 'bao kv undelete'; on plaintext the values go
with the row), then removes the row. Protected resources (annotation
mcpctl/prevent-destroy), the bootstrap backend, a backend that still holds
secrets and a secret another backend's credentials come from are refused.`,
		Example: `  mcpctl delete secret openai
  mcpctl delete secretbackend old-bao`,
		RunE: cmdutil.RequireSubcommand("specify a resource type"),
	}
	cmd.AddCommand(NewCmdBackend(f, nil), NewCmdSecret(f, nil))
	return cmd
}
