package drift

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Finding types of the state check (rows against backends).
const (
	// Missing: the row points at an object that is absent, soft-deleted or
	// destroyed.
	Missing = "missing"
	// Changed: the object's version, key names or owner differ from what
	// the row records: written outside mcpctl.
	Changed = "changed"
	// Orphan: an object under a backend's prefix that no row accounts for.
	Orphan = "orphan"
	// Kept: a copy a migration kept on purpose (--keep-source). Reported,
	// not drift.
	Kept = "kept"
	// Leftover: an open migration journal entry; the next apply resumes or
	// cleans it up.
	Leftover = "leftover"
	// Unreachable: a backend that could not be observed. Makes the check
	// fail (exit 1): its drift is unknown.
	Unreachable = "unreachable"
)

// Finding types taken from the plan (with -f).
const (
	Unmanaged = string(planpkg.Unmanaged)
	Unknown   = string(planpkg.Unknown)
	Lost      = string(planpkg.Lost)
	Drifted   = string(planpkg.Drift)
)

// Finding is one difference.
type Finding struct {
	Type string `json:"type"`
	// Kind is secret, secretbackend, or object (an orphan: a backend
	// object no secret row accounts for).
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Backend string `json:"backend,omitempty"`
	Reason  string `json:"reason"`
	// Drift is false for findings reported for information only (kept,
	// unknown).
	Drift bool `json:"drift"`
}

// Resource is "kind/name".
func (f Finding) Resource() string { return f.Kind + "/" + f.Name }

