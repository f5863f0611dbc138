package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/plan"
)

// ManifestFlags are the flags of the commands that read manifests (plan,
// apply, drift, graph): where they are and what fromFile may read.
type ManifestFlags struct {
	Paths     []string
	FilesRoot string
}

// Register adds -f/--filename and --files-root to fs.
func (m *ManifestFlags) Register(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&m.Paths, "filename", "f", nil, "Manifest file or directory (*.yaml, *.yml, *.json, recursively); '-' reads stdin; repeatable")
	fs.StringVar(&m.FilesRoot, "files-root", "", "Extra directory that fromFile paths may point into (by default they may not leave the directory given to -f)")
}

// Load reads the manifests (see LoadManifests).
func (m *ManifestFlags) Load(ctx context.Context, ios *IOStreams) (*manifest.Set, error) {
	return LoadManifests(ctx, ios, m.Paths, m.FilesRoot)
}

// LoadManifests loads and validates the manifests under paths. A load that
// finds problems prints every one of them on stderr, one "Error:" line each
// naming file, document and line, and returns SilentError (exit 1): fixing
// one mistake at a time per CI run is what the strict loader exists to spare.
func LoadManifests(ctx context.Context, ios *IOStreams, paths []string, filesRoot string) (*manifest.Set, error) {
	set, err := manifest.Load(ctx, paths, manifest.LoadOptions{Stdin: ios.In, FilesRoot: filesRoot})
	var errs manifest.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintf(ios.ErrOut, "Error: %s\n", e)
		}
		n := "1 problem"
		if len(errs) != 1 {
			n = fmt.Sprintf("%d problems", len(errs))
		}
		fmt.Fprintf(ios.ErrOut, "The manifests have %s; nothing was planned.\n", n)
		return nil, SilentError
	}
	if err != nil {
		return nil, err
	}
	return set, nil
}

// PrintWarnings writes each warning on stderr, so stdout stays the document
// (a plan, JSON, a graph) that scripts consume.
func PrintWarnings(ios *IOStreams, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(ios.ErrOut, "Warning: %s\n", w)
	}
}

// PlanFlags are the flags that shape a plan, shared by plan and apply.
type PlanFlags struct {
	Prune           bool
	Selectors       []string
	MaxDeletes      int
	AllowMassDelete bool
}

// Register adds --prune, -l/--selector, --max-deletes and --allow-mass-delete.
func (p *PlanFlags) Register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.Prune, "prune", false, "Delete resources in state that no manifest declares (only those -l selects)")
	fs.StringArrayVarP(&p.Selectors, "selector", "l", nil, "Restrict --prune to resources whose labels match, e.g. team=infra,env!=prod (repeatable)")
	fs.IntVar(&p.MaxDeletes, "max-deletes", plan.DefaultMaxDeletes, "Refuse a plan that deletes more than this many resources")
	fs.BoolVar(&p.AllowMassDelete, "allow-mass-delete", false, "Allow an empty manifest set, deleting everything, or more than --max-deletes deletes")
}

// Changed reports the first plan-shaping flag set on cmd, or "".
func (p *PlanFlags) Changed(cmd *cobra.Command) string {
	for _, name := range []string{"prune", "selector", "max-deletes", "allow-mass-delete"} {
		if cmd.Flags().Changed(name) {
			return name
		}
	}
	return ""
}

// Options turns the flags into plan options.
func (p *PlanFlags) Options() (plan.Options, error) {
	if p.MaxDeletes < 1 {
		return plan.Options{}, FlagErrorf("invalid --max-deletes %d: must be at least 1 (to delete nothing, leave out --prune)", p.MaxDeletes)
	}
	sel, err := plan.ParseSelector(strings.Join(p.Selectors, ","))
	if err != nil {
		return plan.Options{}, &FlagError{Err: err}
	}
	if len(sel) > 0 && !p.Prune {
		return plan.Options{}, FlagErrorf("-l/--selector only restricts --prune; add --prune")
	}
	return plan.Options{
		Prune:           p.Prune,
		Selector:        sel,
		MaxDeletes:      p.MaxDeletes,
		AllowMassDelete: p.AllowMassDelete,
	}, nil
}

// PlanProblems prints a refused plan's problems on stderr, one per line, and
// returns SilentError; any other error is returned as is.
func PlanProblems(ios *IOStreams, err error) error {
	var pe *plan.Error
	if !errors.As(err, &pe) {
		return err
	}
	n := "a problem"
	if len(pe.Problems) != 1 {
		n = fmt.Sprintf("%d problems", len(pe.Problems))
	}
	fmt.Fprintf(ios.ErrOut, "Error: the plan was refused because of %s:\n", n)
	for _, p := range pe.Problems {
		fmt.Fprintf(ios.ErrOut, "  - %s\n", p)
	}
	return SilentError
}
