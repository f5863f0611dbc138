// Package get implements `mcpctl get`: list backends and secrets as a table,
// or as mcpctl/v1 manifests that `apply -f` accepts.
package get

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Resource kinds `get` lists.
const (
	KindBackends = "secretbackends"
	KindSecrets  = "secrets"
	KindAll      = "all"
)

// Options for `mcpctl get`.
type Options struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
	Now   func() time.Time

	Kind   string   // KindBackends, KindSecrets or KindAll
	Names  []string // only these (each must exist)
	Output string   // table, wide, name, yaml, json
}

// NewCmdGet builds the `mcpctl get` group and its resource subcommands.
func NewCmdGet(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get <resource> [NAME...]",
		Short: "List secret backends and secrets",
		Long: `List secret backends and secrets recorded in the state database.

The default table is for people; -o wide adds columns (every key, labels,
location, generation). -o name prints KIND/NAME, one per line, for scripts
(xargs -n1 mcpctl describe). -o yaml and -o json print canonical mcpctl/v1
manifests that 'mcpctl apply -f' accepts and that then plan as "No changes."
A resource can also be named KIND/NAME, as in kubectl: get secretbackend/bao.
Secrets are printed as placements (which backend holds them, no data): values
never leave their backend through get.`,
		Example: `  mcpctl get secretbackends
  mcpctl get sb -o wide
  mcpctl get secret openai
  mcpctl get secretbackend/bao -o yaml
  mcpctl get secrets -o name
  mcpctl get all -o yaml > current.yaml
  mcpctl get secrets -o json | jq -r '.items[].metadata.name'`,
		RunE: cmdutil.RequireSubcommand("specify a resource type"),
	}
	cmd.AddCommand(
		newKindCmd(f, runF, KindBackends, cmdutil.KindSecretBackend.AliasesFor(KindBackends), "List secret backends", cmdutil.CompleteBackendNames(f)),
		newKindCmd(f, runF, KindSecrets, cmdutil.KindSecret.AliasesFor(KindSecrets), "List secrets and where they live", cmdutil.CompleteSecretNames(f)),
		newKindCmd(f, runF, KindAll, nil, "List backends and secrets", nil),
	)
	return cmd
}

func newKindCmd(f *cmdutil.Factory, runF func(*Options) error, kind string, aliases []string, short string, complete cobra.CompletionFunc) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Now: time.Now, Kind: kind}
	use := kind + " [NAME...]"
	args := cobra.ArbitraryArgs
	if kind == KindAll {
		use, args = kind, cmdutil.NoArgs
	}
	cmd := &cobra.Command{
		Use:               use,
		Aliases:           aliases,
		Short:             short,
		Args:              args,
		ValidArgsFunction: complete,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmdutil.OutputFlag(cmd, &opts.Output, "table", "wide", "name", "yaml", "json")
	return cmd
}
