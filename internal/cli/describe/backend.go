package describe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// BackendOptions for `mcpctl describe secretbackend`.
type BackendOptions struct {
	deps
	Name string
}

// NewCmdBackend builds `mcpctl describe secretbackend NAME`.
func NewCmdBackend(f *cmdutil.Factory, runF func(*BackendOptions) error) *cobra.Command {
	opts := &BackendOptions{deps: newDeps(f)}
	return &cobra.Command{
		Use:               "secretbackend NAME",
		Aliases:           cmdutil.KindSecretBackend.AliasesFor("secretbackend"),
		Short:             "Show a backend's config, secret count and live health (exit 1 when unhealthy)",
		Example:           `  mcpctl describe secretbackend bao`,
		Args:              cmdutil.ExactArgs(1, "name the backend: mcpctl describe secretbackend NAME"),
		ValidArgsFunction: cmdutil.CompleteBackendNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runBackend(cmd.Context(), opts)
		},
	}
}

func runBackend(ctx context.Context, opts *BackendOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	b, err := store.GetBackend(ctx, opts.Name)
	if err != nil {
		return notFoundHint(err, "secretbackends")
	}
	secrets, err := store.ListSecrets(ctx, false)
	if err != nil {
		return fmt.Errorf("secretbackend %q: counting secrets: %w", opts.Name, err)
	}
	count := 0
	for _, s := range secrets {
		if s.BackendName == b.Name {
			count++
		}
	}

	cs := opts.IO.ColorScheme()
	w := opts.IO.Out
	now := opts.Now()
	field(w, "Name", b.Name)
	field(w, "Type", b.Type)
	field(w, "Default", yesNo(b.IsDefault))
	field(w, "Description", orNone(b.Description))
	field(w, "Protected", yesNo(b.Protected))
	field(w, "Labels", pairs(b.Labels))
	field(w, "Annotations", pairs(b.Annotations))
	field(w, "Secrets", fmt.Sprint(count))
	field(w, "Generation", fmt.Sprint(b.Generation))
	field(w, "Created", when(now, b.CreatedAt))
	field(w, "Updated", when(now, b.UpdatedAt))
	cfg, err := maskedConfig(b.Config)
	if err != nil {
		return fmt.Errorf("secretbackend %q: config: %w", b.Name, err)
	}
	if cfg == "" {
		field(w, "Config", "<none>")
	} else {
		fmt.Fprintln(w, "Config:")
		fmt.Fprint(w, indent(cfg, "  "))
	}

	fmt.Fprintln(w, "Health:")
	h := checkHealth(ctx, opts.deps, b)
	if h == nil {
		fmt.Fprintf(w, "  %s driver has no live check; its data is in this Postgres database.\n", b.Type)
		return nil
	}
	reach := cs.Green("yes")
	if !h.Reachable {
		reach = cs.Red("no")
	}
	field(w, "  Reachable", reach)
	if h.Auth != "" {
		field(w, "  Auth", h.Auth)
	}
	for _, d := range h.Details {
		field(w, "  Detail", d)
	}
	if h.Err != nil {
		field(w, "  Error", cs.Red(h.Err.Error()))
	}
	if h.Err != nil || !h.Reachable {
		// Everything is printed; the exit code tells scripts (and
		// `describe ... && deploy`) that the backend does not work.
		return fmt.Errorf("secretbackend %q: the live health check failed (see Health above)", b.Name)
	}
	return nil
}

// checkHealth opens the backend's driver and runs its live check. It returns
// nil when the driver has none. Failing to open the driver (a missing token
// secret, say) is reported as an unhealthy result, not a command error:
// describe is how people find out why a backend does not work.
func checkHealth(ctx context.Context, d deps, b state.Backend) *drivers.Health {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	pool, err := d.Pool(ctx)
	if err != nil {
		return &drivers.Health{Err: err}
	}
	drv, err := pool.Driver(ctx, b.Name)
	if err != nil {
		return &drivers.Health{Err: err}
	}
	c, ok := drv.(drivers.Checker)
	if !ok {
		return nil
	}
	h := c.Check(ctx)
	return &h
}

// maskedConfig renders a backend config as YAML, masked by
// drivers.MaskConfig.
func maskedConfig(raw json.RawMessage) (string, error) {
	m, err := drivers.MaskConfig(raw)
	if err != nil || m == nil {
		return "", err
	}
	out, err := yaml.JSONToYAML(m)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

func notFoundHint(err error, plural string) error {
	if errors.Is(err, state.ErrNotFound) {
		return cmdutil.WithHint(err, "list them with `mcpctl get %s`", plural)
	}
	return err
}

func field(w io.Writer, name, value string) {
	fmt.Fprintf(w, "%-14s %s\n", name+":", value)
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}
