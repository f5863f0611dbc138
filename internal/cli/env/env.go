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
	Format  string // export, dotenv, json
}

// formats are --format's choices; the first is the default. export lines
// are what `eval "$(mcpctl env ...)"` needs for the values to reach child
// processes (plain KEY=VALUE only sets shell variables).
var formats = []string{"export", "dotenv", "json"}

// NewCmdEnv builds `mcpctl env`.
func NewCmdEnv(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
	var output string // -o/--output, the first name of --format
	cmd := &cobra.Command{
		Use:   "env --secret NAME... [--format export|dotenv|json]",
		Short: "Print secrets as environment variables",
		Long: `Print each key of the named secrets, sorted, as one of:

  export   export KEY=VALUE lines (the default): eval "$(mcpctl env ...)" hands
           the values to the programs the shell starts
  dotenv   KEY=VALUE lines for an env file (docker --env-file, set -a; . FILE)
  json     one JSON object

Values are quoted for a POSIX shell when needed (single quotes; a quote,
newline or $ in a value reads back exactly). With several secrets, a later
--secret wins. -o is another name for --format.

Each secret is read from the backend its row names at this moment, and the read
is recorded in the audit log (action "env"). The values go to stdout only:
prefer 'mcpctl exec', which never writes them anywhere.`,
		Example: `  eval "$(mcpctl env --secret openai)" && python app.py
  mcpctl env --secret db --secret openai --format dotenv > .env && chmod 600 .env
  mcpctl env --secret openai --format json | jq -r .API_KEY`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Secrets) == 0 {
				return cmdutil.FlagErrorf("name at least one secret with --secret")
			}
			if cmd.Flags().Changed("output") {
				if cmd.Flags().Changed("format") && output != opts.Format {
					return cmdutil.FlagErrorf("--format %s and -o %s disagree: give one of them", opts.Format, output)
				}
				opts.Format = output
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVarP(&opts.Secrets, "secret", "s", nil, "Secret to print (repeatable, or comma-separated)")
	_ = cmd.RegisterFlagCompletionFunc("secret", cmdutil.CompleteSecretNames(f))
	cmdutil.EnumFlag(cmd, cmd.Flags(), &opts.Format, "format", "", "Output format", formats...)
	// -o/--output was the flag's first name; it stays as an alias.
	cmdutil.OutputFlag(cmd, &output, formats...)
	cmd.Flags().Lookup("output").Usage = "Same as --format"
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
	env, err := cmdutil.ReadForConsumer(ctx, pool, store, opts.IO, "env", "env --format "+opts.Format, opts.Secrets)
	if err != nil {
		return err
	}
	if opts.Format == "json" {
		return cmdutil.WriteJSON(opts.IO.Out, env)
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if !shellName.MatchString(k) {
			return cmdutil.WithHint(fmt.Errorf("env: key %q is not a valid variable name for %s output", k, opts.Format), "use --format json, or mcpctl exec which passes any key")
		}
	}
	if opts.Format == "export" {
		return cmdutil.FormatExport(opts.IO.Out, env)
	}
	return cmdutil.FormatDotenv(opts.IO.Out, env)
}
