package plan

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// MigrationRequest is what `mcpctl migrate secrets` asks for: a move of
// secrets from one backend to another, or (Cleanup) the removal of the
// source copies earlier moves kept.
type MigrationRequest struct {
	From, To string
	// Names restricts the request to these secrets; empty means every
	// secret on From. Naming a secret whose move would make a backend
	// depend on itself for its credentials is an error.
	Names []string
	// Exclude leaves these secrets out.
	Exclude       []string
	KeepSource    bool
	DestroySource bool
	// Cleanup removes kept source copies (journal state kept) and the
	// leftovers of interrupted moves instead of moving anything; From, To
	// and Names, when set, narrow which.
	Cleanup bool
	// Schema is recorded in the plan.
	Schema string
	// Now and PlanID make BuildMigration deterministic in tests.
	Now    time.Time
	PlanID string
}

func (req MigrationRequest) command() string {
	if req.Cleanup {
		return "mcpctl migrate secrets --cleanup"
	}
	return fmt.Sprintf("mcpctl migrate secrets --from %s --to %s", req.From, req.To)
}

// migrationSelection is what a request selects in a snapshot.
type migrationSelection struct {
	rows     []state.Secret // to move, by name
	skipped  []string       // warnings: secrets left where they are, and why
	problems []string
	named    map[string]bool // nil: every secret
	excluded map[string]bool
}

func (sel *migrationSelection) wants(name string) bool {
	return (sel.named == nil || sel.named[name]) && !sel.excluded[name]
}

// selectMigration decides which rows req moves. A named secret already on
// req.To is skipped, so running the same command again is a no-op. Without
// --names, the credential Secrets whose move would make a backend depend on
// itself (the destination's own token, and any other backend's that would
// then close a cycle) are left where they are, one warning each.
func selectMigration(req MigrationRequest, snap *Snapshot) migrationSelection {
	var sel migrationSelection
	have := map[string]bool{}
	for _, b := range snap.backendRows() {
		have[b.Name] = true
	}
	for _, b := range []struct{ flag, name string }{{"--from", req.From}, {"--to", req.To}} {
		if (b.name != "" || !req.Cleanup) && !have[b.name] {
			sel.problems = append(sel.problems, fmt.Sprintf("%s: secret backend %q does not exist", b.flag, b.name))
		}
	}
	byName := make(map[string]state.Secret, len(snap.Secrets))
	for _, s := range snap.Secrets {
		byName[s.Name] = s
	}
	sel.excluded = map[string]bool{}
	for _, n := range req.Exclude {
		if _, ok := byName[n]; !ok && !req.Cleanup {
			sel.problems = append(sel.problems, fmt.Sprintf("--exclude: secret/%s does not exist", n))
		}
		sel.excluded[n] = true
	}
	if len(req.Names) > 0 {
		sel.named = map[string]bool{}
		for _, n := range req.Names {
			sel.named[n] = true
		}
	}
	if req.Cleanup {
		return sel
	}

	var rows []state.Secret
	if sel.named == nil {
		for _, s := range snap.Secrets {
			if s.BackendName == req.From && !sel.excluded[s.Name] {
				rows = append(rows, s)
			}
		}
	} else {
		seen := map[string]bool{}
		for _, n := range req.Names {
			if seen[n] || sel.excluded[n] {
				continue
			}
			seen[n] = true
			s, ok := byName[n]
			switch {
			case !ok:
				sel.problems = append(sel.problems, fmt.Sprintf("secret/%s does not exist", n))
			case s.BackendName == req.To:
				// Already moved (a rerun): nothing to do for it.
			case s.BackendName != req.From:
				sel.problems = append(sel.problems, fmt.Sprintf("secret/%s lives on %s, not on %s", n, s.BackendName, req.From))
			default:
				rows = append(rows, s)
			}
		}
	}
	slices.SortFunc(rows, func(a, b state.Secret) int { return strings.Compare(a.Name, b.Name) })

	if sel.named != nil {
		// Named on purpose: a move that closes a cycle is an error.
		for _, cy := range credentialCycles(snap, rows, req.To) {
			sel.problems = append(sel.problems, cy.problem())
		}
		sel.rows = rows
		return sel
	}
	// Everything on --from: leave out the credential Secrets that would
	// close a cycle, until no move does.
	for {
		cycles := credentialCycles(snap, rows, req.To)
		if len(cycles) == 0 {
			break
		}
		drop := map[string]credentialCycle{}
		for _, cy := range cycles {
			for _, s := range cy.moved {
				if _, ok := drop[s]; !ok {
					drop[s] = cy
				}
			}
		}
		rows = slices.DeleteFunc(rows, func(r state.Secret) bool { return drop[r.Name].backend != "" })
		for _, s := range slices.Sorted(maps.Keys(drop)) {
			cy := drop[s]
			sel.skipped = append(sel.skipped, fmt.Sprintf("secret/%s is not moved: it stays on %s because on %s it would make secretbackend/%s depend on itself for its credentials (%s)",
				s, req.From, req.To, cy.backend, cy.path()))
		}
	}
	sel.rows = rows
	return sel
}

