package plan

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Finding types of the drift check (rows against backends), besides the
// plan's own (Drift, Unmanaged, Lost, Unknown) it adds with manifests.
const (
	// Missing: the row points at an object that is absent, soft-deleted or
	// destroyed.
	Missing FindingType = "missing"
	// Changed: the object's version, key names or owner differ from what
	// the row records: written outside mcpctl.
	Changed FindingType = "changed"
	// Orphan: an object under a backend's prefix that no row accounts for.
	Orphan FindingType = "orphan"
	// Kept: a copy a migration kept on purpose (--keep-source). Reported,
	// not drift.
	Kept FindingType = "kept"
	// Leftover: an open migration journal entry; the next apply resumes or
	// cleans it up.
	Leftover FindingType = "leftover"
	// Unreachable: a backend that could not be observed: its drift is
	// unknown, so the check is incomplete.
	Unreachable FindingType = "unreachable"
)

// KindObject is the kind of an orphan: a backend object no secret row
// accounts for.
const KindObject Kind = "object"

// DriftFinding is one difference the drift check found.
type DriftFinding struct {
	Type    FindingType `json:"type"`
	Kind    Kind        `json:"kind"`
	Name    string      `json:"name"`
	Backend string      `json:"backend,omitempty"`
	Reason  string      `json:"reason"`
	// Drift is false for findings reported for information only (kept,
	// unknown, unreachable).
	Drift bool `json:"drift"`
}

// Resource is "kind/name".
func (f DriftFinding) Resource() string { return string(f.Kind) + "/" + f.Name }

// JournalReader reads the migration journal (*state.Store satisfies it):
// the drift check tells kept source copies from orphans by it.
type JournalReader interface {
	ListMigrations(ctx context.Context, limit int) ([]state.Migration, error)
}

// CheckDrift is the one place that decides what differs between the state
// rows, the backends and, when p is not nil, the manifests p was computed
// from: every row's object in snap (missing, changed), every open journal
// entry (leftover), every object under each backend's prefix that no row
// accounts for (orphan, or kept by --keep-source), each backend that could
// not be observed (unreachable), and then the plan's findings the state
// check did not already report. It never reads values and never writes.
// The findings are sorted by name, kind, backend, type and reason.
func CheckDrift(ctx context.Context, journal JournalReader, ds DriverSource, snap *Snapshot, p *Plan, parallelism int) ([]DriftFinding, error) {
	out, err := checkState(ctx, journal, ds, snap, parallelism)
	if err != nil {
		return nil, err
	}
	if p != nil {
		out = addPlanFindings(out, p)
	}
	sortDriftFindings(out)
	return out, nil
}

// addPlanFindings adds the plan's findings except those the state check
// already reported (a missing or changed object is also the plan's drift or
// lost finding).
func addPlanFindings(out []DriftFinding, p *Plan) []DriftFinding {
	seen := map[string]bool{}
	for _, f := range out {
		if f.Kind == KindSecret && (f.Type == Missing || f.Type == Changed) {
			seen[f.Name] = true
		}
	}
	for _, f := range p.Findings {
		if (f.Type == Drift || f.Type == Lost) && seen[f.Name] {
			continue
		}
		out = append(out, DriftFinding{
			Type: f.Type, Kind: f.Kind, Name: f.Name, Backend: f.Backend, Reason: f.Reason,
			Drift: f.Type != Unknown,
		})
	}
	return out
}

// checkState compares the rows with the backends: every row's object (from
// snap), every open journal entry, and every object under each backend's
// prefix (Driver.List) for orphans.
func checkState(ctx context.Context, journal JournalReader, ds DriverSource, snap *Snapshot, parallelism int) ([]DriftFinding, error) {
	var out []DriftFinding
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
			out = append(out, DriftFinding{Type: Missing, Kind: KindSecret, Name: r.Name, Backend: r.BackendName, Drift: true,
				Reason: fmt.Sprintf("the object is %s; the row records version %d", o.Meta.State, r.BackendVersion)})
			continue
		}
		var what []string
		if o.Meta.Version != r.BackendVersion {
			what = append(what, fmt.Sprintf("backend object version %d → %d", r.BackendVersion, o.Meta.Version))
		}
		if !slices.Equal(o.Meta.Keys, r.Keys) {
			what = append(what, "keys "+KeyDiff(r.Keys, o.Meta.Keys))
		}
		if o.Meta.OwnerID != "" && o.Meta.OwnerID != r.ID {
			what = append(what, "the object is owned by another secret (id "+o.Meta.OwnerID+")")
		}
		if len(what) > 0 {
			out = append(out, DriftFinding{Type: Changed, Kind: KindSecret, Name: r.Name, Backend: r.BackendName, Drift: true,
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
		out = append(out, DriftFinding{Type: Leftover, Kind: KindSecret, Name: m.SecretName, Backend: at, Drift: true, Reason: reason})
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
		for name, o := range StatObjects(ctx, ds, b.Name, candidates, parallelism) {
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
					if kept, err = keptSources(ctx, journal); err != nil {
						return nil, err
					}
				}
				if kept[b.Name+"\x00"+r.ID] {
					out = append(out, DriftFinding{Type: Kept, Kind: KindSecret, Name: name, Backend: b.Name,
						Reason: fmt.Sprintf("a copy kept by a migration to %s with --keep-source (version %d); remove it with `mcpctl migrate secrets --cleanup`", r.BackendName, o.Meta.Version)})
					continue
				}
				out = append(out, DriftFinding{Type: Orphan, Kind: KindObject, Name: name, Backend: b.Name, Drift: true,
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
			out = append(out, DriftFinding{Type: Orphan, Kind: KindObject, Name: name, Backend: b.Name, Drift: true,
				Reason: fmt.Sprintf("no secret row accounts for this object (version %d); %s", o.Meta.Version, who)})
		}
	}

	for k, names := range unreachable {
		slices.Sort(names)
		what := "cannot list its objects"
		if n := slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == "(list)" }); len(n) > 0 {
			what = fmt.Sprintf("cannot observe %d object(s) (%s)", len(n), nameList(n, 5))
		}
		out = append(out, DriftFinding{Type: Unreachable, Kind: KindSecretBackend, Name: k[0], Drift: false,
			Reason: what + ": " + k[1]})
	}
	return out, nil
}

// keptSources returns "backend\x00secret id" for each finished migration
// that kept its source copy.
func keptSources(ctx context.Context, journal JournalReader) (map[string]bool, error) {
	ms, err := journal.ListMigrations(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("read the migration journal: %w", err)
	}
	out := map[string]bool{}
	for _, m := range ms {
		if (m.State == state.MigrationKept || m.State == state.MigrationDone) && m.KeepSource {
			out[m.FromBackend+"\x00"+m.SecretID] = true
		}
	}
	return out, nil
}

func sortDriftFindings(fs []DriftFinding) {
	slices.SortStableFunc(fs, func(a, b DriftFinding) int {
		return cmp.Or(
			strings.Compare(a.Name, b.Name),
			strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Backend, b.Backend),
			strings.Compare(string(a.Type), string(b.Type)),
			strings.Compare(a.Reason, b.Reason),
		)
	})
}
