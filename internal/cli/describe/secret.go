package describe

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// SecretOptions for `mcpctl describe secret`.
type SecretOptions struct {
	deps
	Name       string
	ShowValues bool
}

// NewCmdSecret builds `mcpctl describe secret NAME`.
func NewCmdSecret(f *cmdutil.Factory, runF func(*SecretOptions) error) *cobra.Command {
	opts := &SecretOptions{deps: newDeps(f)}
	cmd := &cobra.Command{
		Use:     "secret NAME",
		Aliases: cmdutil.KindSecret.AliasesFor("secret"),
		Short:   "Show a secret's keys, placement and history, not its values",
		Example: `  mcpctl describe secret openai
  # Print the values too (recorded in the audit log)
  mcpctl describe secret openai --show-values`,
		Args:              cmdutil.ExactArgs(1, "name the secret: mcpctl describe secret NAME"),
		ValidArgsFunction: cmdutil.CompleteSecretNames(f),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runSecret(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.ShowValues, "show-values", false, "Also print the values, read from the backend now (audited)")
	return cmd
}

func runSecret(ctx context.Context, opts *SecretOptions) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	s, err := store.GetSecret(ctx, opts.Name, false)
	if err != nil {
		return notFoundHint(err, "secrets")
	}

	// Read values before printing anything, so a failed read or a failed
	// audit write leaves no half-described secret behind.
	var vals drivers.Values
	if opts.ShowValues {
		if vals, err = readAudited(ctx, opts, store, s); err != nil {
			return err
		}
	}

	w := opts.IO.Out
	now := opts.Now()
	field(w, "Name", s.Name)
	field(w, "Backend", s.BackendName)
	field(w, "Location", orNone(s.ExternalRef))
	field(w, "Keys", orNone(strings.Join(s.Keys, ", ")))
	field(w, "Version", strconv.FormatInt(s.BackendVersion, 10))
	managed := "no (values are set outside manifests)"
	if s.Managed {
		managed = "yes (values come from manifests)"
	}
	field(w, "Managed", managed)
	field(w, "Protected", yesNo(s.Protected))
	field(w, "Labels", pairs(s.Labels))
	field(w, "Annotations", pairs(s.Annotations))
	field(w, "Generation", strconv.FormatInt(s.Generation, 10))
	field(w, "Created", when(now, s.CreatedAt))
	field(w, "Last change", when(now, s.UpdatedAt))
	field(w, "Object", objectState(ctx, opts.deps, s, opts.IO.ColorScheme()))
	if opts.ShowValues {
		fmt.Fprintln(w, "Values:")
		printValues(w, vals)
	}
	return nil
}

// readAudited reads the values through the secret's current placement and
// records the read. The values are withheld if the audit entry cannot be
// written: an unrecorded read is the one thing this flag must not allow.
func readAudited(ctx context.Context, opts *SecretOptions, store *state.Store, s state.Secret) (drivers.Values, error) {
	pool, err := opts.Pool(ctx)
	if err != nil {
		return drivers.Values{}, err
	}
	start := time.Now()
	vals, readErr := pool.Read(ctx, s.Name)
	entry := state.AuditEntry{
		Actor:      cmdutil.Actor(),
		Action:     "show-values",
		Kind:       "secret",
		Name:       s.Name,
		Outcome:    "ok",
		Detail:     "describe --show-values from backend " + s.BackendName,
		DurationMS: time.Since(start).Milliseconds(),
	}
	if readErr != nil {
		entry.Outcome = "failed"
	}
	if err := store.AppendAudit(ctx, entry); err != nil {
		return drivers.Values{}, fmt.Errorf("secret %q: values withheld because the audit entry could not be written: %w", s.Name, err)
	}
	if readErr != nil {
		return drivers.Values{}, readErr
	}
	return vals, nil
}

// objectState is the live state of the backend object next to what the row
// records, flagging changes made outside mcpctl.
func objectState(ctx context.Context, d deps, s state.Secret, cs *cmdutil.ColorScheme) string {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	pool, err := d.Pool(ctx)
	if err != nil {
		return cs.Red("unknown: " + err.Error())
	}
	drv, err := pool.Driver(ctx, s.BackendName)
	if err != nil {
		return cs.Red("unknown: " + err.Error())
	}
	m, err := drv.Stat(ctx, drivers.Ref(s.Name))
	if err != nil {
		return cs.Red("unknown: " + err.Error())
	}
	if !m.Exists() {
		return cs.Red(m.State.String() + " (the row points at an object that is not readable: run `mcpctl drift`)")
	}
	out := fmt.Sprintf("%s, version %d", m.State, m.Version)
	if !m.Updated.IsZero() {
		out += ", updated " + m.Updated.UTC().Format(time.RFC3339)
	}
	if m.Version != s.BackendVersion && s.BackendVersion != 0 {
		out += cs.Yellow(fmt.Sprintf(" (mcpctl recorded version %d: changed outside mcpctl)", s.BackendVersion))
	}
	return out
}

// printValues prints KEY: value lines; a value with control characters is
// quoted so it cannot rewrite the terminal or break the layout.
func printValues(w io.Writer, v drivers.Values) {
	for _, k := range v.Keys() {
		val, _ := v.Get(k)
		if strings.ContainsFunc(val, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			val = strconv.Quote(val)
		}
		fmt.Fprintf(w, "  %s: %s\n", k, val)
	}
}
