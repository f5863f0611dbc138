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

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/drivers"
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
--backend names another) with mcpctl's owner marker, then its row is recorded.

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
	vals := drivers.NewValues(opts.Values)
	var row state.Secret
	start := time.Now()
	err = cmdutil.WithLock(ctx, store, opts.LockTimeout, "create secret "+opts.Name, func(ctx context.Context) error {
		b, err := targetBackend(ctx, store, opts.Backend)
		if err != nil {
			return err
		}
		row, err = createSecret(ctx, store, pool, b, opts.Name, vals)
		return err
	})
	detail := fmt.Sprintf("keys %s", strings.Join(vals.Keys(), ","))
	if row.BackendName != "" {
		detail += " on backend " + row.BackendName
	}
	cmdutil.Audit(ctx, store, opts.IO, "create", "secret", opts.Name, detail, start, err)
	if errors.Is(err, state.ErrExists) {
		return cmdutil.WithHint(err, "to change its values, delete it first (`mcpctl delete secret %s`) or manage it with a manifest", opts.Name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "secret/%s created on backend %s (keys: %s)\n", row.Name, row.BackendName, strings.Join(vals.Keys(), ", "))
	return nil
}

// targetBackend is the named backend, or the default one.
func targetBackend(ctx context.Context, store *state.Store, name string) (state.Backend, error) {
	if name != "" {
		b, err := store.GetBackend(ctx, name)
		if errors.Is(err, state.ErrNotFound) {
			return b, cmdutil.WithHint(err, "list backends with `mcpctl get secretbackends`")
		}
		return b, err
	}
	bs, err := store.ListBackends(ctx)
	if err != nil {
		return state.Backend{}, err
	}
	for _, b := range bs {
		if b.IsDefault {
			return b, nil
		}
	}
	if len(bs) == 0 {
		return state.Backend{}, state.ErrNotInitialized
	}
	return state.Backend{}, errors.New("no default backend: name one with --backend")
}

// createSecret records the row, then writes the values through the
// backend's driver with the row's id as owner (CAS 0: the object must not
// exist yet), then records the object's version and location. If the write
// fails, the row is removed again so no row points at nothing.
func createSecret(ctx context.Context, store *state.Store, pool *backends.Pool, b state.Backend, name string, vals drivers.Values) (state.Secret, error) {
	drv, err := pool.Driver(ctx, b.Name)
	if err != nil {
		return state.Secret{}, err
	}
	row := state.Secret{Name: name, BackendID: b.ID, BackendName: b.Name, Keys: vals.Keys()}
	if err := store.CreateSecret(ctx, &row); err != nil {
		return row, err
	}
	meta, err := drv.Put(ctx, drivers.Ref(name), vals, drivers.PutOptions{
		CAS: 0, OwnerID: row.ID, SecretName: name, BackendName: b.Name,
	})
	if err != nil {
		if cur, gerr := store.GetSecret(context.WithoutCancel(ctx), name, false); gerr == nil {
			if derr := store.DeleteSecret(context.WithoutCancel(ctx), name, cur.Generation); derr != nil {
				err = errors.Join(err, fmt.Errorf("secret %q: removing the row after the failed write: %w", name, derr))
			}
		}
		return row, err
	}
	// The plaintext driver writes the row itself, so read it back before
	// recording what the backend reported.
	cur, err := store.GetSecret(ctx, name, false)
	if err != nil {
		return row, err
	}
	ref := cur.ExternalRef
	if l, ok := drv.(drivers.Locator); ok {
		ref = l.Location(drivers.Ref(name))
	}
	if cur.BackendVersion == meta.Version && cur.ExternalRef == ref {
		return cur, nil
	}
	cur.BackendVersion, cur.ExternalRef = meta.Version, ref
	if len(meta.Keys) > 0 {
		cur.Keys = meta.Keys
	}
	return cur, store.UpdateSecret(ctx, &cur, false)
}
