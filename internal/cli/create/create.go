// Package create implements `mcpctl create secretbackend|secret`: imperative
// creation, for bootstrapping and quick experiments. Manifests and apply are
// the declarative way; `mcpctl get -o yaml` turns what these create into a
// manifest.
package create

import (
	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

// NewCmdCreate builds the `mcpctl create` group.
func NewCmdCreate(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create <resource> NAME [flags]",
		Short: "Create a secret backend or a secret",
		Long: `Create one resource directly, as kubectl create does: the change is planned and
executed by the same engine as apply (writer lock, checks, audit log), without
asking, since the command is the confirmation.

Declarative manifests (plan/apply) are the way to manage an installation; create
is for bootstrapping and experiments. Print what exists as a manifest with
'mcpctl get all -o yaml' to move to manifests later.`,
		Example: `  mcpctl create secret bao-token --from-literal token=hvs.XXXX
  mcpctl create secretbackend bao --type openbao --url https://bao:8200 --token-secret bao-token/token
  mcpctl create secret openai --backend bao --from-literal API_KEY=sk-XXXX`,
		RunE: cmdutil.RequireSubcommand("specify a resource type"),
	}
	cmd.AddCommand(NewCmdBackend(f, nil), NewCmdSecret(f, nil))
	return cmd
}
