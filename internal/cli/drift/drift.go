// Package drift implements `mcpctl drift`: a read-only check that the state
// rows match the backends (and, with -f, that both match the manifests), for
// cron jobs and alerting.
package drift

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// FormatVersion is the version of the -o json document.
const FormatVersion = "1"

// Options for `mcpctl drift`.
type Options struct {
	IO    *cmdutil.IOStreams
	Store func(context.Context) (*state.Store, error)
	Pool  func(context.Context) (*backends.Pool, error)
	Now   func() time.Time

	Manifests   cmdutil.ManifestFlags
	Output      string // text, json
	Parallelism int
}

// NewCmdDrift builds `mcpctl drift`.
func NewCmdDrift(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "drift [-f PATH...] [flags]",
		Short: "Check that reality still matches the state (and the manifests)",
		Long: `Check, without writing anything, that the backends hold what the state
database says they hold:

  missing    a secret's object is absent, soft-deleted or destroyed
  changed    its version, key names or owner changed outside mcpctl
  orphan     an object under a backend's prefix that no secret row accounts for
  leftover   an interrupted migration the next apply resumes or cleans up
  kept       a source copy kept by --keep-source (reported, not drift)

With -f, the manifests are planned against that reality too, and the report
adds what 'mcpctl apply -f' would change and what the manifests do not declare
(unmanaged). Values are never read: only versions, key names and owners.

-o json prints a versioned document for alerting (format_version "1").

Exit codes: 0 in sync, 2 drift found, 1 the check could not be completed (a
backend or Postgres unreachable, manifests invalid or refused by the planner;
whatever was found is still reported).`,
		Example: `  # Nightly cron: page when exit code is not 0
  mcpctl drift -o json > drift.json

  # Also compare with the manifests in Git
  mcpctl drift -f manifests/`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Parallelism < 1 {
				return cmdutil.FlagErrorf("invalid --parallelism %d: must be at least 1", opts.Parallelism)
			}
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	opts.Manifests.Register(fs)
	cmdutil.OutputFlag(cmd, &opts.Output, "text", "json")
	fs.IntVar(&opts.Parallelism, "parallelism", planpkg.DefaultParallelism, "How many backend objects to look at concurrently")
	return cmd
}

// Report is the outcome of a drift check; -o json prints it.
type Report struct {
	FormatVersion string    `json:"format_version"`
	Schema        string    `json:"schema"`
	CheckedAt     time.Time `json:"checked_at"`
	// Manifests is true when the manifests were compared too (-f).
	Manifests bool `json:"manifests"`
	// InSync: no drift and nothing prevented the check.
	InSync   bool           `json:"in_sync"`
	Backends int            `json:"backends"`
	Secrets  int            `json:"secrets"`
	Summary  map[string]int `json:"summary"`
	// Findings are what differs, decided by plan.CheckDrift.
	Findings []Finding `json:"findings"`
	// Changes are what `mcpctl apply -f` would do (with -f).
	Changes []Change `json:"changes"`
	// Problems are why the manifests cannot be planned against this state
	// (with -f); they make the check fail.
	Problems []string `json:"problems"`
}

// Finding is one difference (plan.CheckDrift decides them; this command
// only reports).
type Finding = planpkg.DriftFinding

// Finding types, by the names the report uses.
const (
	Missing     = planpkg.Missing
	Changed     = planpkg.Changed
	Orphan      = planpkg.Orphan
	Kept        = planpkg.Kept
	Leftover    = planpkg.Leftover
	Unreachable = planpkg.Unreachable
	Unmanaged   = planpkg.Unmanaged
	Unknown     = planpkg.Unknown
	Lost        = planpkg.Lost
	Drifted     = planpkg.Drift
)

