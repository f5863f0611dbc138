// Package describe implements `mcpctl describe secretbackend|secret NAME`:
// everything mcpctl knows about one resource, plus a live look at its
// backend. Values are shown only with --show-values, and that is audited.
package describe

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// checkTimeout bounds the live health check and object stat, so describe of
// an unreachable backend still answers.
const checkTimeout = 15 * time.Second

// NewCmdDescribe builds the `mcpctl describe` group.
func NewCmdDescribe(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe <resource> NAME",
		Short: "Show details of a secret backend or a secret",
		Long: `Show one resource in detail: what the state database records and what its
backend says right now.

For a secret backend: its configuration (credentials masked), how many secrets
it holds, and a live health check (reachable, token valid and its TTL, mount is
KV v2). For a secret: its key names, backend, location, versions and last change,
and the backend object's live state. Values are never shown unless you pass
--show-values, which is recorded in the audit log.`,
		Example: `  mcpctl describe secretbackend bao
  mcpctl describe secret openai
  mcpctl describe secret openai --show-values`,
		RunE: cmdutil.RequireSubcommand("specify a resource type"),
	}
	cmd.AddCommand(NewCmdBackend(f, nil), NewCmdSecret(f, nil))
	return cmd
}

// deps are what both describe commands need.
type deps struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
	Pool  func(context.Context) (*backends.Pool, error)
	Now   func() time.Time
}

func newDeps(f *cmdutil.Factory) deps {
	return deps{IO: f.IOStreams, Store: f.Store, Pool: f.Pool, Now: time.Now}
}
