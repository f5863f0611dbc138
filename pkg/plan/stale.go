package plan

import (
	"fmt"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// Moved is one precondition of a saved plan that no longer holds.
type Moved struct {
	ActionID string
	// Resource is "kind/name".
	Resource string
	// What moved: "row generation 4 → 5", "backend object version 3 → 5",
	// "row created", "row deleted", "migration #12 started → flipped"...
	What string
}

func (m Moved) String() string { return m.Resource + ": " + m.What }

// Stale compares a plan's preconditions with a fresh snapshot and returns,
// for each action whose precondition no longer holds, the resource and what
// moved, in plan order. An empty result means the plan may run. The desired
// fingerprints are not checked here: apply checks them when it resolves the
// values (Action.ResolveValues).
func Stale(p *Plan, now *Snapshot) []Moved {
	if now == nil {
		now = &Snapshot{}
	}
	backends := map[string]*state.Backend{}
	rows := now.backendRows()
	for i := range rows {
		backends[rows[i].Name] = &rows[i]
	}
	secrets := make(map[string]*state.Secret, len(now.Secrets))
	for i := range now.Secrets {
		secrets[now.Secrets[i].Name] = &now.Secrets[i]
	}
	journal := map[int64]*state.Migration{}
	journalBySecret := map[string][]*state.Migration{}
	for i := range now.OpenMigrations {
		e := &now.OpenMigrations[i]
		journal[e.ID] = e
		journalBySecret[e.SecretName] = append(journalBySecret[e.SecretName], e)
	}
	planned := map[int64]bool{}
	for _, a := range p.Actions {
		if a.Precondition.JournalID != 0 {
			planned[a.Precondition.JournalID] = true
		}
	}

	var out []Moved
	for i := range p.Actions {
		a := &p.Actions[i]
		moved := func(format string, args ...any) {
			out = append(out, Moved{ActionID: a.ID, Resource: a.Resource(), What: fmt.Sprintf(format, args...)})
		}
		pre := a.Precondition

		// Row generation.
		var gen int64
		exists := false
		if a.Kind == KindSecretBackend {
			if b := backends[a.Name]; b != nil {
				gen, exists = b.Generation, true
			}
		} else if s := secrets[a.Name]; s != nil {
			gen, exists = s.Generation, true
		}
		switch {
		case a.Action == Cleanup && pre.RowGeneration == 0:
			// The leftover's secret had no row (or another secret now has
			// the name): the owner check at apply time protects the latter.
		case pre.RowGeneration == 0 && exists:
			moved("row created")
		case pre.RowGeneration != 0 && !exists:
			moved("row deleted")
		case exists && gen != pre.RowGeneration:
			moved("row generation %d → %d", pre.RowGeneration, gen)
		}
		if a.Kind != KindSecret {
			continue
		}

		// The object observed on its backend.
		if pre.ObjectBackend != "" {
			var cur ObjectStatus
			var ok bool
			if a.Action == Cleanup {
				cur, ok = now.Leftovers[pre.JournalID]
			} else if cur, ok = now.Objects[a.Name]; !ok || cur.Backend != pre.ObjectBackend {
				cur, ok = now.Targets[a.Name]
				ok = ok && cur.Backend == pre.ObjectBackend
			}
			switch {
			case !ok:
			case cur.Err != "":
				moved("backend object on %s cannot be observed: %s", pre.ObjectBackend, cur.Err)
			case cur.Meta.State.String() != pre.ObjectState:
				moved("backend object %s → %s", pre.ObjectState, cur.Meta.State)
			case cur.Meta.Version != pre.ObjectVersion:
				moved("backend object version %d → %d", pre.ObjectVersion, cur.Meta.Version)
			}
		}

		// The destination of a move.
		if m := a.Migration; m != nil && m.DestinationState != "" {
			cur, ok := now.Targets[a.Name]
			if m.JournalID != 0 {
				if lo, found := now.Leftovers[m.JournalID]; found {
					cur, ok = lo, true
				}
			}
			switch {
			case !ok || cur.Backend != m.To:
			case cur.Err != "":
				moved("destination object on %s cannot be observed: %s", m.To, cur.Err)
			case cur.Meta.State.String() != m.DestinationState:
				moved("destination object %s → %s", m.DestinationState, cur.Meta.State)
			case cur.Meta.Version != m.DestinationVersion:
				moved("destination object version %d → %d", m.DestinationVersion, cur.Meta.Version)
			}
		}

		// The migration journal.
		if pre.JournalID != 0 {
			switch e := journal[pre.JournalID]; {
			case e == nil:
				moved("migration #%d closed", pre.JournalID)
			case string(e.State) != pre.JournalState:
				moved("migration #%d %s → %s", pre.JournalID, pre.JournalState, e.State)
			}
		} else if a.Action != Cleanup {
			for _, e := range journalBySecret[a.Name] {
				if !planned[e.ID] {
					moved("migration #%d opened (%s → %s, %s)", e.ID, e.FromBackend, e.ToBackend, e.State)
				}
			}
		}
	}
	return out
}
