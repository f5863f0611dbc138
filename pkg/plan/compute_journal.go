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
	lf := leftover{m: m, copy: copy, backend: backend}
	if copy == SourceCopy {
		lf.destroy = m.DestroySource || c.opts.DestroySource
	} else {
		lf.why = c.whyNotResumed(m)
		// The destination copy was never authoritative: nothing should
		// keep a recoverable version of it where the secret does not live.
		lf.destroy = true
	}
	lo, observed := c.actual.Leftovers[m.ID]
	if observed && lo.Err != "" {
		c.statErr(fmt.Sprintf("secret/%s:cleanup:%d", m.SecretName, m.ID), lo)
	}
	a, warning := lf.action(c.rSecrets[m.SecretName], lo, observed)
	if warning != "" {
		c.warnings = append(c.warnings, warning)
	}
	c.cleanups[m.SecretName] = append(c.cleanups[m.SecretName], c.add(a))
}

// leftover is a copy of a migrated secret that a journal entry accounts
// for and a cleanup action removes.
type leftover struct {
	m       *state.Migration
	copy    Copy
	backend string // where the copy is
	why     string // why a destination copy is no longer wanted
	destroy bool
	// removeKept: the copy was kept on purpose (journal state kept) and is
	// now removed on purpose (`migrate secrets --cleanup`).
	removeKept bool
}

// action is the cleanup of lf given the secret's row (nil when there is
// none) and what Stat observed of the copy; it also returns a warning for
// a copy found to belong to another secret.
func (lf leftover) action(r *state.Secret, lo ObjectStatus, observed bool) (*Action, string) {
	m, backend := lf.m, lf.backend
	step := &CleanupStep{
		JournalID:    m.ID,
		JournalState: string(m.State),
		From:         m.FromBackend,
		To:           m.ToBackend,
		Backend:      backend,
		Copy:         lf.copy,
		OwnerID:      m.SecretID,
		DeleteObject: true,
		Destroy:      lf.destroy,
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
	if r != nil && r.ID == m.SecretID {
		a.Precondition.RowGeneration = r.Generation
		a.Before = rowSecretSummary(r)
	}
	switch {
	case lf.removeKept:
		a.Reason = fmt.Sprintf("migration #%d from %s to %s kept the source copy (--keep-source); it is removed on request", m.ID, m.FromBackend, m.ToBackend)
	case lf.copy == SourceCopy:
		a.Reason = fmt.Sprintf("migration #%d from %s to %s flipped the row but did not remove the source copy", m.ID, m.FromBackend, m.ToBackend)
		if m.State == state.MigrationCleanupPending && m.Error != "" {
			a.Reason += " (" + m.Error + ")"
		}
	default:
		a.Reason = fmt.Sprintf("migration #%d from %s to %s was interrupted before the flip and is no longer wanted (%s)", m.ID, m.FromBackend, m.ToBackend, lf.why)
	}

	objectPrecondition(&a.Precondition, lo, observed)
	warning := ""
	switch {
	case r != nil && r.ID == m.SecretID && r.BackendName == backend:
		// The row lives there again (moved back since): the copy is the
		// secret itself. Never delete it.
		step.DeleteObject = false
		a.Reason += fmt.Sprintf("; the secret lives on %s again, so only the journal entry is closed", backend)
	case lf.copy == SourceCopy && m.KeepSource && !lf.removeKept:
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
		warning = fmt.Sprintf("secret/%s: the leftover of migration #%d on %s is owned by another secret; left alone", m.SecretName, m.ID, backend)
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
	return a, warning
}

// planKept reports each kept source copy as a finding: readable on
// purpose, not drift, until `migrate secrets --cleanup` removes it.
func (c *computer) planKept() {
	for i := range c.actual.KeptCopies {
		m := &c.actual.KeptCopies[i]
		if c.keptRemoved[m.ID] {
			continue // removed with its secret
		}
		lo, observed := c.actual.Leftovers[m.ID]
		c.finding(Kept, KindSecret, m.SecretName, m.FromBackend, keptReason(m, c.rSecrets[m.SecretName], lo, observed))
	}
}

// keptReason describes a kept copy for plan findings and `get`.
func keptReason(m *state.Migration, r *state.Secret, lo ObjectStatus, observed bool) string {
	head := fmt.Sprintf("source copy kept by migration #%d to %s (--keep-source)", m.ID, m.ToBackend)
	switch {
	case r != nil && r.ID == m.SecretID && r.BackendName == m.FromBackend:
		return head + fmt.Sprintf("; the secret lives on %s again, so it is no copy any more; `mcpctl migrate secrets --cleanup` closes the record", m.FromBackend)
	case observed && lo.Err == "" && lo.Meta.State != drivers.Present:
		return head + fmt.Sprintf("; it is %s already; `mcpctl migrate secrets --cleanup` closes the record", lo.Meta.State)
	case observed && lo.Err == "":
		return head + fmt.Sprintf(", version %d; remove it with `mcpctl migrate secrets --cleanup`", lo.Meta.Version)
	}
	return head + "; remove it with `mcpctl migrate secrets --cleanup`"
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
