package migrate

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Request is what `migrate secrets` was asked to move.
type Request struct {
	From, To string
	// Names restricts the move to these secrets; empty means every secret
	// on From.
	Names         []string
	KeepSource    bool
	DestroySource bool
	// Schema is recorded in the plan.
	Schema string
	// Now and PlanID make Build deterministic in tests.
	Now    time.Time
	PlanID string
}

// Select returns the rows the request moves, sorted by name, and the
// problems that prevent it (unknown backends, names that do not exist or
// live elsewhere). A named secret already on req.To is skipped, so running
// the same command again is a no-op.
func Select(req Request, snap *planpkg.Snapshot) ([]state.Secret, []string) {
	var problems []string
	have := map[string]bool{}
	for _, b := range snap.Backends {
		have[b.Name] = true
	}
	for _, b := range []struct{ flag, name string }{{"--from", req.From}, {"--to", req.To}} {
		if !have[b.name] {
			problems = append(problems, fmt.Sprintf("%s: secret backend %q does not exist", b.flag, b.name))
		}
	}
	byName := make(map[string]state.Secret, len(snap.Secrets))
	for _, s := range snap.Secrets {
		byName[s.Name] = s
	}
	var out []state.Secret
	if len(req.Names) == 0 {
		for _, s := range snap.Secrets {
			if s.BackendName == req.From {
				out = append(out, s)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, n := range req.Names {
			if seen[n] {
				continue
			}
			seen[n] = true
			s, ok := byName[n]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("secret/%s does not exist", n))
			case s.BackendName == req.To:
				// Already moved (a rerun): nothing to do for it.
			case s.BackendName != req.From:
				problems = append(problems, fmt.Sprintf("secret/%s lives on %s, not on %s", n, s.BackendName, req.From))
			default:
				out = append(out, s)
			}
		}
	}
	slices.SortFunc(out, func(a, b state.Secret) int { return strings.Compare(a.Name, b.Name) })
	return out, problems
}

