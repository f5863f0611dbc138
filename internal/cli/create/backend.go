package create

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	applycmd "github.com/mcpctl/mcpctl/internal/cli/apply"
	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// BackendOptions for `mcpctl create secretbackend`.
type BackendOptions struct {
	IO          *cmdutil.IOStreams
	Store       func(context.Context) (*state.Store, error)
	Pool        func(context.Context) (*backends.Pool, error)
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
	opts := &BackendOptions{IO: f.IOStreams, Store: f.Store, Pool: f.Pool}
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

Any backend may be the default (where secrets created without --backend go);
--default hands the flag over from the current default. Secrets already created
stay where they are: move them with 'mcpctl migrate secrets'.

The backend is created like an apply of its manifest would create it: under the
writer lock, through the same engine and checks, recorded in the audit log
('mcpctl history').`,
		Example: `  # OpenBao / Vault KV v2 with a token kept as a Secret
  mcpctl create secret bao-token --from-literal token=hvs.XXXX
  mcpctl create secretbackend bao --type openbao --url https://bao.internal:8200 \
    --token-secret bao-token/token --mount secret --path-prefix mcpctl

  # Everything else from a file
  mcpctl create secretbackend bao --type openbao --config-file bao.yaml

  # OpenBao as the default backend for new secrets
  mcpctl create secretbackend bao --type openbao --url https://bao.internal:8200 \
    --token-secret bao-token/token --default`,
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
	fl.BoolVar(&opts.Default, "default", false, "Make this the default backend (where secrets naming no backend are created)")
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
	if _, err := drivers.Validate(typ, raw); err != nil {
		return fmt.Errorf("secretbackend %q: config: %w", opts.Name, err)
	}
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	ch := plan.Change{
		Action: plan.Create, Kind: plan.KindSecretBackend, Name: opts.Name,
		Type: typ, Config: raw, Default: opts.Default, Description: opts.Description,
	}
	_, err = applycmd.ExecuteChange(ctx, opts.IO, store, pool, ch, opts.LockTimeout)
	var missing *plan.MissingCredentialError
	switch {
	case errors.Is(err, state.ErrExists):
		return cmdutil.WithHint(err, "change an existing backend with a manifest and `mcpctl apply`, or pick another name")
	case errors.As(err, &missing):
		return cmdutil.WithHint(err, "create it first: mcpctl create secret %s --from-literal %s=...", missing.Secret, missing.Key)
	case err != nil:
		return err
	}
	fmt.Fprintf(opts.IO.Out, "secretbackend/%s created (%s", opts.Name, typ)
	if opts.Default {
		fmt.Fprint(opts.IO.Out, ", default")
	}
	fmt.Fprintln(opts.IO.Out, ")")
	return nil
}
