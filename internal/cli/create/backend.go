package create

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// BackendOptions for `mcpctl create secretbackend`.
type BackendOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	LockTimeout time.Duration

	Name        string
	Type        string
	URL         string
	TokenSecret string // NAME/KEY
	Namespace   string
	Mount       string
	PathPrefix  string
	ConfigFile  string
	Default     bool
	Description string
}

// NewCmdBackend builds `mcpctl create secretbackend`.
func NewCmdBackend(f *cmdutil.Factory, runF func(*BackendOptions) error) *cobra.Command {
	opts := &BackendOptions{IO: f.IOStreams, Store: f.Store}
	cmd := &cobra.Command{
		Use:     "secretbackend NAME --type TYPE [flags]",
		Aliases: cmdutil.KindSecretBackend.AliasesFor("secretbackend"),
		Short:   "Create a secret backend",
		Long: `Create a secret backend. The config is validated by the backend type's driver;
nothing is contacted yet (describe secretbackend runs a live check).

For openbao (alias vault) backends, the flags build the config: objects live at
<mount>/data/<path-prefix>/<secret name>, and the token is read from another
mcpctl Secret (--token-secret NAME/KEY), usually one on the plaintext default
backend. Any other setting (TLS, AppRole, timeouts) needs --config-file, a YAML
or JSON file holding the config object.

Only a plaintext backend can be the default (where secrets without a backend go).`,
		Example: `  # OpenBao / Vault KV v2 with a token kept as a Secret
  mcpctl create secret bao-token --from-literal token=hvs.XXXX
  mcpctl create secretbackend bao --type openbao --url https://bao.internal:8200 \
    --token-secret bao-token/token --mount secret --path-prefix mcpctl

  # Everything else from a file
  mcpctl create secretbackend bao --type openbao --config-file bao.yaml

  # A second Postgres-backed backend, made the default
  mcpctl create secretbackend local --type plaintext --default`,
		Args: cmdutil.ExactArgs(1, "name the backend: mcpctl create secretbackend NAME --type TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.LockTimeout = f.Options.LockTimeout
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runBackend(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Type, "type", "", "Backend type: "+strings.Join(typeNames(), ", "))
	fl.StringVar(&opts.URL, "url", "", "Server URL (openbao)")
	fl.StringVar(&opts.TokenSecret, "token-secret", "", "Secret and key holding the token, as NAME/KEY (openbao)")
	fl.StringVar(&opts.Namespace, "namespace", "", "Namespace, sent as X-Vault-Namespace (openbao)")
	fl.StringVar(&opts.Mount, "mount", "", "KV v2 mount (openbao; driver default \"secret\")")
	fl.StringVar(&opts.PathPrefix, "path-prefix", "", "Path under the mount holding mcpctl's objects (openbao; driver default \"mcpctl\")")
	fl.StringVar(&opts.ConfigFile, "config-file", "", "YAML or JSON file with the whole config object, instead of the flags above")
	fl.BoolVar(&opts.Default, "default", false, "Make this the default backend (plaintext only)")
	fl.StringVar(&opts.Description, "description", "", "Free-text description")
	_ = cmd.RegisterFlagCompletionFunc("type", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return typeNames(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("token-secret", cmdutil.CompleteSecretNames(f))
	return cmd
}

// typeNames lists the registered backend types (drivers register at init).
func typeNames() []string {
	if ts := drivers.Types(); len(ts) > 0 {
		return ts
	}
	return []string{"plaintext", "openbao"}
}

// configFlags are the flags that build the config; --config-file replaces them.
var configFlags = []string{"url", "token-secret", "namespace", "mount", "path-prefix"}

func (o *BackendOptions) validate(cmd *cobra.Command) error {
	if err := cmdutil.ValidateName("secretbackend", o.Name); err != nil {
		return err
	}
	if o.Type == "" {
		return cmdutil.FlagErrorf("--type is required: one of %s", strings.Join(typeNames(), ", "))
	}
	if o.ConfigFile != "" {
		for _, n := range configFlags {
			if cmd.Flags().Changed(n) {
				return cmdutil.FlagErrorf("--config-file and --%s cannot be combined: put %s in the file", n, n)
			}
		}
	}
	if o.TokenSecret != "" {
		if _, _, err := splitSecretKey(o.TokenSecret); err != nil {
			return err
		}
	}
	if o.Default && drivers.Canonical(o.Type) != "plaintext" {
		return cmdutil.FlagErrorf("--default: only a plaintext backend can be the default (this one is %s)", o.Type)
	}
	return nil
}

func splitSecretKey(s string) (name, key string, err error) {
	name, key, ok := strings.Cut(s, "/")
	if !ok || name == "" || key == "" || strings.Contains(key, "/") {
		return "", "", cmdutil.FlagErrorf("invalid --token-secret %q: use SECRET/KEY, e.g. bao-token/token", s)
	}
	return name, key, nil
}

// config builds spec.config from --config-file or the individual flags.
func (o *BackendOptions) config() (json.RawMessage, error) {
	if o.ConfigFile != "" {
		data, err := os.ReadFile(o.ConfigFile)
		if err != nil {
			return nil, fmt.Errorf("--config-file: %w", err)
		}
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("--config-file %s: %w", o.ConfigFile, err)
		}
		var obj map[string]any
		if err := json.Unmarshal(js, &obj); err != nil || obj == nil {
			return nil, fmt.Errorf("--config-file %s: the file must hold one mapping (the backend's config object)", o.ConfigFile)
		}
		return json.Marshal(obj)
	}
	cfg := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			cfg[k] = v
		}
	}
	set("url", o.URL)
	set("namespace", o.Namespace)
	set("mount", o.Mount)
	set("pathPrefix", o.PathPrefix)
	if o.TokenSecret != "" {
		name, key, _ := splitSecretKey(o.TokenSecret)
		cfg["auth"] = map[string]any{
			"method":         "token",
			"tokenSecretRef": map[string]string{"name": name, "key": key},
		}
	}
	return json.Marshal(cfg)
}

func runBackend(ctx context.Context, opts *BackendOptions) error {
	typ := drivers.Canonical(opts.Type)
	if _, ok := drivers.Lookup(typ); !ok {
		return cmdutil.FlagErrorf("unknown backend type %q: use one of %s", opts.Type, strings.Join(typeNames(), ", "))
	}
	raw, err := opts.config()
	if err != nil {
		return err
	}
	deps, err := drivers.Validate(typ, raw)
	if err != nil {
		return fmt.Errorf("secretbackend %q: config: %w", opts.Name, err)
	}
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	b := &state.Backend{Name: opts.Name, Type: typ, Config: raw, IsDefault: opts.Default, Description: opts.Description}
	start := time.Now()
	err = cmdutil.WithLock(ctx, store, opts.LockTimeout, "create secretbackend "+opts.Name, func(ctx context.Context) error {
		if err := checkDeps(ctx, store, opts.Name, deps); err != nil {
			return err
		}
		if !opts.Default {
			return store.CreateBackend(ctx, b)
		}
		// Hand the default over in one transaction: the database allows one
		// default at a time, and no moment may have none.
		backends, err := store.ListBackends(ctx)
		if err != nil {
			return err
		}
		return store.InTx(ctx, func(tx *state.Tx) error {
			for _, old := range backends {
				if old.IsDefault {
					old.IsDefault = false
					if err := tx.UpdateBackend(ctx, &old); err != nil {
						return err
					}
				}
			}
			return tx.CreateBackend(ctx, b)
		})
	})
	cmdutil.Audit(ctx, store, opts.IO, "create", "secretbackend", opts.Name, "type "+typ, start, err)
	if errors.Is(err, state.ErrExists) {
		return cmdutil.WithHint(err, "change an existing backend with a manifest and `mcpctl apply`, or pick another name")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "secretbackend/%s created (%s", b.Name, b.Type)
	if b.IsDefault {
		fmt.Fprint(opts.IO.Out, ", default")
	}
	fmt.Fprintln(opts.IO.Out, ")")
	return nil
}

// checkDeps makes sure the secrets a config refers to exist and hold the
// key, so a backend is not created unusable.
func checkDeps(ctx context.Context, store *state.Store, backend string, deps []drivers.SecretRef) error {
	for _, d := range deps {
		s, err := store.GetSecret(ctx, d.Name, false)
		if errors.Is(err, state.ErrNotFound) {
			return cmdutil.WithHint(fmt.Errorf("secretbackend %q: its config refers to secret %q, which does not exist", backend, d.Name),
				"create it first: mcpctl create secret %s --from-literal %s=...", d.Name, d.Key)
		}
		if err != nil {
			return err
		}
		if len(s.Keys) > 0 && !slices.Contains(s.Keys, d.Key) {
			return fmt.Errorf("secretbackend %q: secret %q has no key %q (keys: %s)", backend, d.Name, d.Key, strings.Join(s.Keys, ", "))
		}
	}
	return nil
}