// ObserveMigration records in snap.Targets what the backend req moves
// secrets to holds at their locations (Stat only, at most parallelism calls
// at a time), for BuildMigration to check ownership and resume interrupted
// moves.
func ObserveMigration(ctx context.Context, ds DriverSource, snap *Snapshot, req MigrationRequest, parallelism int) error {
	sel := selectMigration(req, snap)
	exists := false
	for _, b := range snap.Backends {
		exists = exists || b.Name == req.To
	}
	// Observed even when the request has problems, so that BuildMigration
	// lists every one.
	if req.Cleanup || !exists || len(sel.rows) == 0 {
		return nil
	}
	if snap.Targets == nil {
		snap.Targets = map[string]ObjectStatus{}
	}
	jobs := make([]statJob, 0, len(sel.rows))
	for _, r := range sel.rows {
		jobs = append(jobs, statJob{ref: drivers.Ref(r.Name), into: snap.Targets})
	}
	if parallelism < 1 {
		parallelism = 1
	}
	statBackend(ctx, ds, &statSink{}, req.To, jobs, make(chan struct{}, parallelism))
	return ctx.Err()
}

// BuildMigration computes the plan of req from snap (rows, the objects of
// every row, open journal entries and kept copies, and the destinations
// ObserveMigration recorded): a migrate action per secret to move, and a
// cleanup action per source copy left by an earlier run of the same move
// (cleanup-pending: running the command again retries the removal). With
// req.Cleanup it plans the removal of kept copies instead.
//
// It refuses, listing every problem in a *Error, what apply -f would
// refuse: a source object that is gone, a destination object the secret
// does not own, an unfinished migration of another move, and a named secret
// whose move would make a backend depend on itself for its credentials.
func BuildMigration(req MigrationRequest, snap *Snapshot) (*Plan, error) {
	sel := selectMigration(req, snap)
	problems := sel.problems
	defaultBackend := state.BootstrapBackend
	for _, b := range snap.Backends {
		if b.IsDefault {
			defaultBackend = b.Name
		}
	}
	p := &Plan{
		FormatVersion:  FormatVersion,
		ID:             req.PlanID,
		CreatedAt:      req.Now,
		Schema:         req.Schema,
		Initialized:    snap.Initialized,
		DefaultBackend: defaultBackend,
		Options: Options{
			MaxDeletes:    DefaultMaxDeletes,
			KeepSource:    req.KeepSource,
			DestroySource: req.DestroySource,
		},
		Actions:  []Action{},
		Findings: []Finding{},
		Warnings: append([]string{}, sel.skipped...),
	}
	if p.ID == "" {
		p.ID = newPlanID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	rowByName := make(map[string]*state.Secret, len(snap.Secrets))
	for i := range snap.Secrets {
		rowByName[snap.Secrets[i].Name] = &snap.Secrets[i]
	}

	// Leftover source copies this request removes: kept copies (--cleanup),
	// and copies a flipped move did not remove yet (state flipped or
	// cleanup-pending) — of any move with --cleanup, of this very move
	// otherwise.
	var entries []state.Migration
	if req.Cleanup {
		entries = append(entries, snap.KeptCopies...)
	}
	for _, m := range snap.OpenMigrations {
		if m.State == state.MigrationFlipped || m.State == state.MigrationCleanupPending {
			entries = append(entries, m)
		}
	}
	slices.SortFunc(entries, func(a, b state.Migration) int { return int(a.ID - b.ID) })
	cleaned := map[int64]bool{}
	for i := range entries {
		m := &entries[i]
		switch {
		case !sel.wants(m.SecretName),
			req.From != "" && m.FromBackend != req.From,
			req.To != "" && m.ToBackend != req.To:
			continue
		}
		lf := leftover{m: m, copy: SourceCopy, backend: m.FromBackend,
			destroy: m.DestroySource || req.DestroySource, removeKept: m.State == state.MigrationKept}
		lo, observed := snap.Leftovers[m.ID]
		if observed && lo.Err != "" {
			problems = append(problems, fmt.Sprintf("secret/%s: cannot observe its copy on %s: %s", m.SecretName, m.FromBackend, lo.Err))
			continue
		}
		a, warning := lf.action(rowByName[m.SecretName], lo, observed)
		if warning != "" {
			p.Warnings = append(p.Warnings, warning)
		}
		p.Actions = append(p.Actions, *a)
		cleaned[m.ID] = true
	}

	open := map[string][]state.Migration{}
	for _, m := range snap.OpenMigrations {
		if !cleaned[m.ID] {
			open[m.SecretName] = append(open[m.SecretName], m)
		}
	}
	reason := req.command()
	for _, r := range sel.rows {
		dst, ok := snap.Targets[r.Name]
		if !ok {
			dst = ObjectStatus{}
		}
		a, why := migrateAction(req, r, snap.Objects[r.Name], dst, open[r.Name], reason)
		problems = append(problems, why...)
		if a != nil {
			p.Actions = append(p.Actions, *a)
		}
	}
	p.Summary = count(p)
	if len(problems) > 0 {
		return p, &Error{Problems: problems}
	}
	return p, nil
}

func migrateAction(req MigrationRequest, r state.Secret, src, dst ObjectStatus, journal []state.Migration, reason string) (*Action, []string) {
	res := "secret/" + r.Name
	before := rowSecretSummary(&r)
	after := rowSecretSummary(&r)
	// The version is the destination's, recorded by the flip; the
	// summary's zero leaves it alone.
	after.Backend, after.Version = req.To, 0
	step := &MigrationStep{From: req.From, To: req.To, KeepSource: req.KeepSource, DestroySource: req.DestroySource}
	a := &Action{
		ID:           res,
		Kind:         KindSecret,
		Name:         r.Name,
		Action:       Migrate,
		Reason:       reason,
		Before:       before,
		After:        after,
		Precondition: Precondition{RowGeneration: r.Generation},
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

// credentialCycle is a backend that, after a move, would keep its
// credentials on itself, directly or through other backends' credentials.
type credentialCycle struct {
	backend string
	cycle   CredentialCycle // starting at backend
	moved   []string        // the moved secrets on it
}

func (cy credentialCycle) path() string {
	steps := make([]string, 0, len(cy.cycle))
	for _, e := range cy.cycle {
		steps = append(steps, fmt.Sprintf("secret/%s on %s", e.Secret, e.On))
	}
	return "secretbackend/" + cy.backend + " → " + strings.Join(steps, " → ")
}

func (cy credentialCycle) problem() string {
	return fmt.Sprintf("the move would make secretbackend/%s depend on itself for its credentials (%s); keep them on a backend that does not depend on %s",
		cy.backend, cy.path(), cy.backend)
}

// credentialCycles finds, with the one credential-edge function and cycle
// search of this package, the backends whose credentials would, after
// moving moved to backend to, be kept on the backend itself: one per
// backend, the cycle named from it. Only cycles through a moved secret
// count: cycles that exist already are not the move's doing.
func credentialCycles(snap *Snapshot, moved []state.Secret, to string) []credentialCycle {
	placed := make(map[string]string, len(snap.Secrets))
	for _, s := range snap.Secrets {
		placed[s.Name] = s.BackendName
	}
	isMoved := map[string]bool{}
	for _, s := range moved {
		placed[s.Name] = to
		isMoved[s.Name] = true
	}
	var edges []CredentialEdge
	for _, b := range snap.Backends {
		es, err := CredentialEdges(b.Name, b.Type, b.Config, func(secret string) string { return placed[secret] })
		if err != nil {
			continue // not ours to judge here; opening the backend says why
		}
		edges = append(edges, es...)
	}
	byBackend := map[string]CredentialCycle{}
	for _, cyc := range CredentialCycles(edges) {
		if !slices.ContainsFunc(cyc, func(e CredentialEdge) bool { return isMoved[e.Secret] }) {
			continue
		}
		for _, b := range cyc.Backends() {
			if _, ok := byBackend[b]; !ok {
				byBackend[b] = cyc.From(b)
			}
		}
	}
	out := make([]credentialCycle, 0, len(byBackend))
	for _, b := range slices.Sorted(maps.Keys(byBackend)) {
		cy := credentialCycle{backend: b, cycle: byBackend[b]}
		for _, e := range cy.cycle {
			if isMoved[e.Secret] {
				cy.moved = append(cy.moved, e.Secret)
			}
		}
		out = append(out, cy)
	}
	return out
}