// Change is one action of the plan of the manifests.
type Change struct {
	ID       string `json:"id"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Reason   string `json:"reason"`
}

func run(ctx context.Context, opts *Options) error {
	var set *manifest.Set
	if len(opts.Manifests.Paths) > 0 {
		var err error
		if set, err = opts.Manifests.Load(ctx, opts.IO); err != nil {
			return err
		}
	}
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	popts := planpkg.Options{Schema: store.Schema(), Parallelism: opts.Parallelism}
	snap, fps, err := planpkg.Gather(ctx, store, pool, set, popts)
	if err != nil {
		return fmt.Errorf("drift check of schema %q: %w", store.Schema(), err)
	}
	if !snap.Initialized && set == nil {
		return cmdutil.WithHint(fmt.Errorf("schema %q: %w", store.Schema(), state.ErrNotInitialized),
			"there is nothing to check yet; with -f, drift compares the manifests with an empty installation")
	}
	rep := &Report{
		FormatVersion: FormatVersion,
		Schema:        store.Schema(),
		CheckedAt:     opts.Now().UTC().Truncate(time.Second),
		Manifests:     set != nil,
		Backends:      len(snap.Backends),
		Secrets:       len(snap.Secrets),
		Findings:      []Finding{},
		Changes:       []Change{},
		Problems:      []string{},
	}
	var p *planpkg.Plan
	if set != nil {
		var pe *planpkg.Error
		p, err = planpkg.Compute(set, fps, snap, popts)
		switch {
		case errors.As(err, &pe):
			rep.Problems = append(rep.Problems, pe.Problems...)
		case err != nil:
			return err
		}
	}
	found, err := planpkg.CheckDrift(ctx, store, pool, snap, p, opts.Parallelism)
	if err != nil {
		return err
	}
	rep.Findings = append(rep.Findings, found...)
	if p != nil {
		for _, a := range p.Actions {
			rep.Changes = append(rep.Changes, Change{ID: a.ID, Action: string(a.Action), Resource: a.Resource(), Reason: a.Reason})
		}
	}
	rep.Summary = map[string]int{}
	drift, failed := false, len(rep.Problems) > 0
	for _, f := range rep.Findings {
		rep.Summary[string(f.Type)]++
		drift = drift || f.Drift
		failed = failed || f.Type == Unreachable
	}
	if len(rep.Changes) > 0 {
		rep.Summary["changes"] = len(rep.Changes)
		drift = true
	}
	rep.InSync = !drift && !failed

	switch opts.Output {
	case "json":
		err = cmdutil.WriteJSON(opts.IO.Out, rep)
	default:
		err = renderText(opts.IO.Out, rep, opts.IO.ColorScheme())
	}
	if err != nil {
		return fmt.Errorf("print the drift report: %w", err)
	}
	switch {
	case failed:
		// The report is on stdout (for the alerting pipe); the failure
		// also gets its one line on stderr, as every error does.
		n := len(rep.Problems)
		for _, f := range rep.Findings {
			if f.Type == Unreachable {
				n++
			}
		}
		return fmt.Errorf("the drift check could not be completed (%d problem(s), listed in the report above)", n)
	case drift:
		return cmdutil.Changes
	}
	return nil
}

func findingSymbol(t planpkg.FindingType) string {
	switch t {
	case Missing, Lost:
		return "✗"
	case Changed, Drifted:
		return "!"
	case Leftover:
		return "-"
	case Unknown, Unreachable:
		return "?"
	}
	return "*"
}

func renderText(w io.Writer, rep *Report, cs *cmdutil.ColorScheme) error {
	var b strings.Builder
	against := "their backends"
	if rep.Manifests {
		against = "their backends and the manifests"
	}
	if rep.InSync {
		fmt.Fprintf(&b, "No drift: the %s and %s in schema %q match %s.\n",
			plural(rep.Secrets, "secret"), plural(rep.Backends, "backend"), rep.Schema, against)
		for _, f := range rep.Findings { // informational only
			fmt.Fprintf(&b, "  %s %-11s %s: %s\n", findingSymbol(f.Type), f.Type, where(f), f.Reason)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "Checked %s and %s in schema %q against %s.\n",
		plural(rep.Secrets, "secret"), plural(rep.Backends, "backend"), rep.Schema, against)
	if len(rep.Findings) > 0 {
		b.WriteString("\n" + cs.Bold("Findings:") + "\n")
		for _, f := range rep.Findings {
			sym := findingSymbol(f.Type) + " " + fmt.Sprintf("%-11s", f.Type)
			switch {
			case !f.Drift && f.Type != Unreachable:
				sym = cs.Gray(sym)
			case f.Type == Missing || f.Type == Lost || f.Type == Unreachable:
				sym = cs.Red(sym)
			default:
				sym = cs.Yellow(sym)
			}
			fmt.Fprintf(&b, "  %s %s: %s\n", sym, where(f), f.Reason)
		}
	}
	if len(rep.Changes) > 0 {
		b.WriteString("\n" + cs.Bold("Changes `mcpctl apply -f` would make:") + "\n")
		for _, c := range rep.Changes {
			fmt.Fprintf(&b, "  %s %s: %s (%s)\n", planpkg.Symbol(planpkg.ActionType(c.Action)), c.Resource, c.Action, c.Reason)
		}
	}
	if len(rep.Problems) > 0 {
		b.WriteString("\n" + cs.Red("The manifests cannot be planned against this state:") + "\n")
		for _, p := range rep.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	b.WriteString("\n" + cs.Bold(summaryLine(rep)) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// where names a finding's subject: "secret/openai (on bao)", "bao: mcpctl/x".
func where(f Finding) string {
	switch {
	case f.Kind == planpkg.KindObject:
		return fmt.Sprintf("object %s on %s", f.Name, f.Backend)
	case f.Backend != "":
		return fmt.Sprintf("%s (on %s)", f.Resource(), f.Backend)
	}
	return f.Resource()
}

// summaryLine: "Drift: 1 changed, 1 orphan; 2 changes to apply."
func summaryLine(rep *Report) string {
	var parts []string
	for _, t := range []planpkg.FindingType{Missing, Lost, Changed, Drifted, Orphan, Leftover, Unmanaged} {
		if n := rep.Summary[string(t)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, t))
		}
	}
	if n := len(rep.Changes); n > 0 {
		parts = append(parts, plural(n, "change")+" to apply")
	}
	var why []string
	if n := rep.Summary[string(Unreachable)]; n > 0 {
		why = append(why, plural(n, "backend")+" unreachable")
	}
	if n := len(rep.Problems); n > 0 {
		why = append(why, plural(n, "plan problem"))
	}
	switch {
	case len(why) > 0 && len(parts) == 0:
		return "The drift check could not be completed: " + strings.Join(why, ", ") + "."
	case len(why) > 0:
		return "Drift: " + strings.Join(parts, ", ") + "; the check is incomplete: " + strings.Join(why, ", ") + "."
	}
	return "Drift: " + strings.Join(parts, ", ") + "."
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
