// Package env implements `mcpctl env`: print secrets as environment
// assignments for eval or an env file.
package env

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Options for `mcpctl env`.
type Options struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
	Pool  func(context.Context) (*backends.Pool, error)

	Secrets []string
	Output  string // dotenv, json
}

// NewCmdEnv builds `mcpctl env`.
func NewCmdEnv(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
	cmd := &cobra.Command{
		Use:   "env --secret NAME... [-o dotenv|json]",
		Short: "Print secrets as environment variables",
		Long: `Print each key of the named secrets as KEY=VALUE (sorted; quoted for a POSIX
shell when needed, so eval and 'set -a; . FILE' read the exact values back), or
as a JSON object with -o json. With several secrets, a later --secret wins.

Each secret is read from the backend its row names at this moment, and the read
is recorded in the audit log (action "env"). The values go to stdout only:
prefer 'mcpctl exec', which never writes them anywhere.`,
		Example: `  eval "$(mcpctl env --secret openai)"
  mcpctl env --secret db --secret openai > .env && chmod 600 .env
  mcpctl env --secret openai -o json | jq -r .API_KEY`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Secrets) == 0 {
				return cmdutil.FlagErrorf("name at least one secret with --secret")
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVarP(&opts.Secrets, "secret", "s", nil, "Secret to print (repeatable, or comma-separated)")
	_ = cmd.RegisterFlagCompletionFunc("secret", cmdutil.CompleteSecretNames(f))
	cmdutil.OutputFlag(cmd, &opts.Output, "dotenv", "json")
	return cmd
}

var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func run(ctx context.Context, opts *Options) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	env, err := cmdutil.ReadForConsumer(ctx, pool, store, opts.IO, "env", "env -o "+opts.Output, opts.Secrets)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, env)
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !shellName.MatchString(k) {
			return cmdutil.WithHint(fmt.Errorf("env: key %q is not a valid variable name for dotenv output", k), "use -o json, or mcpctl exec which passes any key")
		}
	}
	return cmdutil.FormatDotenv(opts.IO.Out, env)
}