// Build computes the migration-only plan of req from snap (rows, the objects
// of every row, open journal entries) and dest (what Stat reported for each
// selected secret's location on req.To). It refuses, listing every problem in
// a *plan.Error, what apply -f would refuse: a source object that is gone, a
// destination object the secret does not own, an unfinished migration of
// another move, and a backend whose credentials would end up on itself.
func Build(req Request, snap *planpkg.Snapshot, dest map[string]planpkg.ObjectStatus) (*planpkg.Plan, error) {
	rows, problems := Select(req, snap)
	open := map[string][]state.Migration{}
	for _, m := range snap.OpenMigrations {
		open[m.SecretName] = append(open[m.SecretName], m)
	}
	defaultBackend := state.BootstrapBackend
	for _, b := range snap.Backends {
		if b.IsDefault {
			defaultBackend = b.Name
		}
	}
	p := &planpkg.Plan{
		FormatVersion:  planpkg.FormatVersion,
		ID:             req.PlanID,
		CreatedAt:      req.Now,
		Schema:         req.Schema,
		Initialized:    snap.Initialized,
		DefaultBackend: defaultBackend,
		Options: planpkg.Options{
			MaxDeletes:    planpkg.DefaultMaxDeletes,
			KeepSource:    req.KeepSource,
			DestroySource: req.DestroySource,
		},
		Actions:  []planpkg.Action{},
		Findings: []planpkg.Finding{},
		Warnings: []string{},
	}
	if p.ID == "" {
		p.ID = newPlanID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	reason := fmt.Sprintf("mcpctl migrate secrets --from %s --to %s", req.From, req.To)
	for _, r := range rows {
		a, why := migrateAction(req, r, snap.Objects[r.Name], dest[r.Name], open[r.Name], reason)
		problems = append(problems, why...)
		if a != nil {
			p.Actions = append(p.Actions, *a)
		}
	}
	problems = append(problems, credentialCycles(snap, rows, req.To)...)
	p.Summary.Migrate = len(p.Actions)
	if len(problems) > 0 {
		return p, &planpkg.Error{Problems: problems}
	}
	return p, nil
}

func migrateAction(req Request, r state.Secret, src, dst planpkg.ObjectStatus, journal []state.Migration, reason string) (*planpkg.Action, []string) {
	res := "secret/" + r.Name
	before := rowSummary(r)
	after := rowSummary(r)
	// The version is the destination's, recorded by the flip; the
	// summary's zero leaves it alone.
	after.Backend, after.Version = req.To, 0
	step := &planpkg.MigrationStep{From: req.From, To: req.To, KeepSource: req.KeepSource, DestroySource: req.DestroySource}
	a := &planpkg.Action{
		ID:           res,
		Kind:         planpkg.KindSecret,
		Name:         r.Name,
		Action:       planpkg.Migrate,
		Reason:       reason,
		Before:       before,
		After:        after,
		Precondition: planpkg.Precondition{RowGeneration: r.Generation},
		Migration:    step,
	}
	var problems []string
	for _, m := range journal {
		if m.State == state.MigrationStarted && m.FromBackend == req.From && m.ToBackend == req.To && step.JournalID == 0 {
			step.JournalID = m.ID
			a.Precondition.JournalID, a.Precondition.JournalState = m.ID, string(m.State)
			a.Reason += fmt.Sprintf("; resumes migration #%d interrupted before the flip", m.ID)
			continue
		}
		problems = append(problems, fmt.Sprintf("%s has an unfinished migration #%d (%s → %s, %s); finish or clean it up first with `mcpctl apply -f MANIFESTS`", res, m.ID, m.FromBackend, m.ToBackend, m.State))
	}

	switch {
	case src.Err != "":
		problems = append(problems, fmt.Sprintf("%s: cannot observe its object on %s: %s", res, req.From, src.Err))
	case src.Backend != "":
		a.Precondition.ObjectBackend = src.Backend
		a.Precondition.ObjectState = src.Meta.State.String()
		a.Precondition.ObjectVersion = src.Meta.Version
	}

	switch {
	case dst.Err != "":
		problems = append(problems, fmt.Sprintf("%s: cannot observe its location on %s: %s", res, req.To, dst.Err))
	case dst.Backend != "":
		step.DestinationState = dst.Meta.State.String()
		step.DestinationVersion = dst.Meta.Version
		if dst.Meta.State != drivers.Absent {
			if dst.Meta.OwnerID != r.ID {
				problems = append(problems, fmt.Sprintf("%s: backend %s already holds an object at its location that this secret does not own (%s, version %d); move or delete it before migrating",
					res, req.To, dst.Meta.State, dst.Meta.Version))
			} else if step.JournalID != 0 && dst.Meta.State == drivers.Present {
				step.DestinationHasCopy = true
				a.Reason += fmt.Sprintf("; the destination already holds a copy from the interrupted run (version %d)", dst.Meta.Version)
			}
		}
	}

	if src.Err == "" && src.Backend != "" && src.Meta.State != drivers.Present && !step.DestinationHasCopy {
		problems = append(problems, fmt.Sprintf("%s: its object on %s is %s, so there is nothing to move; restore it in the backend first (e.g. `vault kv undelete`), or apply manifests that manage its values",
			res, req.From, src.Meta.State))
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return a, nil
}

func rowSummary(r state.Secret) *planpkg.Summary {
	nonEmpty := func(m map[string]string) map[string]string {
		if len(m) == 0 {
			return nil
		}
		return maps.Clone(m)
	}
	return &planpkg.Summary{
		Backend:     r.BackendName,
		Keys:        slices.Clone(r.Keys),
		Managed:     r.Managed,
		Version:     r.BackendVersion,
		Labels:      nonEmpty(r.Labels),
		Annotations: nonEmpty(r.Annotations),
		Protected:   r.Protected,
	}
}

// credentialCycles reports backends whose credentials would, after the
// move, be kept on the backend itself, directly or through other backends'
// credentials: such a backend could never be opened again. Only cycles
// through a moved secret count: cycles that exist already are not this
// command's doing.
func credentialCycles(snap *planpkg.Snapshot, moved []state.Secret, to string) []string {
	placed := make(map[string]string, len(snap.Secrets))
	for _, s := range snap.Secrets {
		placed[s.Name] = s.BackendName
	}
	isMoved := map[string]bool{}
	for _, s := range moved {
		placed[s.Name] = to
		isMoved[s.Name] = true
	}
	var edges []planpkg.CredentialEdge
	for _, b := range snap.Backends {
		es, err := planpkg.CredentialEdges(b.Name, b.Type, b.Config, func(secret string) string { return placed[secret] })
		if err != nil {
			continue // not ours to judge here; opening the backend says why
		}
		edges = append(edges, es...)
	}
	// One problem per backend caught in a new cycle, naming the cycle from it.
	byBackend := map[string]planpkg.CredentialCycle{}
	for _, cyc := range planpkg.CredentialCycles(edges) {
		if !slices.ContainsFunc(cyc, func(e planpkg.CredentialEdge) bool { return isMoved[e.Secret] }) {
			continue
		}
		for _, b := range cyc.Backends() {
			if _, ok := byBackend[b]; !ok {
				byBackend[b] = cyc.From(b)
			}
		}
	}
	var problems []string
	for _, b := range slices.Sorted(maps.Keys(byBackend)) {
		var path []string
		for _, e := range byBackend[b] {
			path = append(path, fmt.Sprintf("secret/%s on %s", e.Secret, e.On))
		}
		problems = append(problems, fmt.Sprintf("the move would make secretbackend/%s depend on itself for its credentials (secretbackend/%s → %s); keep them on a backend that does not depend on %s",
			b, b, strings.Join(path, " → "), b))
	}
	return problems
}

func newPlanID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
