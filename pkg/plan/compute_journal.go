package plan

import (
	"fmt"
	"slices"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// planJournal turns open migration journal entries into cleanup actions:
// after the flip the source copy is a leftover; before it, the destination
// copy is, unless a migrate action resumes the move.
func (c *computer) planJournal() {
	entries := slices.Clone(c.actual.OpenMigrations)
	slices.SortFunc(entries, func(a, b state.Migration) int { return int(a.ID - b.ID) })
	for i := range entries {
		m := &entries[i]
		if c.resumed[m.ID] {
			continue
		}
		switch m.State {
		case state.MigrationFlipped, state.MigrationCleanupPending:
			c.cleanup(m, SourceCopy, m.FromBackend)
		case state.MigrationStarted:
			c.cleanup(m, DestinationCopy, m.ToBackend)
		default:
			c.warnings = append(c.warnings, fmt.Sprintf("migration #%d of secret/%s is in unknown state %q; left alone", m.ID, m.SecretName, m.State))
		}
	}
}

func (c *computer) cleanup(m *state.Migration, copy Copy, backend string) {
	step := &CleanupStep{
		JournalID:    m.ID,
		JournalState: string(m.State),
		From:         m.FromBackend,
		To:           m.ToBackend,
		Backend:      backend,
		Copy:         copy,
		OwnerID:      m.SecretID,
		DeleteObject: true,
	}
	a := &Action{
		ID:      fmt.Sprintf("secret/%s:cleanup:%d", m.SecretName, m.ID),
		Kind:    KindSecret,
		Name:    m.SecretName,
		Action:  Cleanup,
		Cleanup: step,
		Precondition: Precondition{
			JournalID:    m.ID,
			JournalState: string(m.State),
		},
	}
	r := c.rSecrets[m.SecretName]
	if r != nil && r.ID == m.SecretID {
		a.Precondition.RowGeneration = r.Generation
		a.Before = rowSecretSummary(r)
	}
	if copy == SourceCopy {
		a.Reason = fmt.Sprintf("migration #%d from %s to %s flipped the row but did not remove the source copy", m.ID, m.FromBackend, m.ToBackend)
		if m.State == state.MigrationCleanupPending && m.Error != "" {
			a.Reason += " (" + m.Error + ")"
		}
		step.Destroy = m.DestroySource || c.opts.DestroySource
	} else {
		a.Reason = fmt.Sprintf("migration #%d from %s to %s was interrupted before the flip and is no longer wanted (%s)", m.ID, m.FromBackend, m.ToBackend, c.whyNotResumed(m))
		// The destination copy was never authoritative: nothing should
		// keep a recoverable version of it where the secret does not live.
		step.Destroy = true
	}

	lo, observed := c.actual.Leftovers[m.ID]
	if observed && lo.Err != "" {
		c.statErr(a.ID, lo)
	}
	objectPrecondition(&a.Precondition, lo, observed)
	switch {
	case r != nil && r.ID == m.SecretID && r.BackendName == backend:
		// The row lives there again (moved back since): the copy is the
		// secret itself. Never delete it.
		step.DeleteObject = false
		a.Reason += fmt.Sprintf("; the secret lives on %s again, so only the journal entry is closed", backend)
	case copy == SourceCopy && m.KeepSource:
		step.DeleteObject = false
		a.Reason += "; the source is kept (--keep-source), so only the journal entry is closed"
	case !observed || lo.Err != "":
		a.Reason += fmt.Sprintf("; removes the copy on %s", backend)
	case lo.Meta.State == drivers.Absent:
		step.DeleteObject = false
		a.Reason += fmt.Sprintf("; the copy on %s is already gone, so only the journal entry is closed", backend)
	case lo.Meta.OwnerID != "" && lo.Meta.OwnerID != m.SecretID:
		step.DeleteObject = false
		a.Reason += fmt.Sprintf("; the object on %s belongs to another secret, so only the journal entry is closed", backend)
		c.warnings = append(c.warnings, fmt.Sprintf("secret/%s: the leftover of migration #%d on %s is owned by another secret; left alone", m.SecretName, m.ID, backend))
	case lo.Meta.State != drivers.Present && !step.Destroy:
		step.DeleteObject = false
		a.Reason += fmt.Sprintf("; the copy on %s is already %s, so only the journal entry is closed", backend, lo.Meta.State)
	case lo.Meta.State == drivers.Destroyed:
		step.DeleteObject = false
		a.Reason += fmt.Sprintf("; the copy on %s is already destroyed, so only the journal entry is closed", backend)
	case step.Destroy:
		a.Reason += fmt.Sprintf("; destroys the copy on %s", backend)
	default:
		a.Reason += fmt.Sprintf("; soft-deletes the copy on %s", backend)
	}
	c.cleanups[m.SecretName] = append(c.cleanups[m.SecretName], c.add(a))
}

func (c *computer) whyNotResumed(m *state.Migration) string {
	s, declared := c.dSecrets[m.SecretName]
	r := c.rSecrets[m.SecretName]
	switch {
	case !declared:
		return "the secret is no longer declared"
	case r == nil || r.ID != m.SecretID:
		return "the secret's row was replaced"
	case r.BackendName != m.FromBackend:
		return "the secret no longer lives on " + m.FromBackend
	default:
		return "the secret is now placed on " + c.desiredBackendOf(s)
	}
}