// checkState compares the rows with the backends: every row's object (from
// snap), every open journal entry, and every object under each backend's
// prefix (Driver.List) for orphans.
func checkState(ctx context.Context, store *state.Store, ds planpkg.DriverSource, snap *planpkg.Snapshot, parallelism int) ([]Finding, error) {
	var out []Finding
	unreachable := map[[2]string][]string{}

	for _, r := range snap.Secrets {
		o, ok := snap.Objects[r.Name]
		if !ok {
			continue
		}
		if o.Err != "" {
			k := [2]string{r.BackendName, o.Err}
			unreachable[k] = append(unreachable[k], r.Name)
			continue
		}
		if o.Meta.State != drivers.Present {
			out = append(out, Finding{Type: Missing, Kind: "secret", Name: r.Name, Backend: r.BackendName, Drift: true,
				Reason: fmt.Sprintf("the object is %s; the row records version %d", o.Meta.State, r.BackendVersion)})
			continue
		}
		var what []string
		if o.Meta.Version != r.BackendVersion {
			what = append(what, fmt.Sprintf("backend object version %d → %d", r.BackendVersion, o.Meta.Version))
		}
		if !slices.Equal(o.Meta.Keys, r.Keys) {
			what = append(what, "keys "+planpkg.KeyDiff(r.Keys, o.Meta.Keys))
		}
		if o.Meta.OwnerID != "" && o.Meta.OwnerID != r.ID {
			what = append(what, "the object is owned by another secret (id "+o.Meta.OwnerID+")")
		}
		if len(what) > 0 {
			out = append(out, Finding{Type: Changed, Kind: "secret", Name: r.Name, Backend: r.BackendName, Drift: true,
				Reason: "changed outside mcpctl: " + strings.Join(what, ", ")})
		}
	}

	// Where each open journal entry's leftover is: the destination before
	// the flip, the source after it.
	leftoverAt := map[[2]string]bool{}
	for _, m := range snap.OpenMigrations {
		at := m.FromBackend
		if m.State == state.MigrationStarted {
			at = m.ToBackend
		}
		leftoverAt[[2]string{at, m.SecretName}] = true
		reason := fmt.Sprintf("migration #%d (%s → %s) stopped at %q", m.ID, m.FromBackend, m.ToBackend, m.State)
		if m.Error != "" {
			reason += " (" + m.Error + ")"
		}
		reason += fmt.Sprintf("; a copy may be left on %s; the next `mcpctl apply` resumes or cleans it up", at)
		out = append(out, Finding{Type: Leftover, Kind: "secret", Name: m.SecretName, Backend: at, Drift: true, Reason: reason})
	}

	rowByName := make(map[string]state.Secret, len(snap.Secrets))
	for _, r := range snap.Secrets {
		rowByName[r.Name] = r
	}
	var kept map[string]bool // lazily: "backend\x00secret id" of --keep-source moves
	for _, b := range snap.Backends {
		drv, err := ds.Driver(ctx, b.Name)
		if err != nil {
			k := [2]string{b.Name, err.Error()}
			unreachable[k] = append(unreachable[k], "(list)")
			continue
		}
		var candidates []string
		var listErr error
		for ref, err := range drv.List(ctx) {
			if err != nil {
				listErr = err
				break
			}
			name := string(ref)
			if r, ok := rowByName[name]; ok && r.BackendName == b.Name {
				continue
			}
			if leftoverAt[[2]string{b.Name, name}] {
				continue
			}
			candidates = append(candidates, name)
		}
		if listErr != nil {
			k := [2]string{b.Name, listErr.Error()}
			unreachable[k] = append(unreachable[k], "(list)")
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for name, o := range cmdutil.StatObjects(ctx, ds, b.Name, candidates, parallelism) {
			switch {
			case o.Err != "":
				k := [2]string{b.Name, o.Err}
				unreachable[k] = append(unreachable[k], name)
				continue
			case o.Meta.State != drivers.Present:
				// Deleted objects stay recoverable on purpose (soft
				// delete is the default); they are not drift.
				continue
			}
			r, hasRow := rowByName[name]
			if hasRow && o.Meta.OwnerID == r.ID {
				if kept == nil {
					if kept, err = keptSources(ctx, store); err != nil {
						return nil, err
					}
				}
				if kept[b.Name+"\x00"+r.ID] {
					out = append(out, Finding{Type: Kept, Kind: "secret", Name: name, Backend: b.Name,
						Reason: fmt.Sprintf("a copy kept by a migration to %s with --keep-source (version %d); delete it in the backend when no longer needed", r.BackendName, o.Meta.Version)})
					continue
				}
				out = append(out, Finding{Type: Orphan, Kind: "object", Name: name, Backend: b.Name, Drift: true,
					Reason: fmt.Sprintf("a copy of secret/%s, which lives on %s, that no migration journal accounts for (version %d)", name, r.BackendName, o.Meta.Version)})
				continue
			}
			who := "not written by mcpctl"
			if o.Meta.OwnerID != "" || o.Meta.ManagedBy {
				who = "written by mcpctl for a secret that no longer exists"
				if o.Meta.OwnerID != "" {
					who += " (id " + o.Meta.OwnerID + ")"
				}
			}
			if hasRow {
				who += fmt.Sprintf("; secret/%s lives on %s and this is not its copy", name, r.BackendName)
			}
			out = append(out, Finding{Type: Orphan, Kind: "object", Name: name, Backend: b.Name, Drift: true,
				Reason: fmt.Sprintf("no secret row accounts for this object (version %d); %s", o.Meta.Version, who)})
		}
	}

	for k, names := range unreachable {
		slices.Sort(names)
		what := "cannot list its objects"
		if n := slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == "(list)" }); len(n) > 0 {
			what = fmt.Sprintf("cannot observe %d object(s) (%s)", len(n), nameList(n, 5))
		}
		out = append(out, Finding{Type: Unreachable, Kind: "secretbackend", Name: k[0], Drift: false,
			Reason: what + ": " + k[1]})
	}
	return out, nil
}

// keptSources returns "backend\x00secret id" for each finished migration
// that kept its source copy.
func keptSources(ctx context.Context, store *state.Store) (map[string]bool, error) {
	ms, err := store.ListMigrations(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("read the migration journal: %w", err)
	}
	out := map[string]bool{}
	for _, m := range ms {
		if m.State == state.MigrationDone && m.KeepSource {
			out[m.FromBackend+"\x00"+m.SecretID] = true
		}
	}
	return out, nil
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			strings.Compare(a.Name, b.Name),
			strings.Compare(a.Kind, b.Kind),
			strings.Compare(a.Backend, b.Backend),
			strings.Compare(a.Type, b.Type),
			strings.Compare(a.Reason, b.Reason),
		)
	})
}

func nameList(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
