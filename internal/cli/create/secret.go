package create

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	applycmd "github.com/mcpctl/mcpctl/internal/cli/apply"
	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// SecretOptions for `mcpctl create secret`.
type SecretOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	Pool        func(context.Context) (*backends.Pool, error)
	LockTimeout time.Duration

	Name     string
	Backend  string // "" = the default backend
	Literals []string
	EnvFile  string
	// Values are parsed from Literals or EnvFile before run.
	Values map[string]string
}

// NewCmdSecret builds `mcpctl create secret`.
func NewCmdSecret(f *cmdutil.Factory, runF func(*SecretOptions) error) *cobra.Command {
	opts := &SecretOptions{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
	cmd := &cobra.Command{
		Use:     "secret NAME [--backend B] (--from-literal KEY=VALUE... | --from-env-file FILE)",
		Aliases: cmdutil.KindSecret.AliasesFor("secret"),
		Short:   "Create a secret with its values on a backend",
		Long: `Create a secret: its values are written to the backend (the default one unless
--backend names another) with mcpctl's owner marker, together with its row. This
is the create an apply of the secret's manifest would make: under the writer
lock, through the same engine and checks, recorded in the audit log. The values
stay in memory; no plan holding them is ever written.

Values given with --from-literal end up in your shell history; prefer
--from-env-file (KEY=VALUE lines, # comments, quotes as in a shell), or - to
read that format from stdin. Values are never printed.`,
		Example: `  mcpctl create secret openai --from-literal API_KEY=sk-XXXX --from-literal ORG=acme
  mcpctl create secret db --backend bao --from-env-file db.env
  vault-agent-render | mcpctl create secret db --from-env-file -`,
		Args: cmdutil.ExactArgs(1, "name the secret: mcpctl create secret NAME --from-literal KEY=VALUE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.LockTimeout = f.Options.LockTimeout
			if err := opts.parse(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runSecret(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Backend, "backend", "", "Backend to store the secret on (default: the default backend)")
	fl.StringArrayVar(&opts.Literals, "from-literal", nil, "A KEY=VALUE pair (repeatable)")
	fl.StringVar(&opts.EnvFile, "from-env-file", "", "File of KEY=VALUE lines, or - for stdin")
	_ = cmd.RegisterFlagCompletionFunc("backend", cmdutil.CompleteBackendNames(f))
	return cmd
}

// parse validates the flags and collects the values. Errors name keys and
// files, never values.
func (o *SecretOptions) parse() error {
	if err := cmdutil.ValidateName("secret", o.Name); err != nil {
		return err
	}
	switch {
	case len(o.Literals) > 0 && o.EnvFile != "":
		return cmdutil.FlagErrorf("--from-literal and --from-env-file cannot be combined")
	case len(o.Literals) == 0 && o.EnvFile == "":
		return cmdutil.FlagErrorf("give the values with --from-literal KEY=VALUE or --from-env-file FILE")
	}
	o.Values = map[string]string{}
	if o.EnvFile != "" {
		var (
			data []byte
			err  error
		)
		name := o.EnvFile
		if name == "-" {
			name = "<stdin>"
			data, err = io.ReadAll(o.IO.In)
		} else {
			data, err = os.ReadFile(o.EnvFile)
		}
		if err != nil {
			return fmt.Errorf("--from-env-file: %w", err)
		}
		if o.Values, err = cmdutil.ParseDotenv(string(data), name); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
		if len(o.Values) == 0 {
			return cmdutil.FlagErrorf("--from-env-file %s: no KEY=VALUE lines", name)
		}
	}
	for _, l := range o.Literals {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			// Do not echo the argument: it may be a value typed without its key.
			return cmdutil.FlagErrorf("--from-literal: expected KEY=VALUE (argument %d has no key)", slices.Index(o.Literals, l)+1)
		}
		if _, dup := o.Values[k]; dup {
			return cmdutil.FlagErrorf("--from-literal: key %q given twice", k)
		}
		o.Values[k] = v
	}
	for k := range o.Values {
		if err := cmdutil.ValidateKey(k); err != nil {
			return &cmdutil.FlagError{Err: err}
		}
	}
	return nil
}

func runSecret(ctx context.Context, opts *SecretOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	ch := plan.Change{Action: plan.Create, Kind: plan.KindSecret, Name: opts.Name, Backend: opts.Backend, Values: opts.Values}
	p, err := applycmd.ExecuteChange(ctx, opts.IO, store, pool, ch, opts.LockTimeout)
	switch {
	case errors.Is(err, state.ErrExists):
		return cmdutil.WithHint(err, "to change its values, delete it first (`mcpctl delete secret %s`) or manage it with a manifest", opts.Name)
	case errors.Is(err, state.ErrNotFound) && opts.Backend != "":
		return cmdutil.WithHint(err, "list backends with `mcpctl get secretbackends`")
	case err != nil:
		return err
	}
	a, _ := p.Action("secret/" + opts.Name)
	fmt.Fprintf(opts.IO.Out, "secret/%s created on backend %s (keys: %s)\n", opts.Name, a.After.Backend, strings.Join(a.After.Keys, ", "))
	return nil
}
