package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func rowSecretSummary(r *state.Secret) *Summary {
	return &Summary{
		Backend:     r.BackendName,
		Keys:        slices.Clone(r.Keys),
		Managed:     r.Managed,
		Version:     r.BackendVersion,
		Labels:      nonEmpty(r.Labels),
		Annotations: nonEmpty(r.Annotations),
		Protected:   r.Protected,
	}
}

func (c *computer) desiredSecretSummary(s *manifest.Secret, backend string) *Summary {
	sum := &Summary{
		Backend:     backend,
		Managed:     s.Data != nil,
		Labels:      nonEmpty(s.Labels),
		Annotations: nonEmpty(s.Annotations),
		Protected:   protectedBy(s.Annotations),
	}
	if s.Data != nil {
		sum.Keys = c.data.keys(s.Data)
	}
	return sum
}

func objectPrecondition(p *Precondition, o ObjectStatus, observed bool) {
	if !observed || o.Err != "" {
		return
	}
	p.ObjectBackend = o.Backend
	p.ObjectState = o.Meta.State.String()
	p.ObjectVersion = o.Meta.Version
}

// planSecrets diffs declared secrets against secret rows and backend
// objects.
func (c *computer) planSecrets() {
	names := sortedKeys(c.dSecrets)
	for n := range c.rSecrets {
		if _, ok := c.dSecrets[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		d, declared := c.dSecrets[name]
		r, inState := c.rSecrets[name]
		switch {
		case declared && !inState:
			c.createSecret(d)
		case declared && inState:
			c.existingSecret(d, r)
		default:
			c.undeclaredSecret(r)
		}
	}
}

// checkPlacement reports a desired backend that will not exist.
func (c *computer) checkPlacement(s *manifest.Secret, backend string) bool {
	if _, ok := c.dBackends[backend]; ok {
		return true
	}
	if _, ok := c.rBackends[backend]; !ok {
		at := s.Source
		if s.BackendAt.Line > 0 {
			at = s.BackendAt
		}
		c.problems.add(fmt.Sprintf("secret/%s (%s): backend %q is neither declared nor in state", s.Name, declaredAt(at), backend))
		return false
	}
	if a := c.backendAction[backend]; a != nil && a.Action == Delete {
		c.problems.add(fmt.Sprintf("secret/%s (%s) is placed on backend %s, which %s deletes; declare the backend or move the secret", s.Name, declaredAt(s.Source), backend, c.selectorText()))
		return false
	}
	return true
}

// statErr records a failed Stat; it is reported once per backend and error.
func (c *computer) statErr(name string, o ObjectStatus) {
	k := [2]string{o.Backend, o.Err}
	c.statErrs[k] = append(c.statErrs[k], name)
}

func (c *computer) reportStatErrors() {
	keys := make([][2]string, 0, len(c.statErrs))
	for k := range c.statErrs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	for _, k := range keys {
		names := c.statErrs[k]
		slices.Sort(names)
		c.problems.add(fmt.Sprintf("backend %s: cannot observe %d object(s) (%s): %s", k[0], len(names), nameList(names, 5), k[1]))
	}
}

// desiredFingerprint returns the desired fingerprint of a managed secret and
// whether it is known.
func (c *computer) desiredFingerprint(name string) (string, bool) {
	if c.fp.Unknown {
		return "", false
	}
	fp, ok := c.fp.ByName[name]
	return fp, ok && fp != ""
}

func (c *computer) unknownReason() string {
	if c.fp.Unknown {
		if c.fp.UnknownReason != "" {
			return "managed values cannot be compared: " + c.fp.UnknownReason
		}
		return "managed values cannot be compared: the fingerprint key is not readable"
	}
	return "managed values cannot be compared: no fingerprint was computed for them"
}

func (c *computer) createSecret(s *manifest.Secret) {
	backend := c.desiredBackendOf(s)
	if !c.checkPlacement(s, backend) {
		return
	}
	a := &Action{
		ID:     "secret/" + s.Name,
		Kind:   KindSecret,
		Name:   s.Name,
		Action: Create,
		Reason: "declared in " + declaredAt(s.Source) + "; not in state",
		After:  c.desiredSecretSummary(s, backend),
	}
	target, observed := c.actual.Targets[s.Name]
	if observed && target.Err != "" {
		c.statErr(s.Name, target)
		return
	}
	objectPrecondition(&a.Precondition, target, observed)
	exists := observed && target.Meta.State != drivers.Absent
	if s.Data != nil {
		fp, _ := c.desiredFingerprint(s.Name)
		a.Values = c.data.newManagedValues(s, fp)
		a.Precondition.Fingerprint = fp
		switch {
		case exists && target.Meta.State == drivers.Present && target.Meta.OwnerID == "" && !target.Meta.ManagedBy:
			c.problems.add(fmt.Sprintf("secret/%s: backend %s already holds an object at its location that mcpctl did not write (version %d); move or delete it, or declare the secret without spec.data to adopt it as is",
				s.Name, backend, target.Meta.Version))
		case exists:
			a.Adopt = true
			a.Reason += fmt.Sprintf("; replaces the %s object left on %s by an earlier secret of that name (version %d)", target.Meta.State, backend, target.Meta.Version)
		}
	} else {
		switch {
		case exists && target.Meta.State == drivers.Present:
			a.Adopt = true
			a.After.Keys = slices.Clone(target.Meta.Keys)
			a.After.Version = target.Meta.Version
			a.Reason += fmt.Sprintf("; values unmanaged: adopts the existing object on %s (version %d)", backend, target.Meta.Version)
		case exists:
			c.finding(Lost, KindSecret, s.Name, backend, fmt.Sprintf("the object on %s is %s and the values are not managed", backend, target.Meta.State))
			c.problems.add(fmt.Sprintf("secret/%s: the object on %s is %s and the manifest does not manage its values; restore it in the backend or declare spec.data", s.Name, backend, target.Meta.State))
		default:
			a.Reason += "; values unmanaged: creates an empty object to be filled outside mcpctl"
		}
	}
	c.secretAction[s.Name] = c.add(a)
}

// existingSecret diffs a declared secret that has a row.
func (c *computer) existingSecret(s *manifest.Secret, r *state.Secret) {
	want := c.desiredBackendOf(s)
	if !c.checkPlacement(s, want) {
		return
	}
	obj, observed := c.actual.Objects[s.Name]
	if observed && obj.Err != "" {
		c.statErr(s.Name, obj)
		return
	}
	if !observed {
		// Gather observes every row's object; a missing entry means the
		// snapshot was built without it (e.g. by hand): assume nothing.
		obj = ObjectStatus{Backend: r.BackendName, Meta: drivers.Meta{State: drivers.Present, Version: r.BackendVersion, Keys: r.Keys, OwnerID: r.ID}}
	}
	before := rowSecretSummary(r)
	after := c.desiredSecretSummary(s, want)
	a := &Action{
		ID:     "secret/" + s.Name,
		Kind:   KindSecret,
		Name:   s.Name,
		Before: before,
		After:  after,
	}
	a.Precondition.RowGeneration = r.Generation
	objectPrecondition(&a.Precondition, obj, observed)

	managed := s.Data != nil
	fp, fpKnown := c.desiredFingerprint(s.Name)
	// A row that did not manage values has no fingerprint to compare: the
	// values must be written whether or not this run can fingerprint them.
	valuesDiffer := managed && (!r.Managed || (fpKnown && fp != r.Fingerprint))
	if managed && r.Managed && !fpKnown {
		c.finding(Unknown, KindSecret, s.Name, r.BackendName, c.unknownReason())
	}
	meta := metaChanges(before, after)

	if r.BackendName != want {
		c.migrateSecret(a, s, r, obj, valuesDiffer, fp, meta)
		return
	}

	if obj.missing() {
		if !managed {
			c.finding(Lost, KindSecret, s.Name, r.BackendName, fmt.Sprintf("the row points at an object that is %s on %s and the values are not managed", obj.Meta.State, r.BackendName))
			c.problems.add(fmt.Sprintf("secret/%s is lost: its object on %s is %s and the manifest does not manage its values; restore it in the backend (e.g. `vault kv undelete`) or declare spec.data", s.Name, r.BackendName, obj.Meta.State))
			return
		}
		a.Action = Repair
		a.Values = c.data.newManagedValues(s, fp)
		a.Precondition.Fingerprint = fp
		a.Reason = fmt.Sprintf("the object on %s is %s (the row records version %d); writes the managed values again", r.BackendName, obj.Meta.State, r.BackendVersion)
		c.secretAction[s.Name] = c.add(withChanges(a, meta))
		return
	}

	// The object is present: what changed outside mcpctl?
	var drift []string
	if obj.Meta.Version != r.BackendVersion {
		drift = append(drift, fmt.Sprintf("backend object version %d → %d", r.BackendVersion, obj.Meta.Version))
	}
	if !slices.Equal(obj.Meta.Keys, r.Keys) {
		drift = append(drift, "keys "+KeyDiff(r.Keys, obj.Meta.Keys))
	}
	foreign := obj.Meta.OwnerID != "" && obj.Meta.OwnerID != r.ID
	if foreign {
		drift = append(drift, "the object is owned by another secret (id "+obj.Meta.OwnerID+")")
	}
	if len(drift) > 0 {
		c.finding(Drift, KindSecret, s.Name, r.BackendName, "changed outside mcpctl: "+strings.Join(drift, ", "))
	}
	if foreign {
		c.warnings = append(c.warnings, fmt.Sprintf("secret/%s: the object on %s belongs to another secret; mcpctl will not write it — resolve by hand", s.Name, r.BackendName))
		if len(meta) > 0 {
			a.Action = Update
			a.After.Keys, a.After.Version, a.After.Managed = before.Keys, before.Version, before.Managed
			a.Reason = "differs from state: " + strings.Join(meta, "; ")
			c.secretAction[s.Name] = c.add(a)
		}
		return
	}

	switch {
	case managed && valuesDiffer:
		a.Action = Write
		a.Values = c.data.newManagedValues(s, fp)
		a.Precondition.Fingerprint = fp
		if r.Managed {
			a.Reason = "managed values differ from the last apply (fingerprint)"
		} else {
			a.Reason = "values become managed (spec.data declared)"
		}
		if len(drift) > 0 {
			a.Reason += "; the object also changed outside mcpctl"
		}
	case managed && fpKnown && len(drift) > 0:
		a.Action = Write
		a.Values = c.data.newManagedValues(s, fp)
		a.Precondition.Fingerprint = fp
		a.Reason = "changed outside mcpctl (" + strings.Join(drift, ", ") + "); writes the managed values back"
	case managed:
		// Values equal, or not comparable (an Unknown finding says so).
		after.Keys, after.Version = before.Keys, before.Version
		if !fpKnown {
			after.Managed = before.Managed
		}
		if len(meta) == 0 {
			return
		}
		a.Action = Update
		a.Reason = "differs from state: " + strings.Join(meta, "; ")
	default:
		// Values unmanaged: the row follows the object.
		after.Keys, after.Version = slices.Clone(obj.Meta.Keys), obj.Meta.Version
		var changes []string
		if len(drift) > 0 {
			changes = append(changes, "records the object changed outside mcpctl ("+strings.Join(drift, ", ")+")")
		}
		changes = append(changes, meta...)
		if len(changes) == 0 {
			// A manifest without spec.data (e.g. printed by `get -o yaml`,
			// which never prints values) leaves the values alone: nothing
			// to do, and the row keeps its fingerprint for when spec.data
			// comes back.
			return
		}
		if r.Managed {
			changes = append(changes, "values no longer managed (spec.data removed): the row stops recording a fingerprint")
		}
		a.Action = Update
		a.Reason = "differs from state: " + strings.Join(changes, "; ")
	}
	c.secretAction[s.Name] = c.add(withChanges(a, metaIf(a.Action != Update, meta)))
}

func metaIf(cond bool, meta []string) []string {
	if cond {
		return meta
	}
	return nil
}

// withChanges appends row-field changes to a value-changing action's reason.
func withChanges(a *Action, meta []string) *Action {
	if len(meta) > 0 {
		a.Reason += "; also " + strings.Join(meta, "; ")
	}
	return a
}

// migrateSecret plans a move from the row's backend to the desired one.
func (c *computer) migrateSecret(a *Action, s *manifest.Secret, r *state.Secret, src ObjectStatus, valuesDiffer bool, fp string, meta []string) {
	want := a.After.Backend
	a.Action = Migrate
	step := &MigrationStep{
		From:          r.BackendName,
		To:            want,
		KeepSource:    c.opts.KeepSource,
		DestroySource: c.opts.DestroySource,
	}
	a.Migration = step
	from := c.rBackends[r.BackendName]
	switch {
	case s.Backend == "" && from != nil && from.IsDefault:
		step.DefaultChanged = true
		a.Reason = fmt.Sprintf("names no backend, and the default backend changes from %s to %s", r.BackendName, want)
	case s.Backend == "":
		a.Reason = fmt.Sprintf("names no backend, so it belongs on the default backend %s; it lives on %s", want, r.BackendName)
	default:
		a.Reason = fmt.Sprintf("spec.backend is %s; it lives on %s", want, r.BackendName)
	}

	// An interrupted run may have started this very move.
	for _, m := range c.journal[s.Name] {
		if m.State == state.MigrationStarted && m.FromBackend == r.BackendName && m.ToBackend == want {
			c.resumed[m.ID] = true
			step.JournalID = m.ID
			a.Precondition.JournalID, a.Precondition.JournalState = m.ID, string(m.State)
			a.Reason += fmt.Sprintf("; resumes migration #%d interrupted before the flip", m.ID)
			break
		}
	}
	target, observed := c.actual.Targets[s.Name]
	if step.JournalID != 0 {
		if lo, ok := c.actual.Leftovers[step.JournalID]; ok {
			target, observed = lo, true
		}
	}
	if observed && target.Err != "" {
		c.statErr(s.Name, target)
		return
	}
	if observed {
		step.DestinationState = target.Meta.State.String()
		step.DestinationVersion = target.Meta.Version
		if target.Meta.State != drivers.Absent {
			switch target.Meta.OwnerID {
			case r.ID:
				// Ours. Only a journaled run knows the copy is the one it
				// wrote from the current source; any other (an old
				// leftover) is overwritten with check-and-set.
				step.DestinationHasCopy = step.JournalID != 0 && target.Meta.State == drivers.Present
			default:
				c.problems.add(fmt.Sprintf("secret/%s: backend %s already holds an object at its location that this secret does not own (%s, version %d); move or delete it before migrating",
					s.Name, want, target.Meta.State, target.Meta.Version))
			}
		}
		if step.DestinationHasCopy {
			a.Reason += fmt.Sprintf("; the destination already holds a copy from an interrupted run (version %d)", target.Meta.Version)
		}
	}

	if src.missing() {
		switch {
		case s.Data != nil:
			a.Values = c.data.newManagedValues(s, fp)
			a.Precondition.Fingerprint = fp
			a.Reason += fmt.Sprintf("; the source object is %s, so the managed values are written at %s", src.Meta.State, want)
		case step.DestinationHasCopy:
			a.Reason += fmt.Sprintf("; the source object is %s, so the copy at %s is kept", src.Meta.State, want)
		default:
			c.finding(Lost, KindSecret, s.Name, r.BackendName, fmt.Sprintf("the row points at an object that is %s on %s and the values are not managed", src.Meta.State, r.BackendName))
			c.problems.add(fmt.Sprintf("secret/%s is lost: its object on %s is %s and the manifest does not manage its values, so it cannot be moved to %s; restore it in the backend or declare spec.data",
				s.Name, r.BackendName, src.Meta.State, want))
			return
		}
	} else if valuesDiffer {
		a.Values = c.data.newManagedValues(s, fp)
		a.Precondition.Fingerprint = fp
		a.Reason += "; the managed values also differ, so they are written at " + want + " instead of copied"
	}
	switch {
	case a.Values != nil:
	case s.Data != nil:
		// Values equal (or not comparable): the copy keeps the row's record.
		a.After.Keys, a.After.Managed = a.Before.Keys, a.Before.Managed
	default:
		if !src.missing() {
			a.After.Keys = slices.Clone(src.Meta.Keys)
		} else {
			a.After.Keys = a.Before.Keys
		}
	}
	c.secretAction[s.Name] = c.add(withChanges(a, meta))
}

// undeclaredSecret handles a secret row no manifest declares.
func (c *computer) undeclaredSecret(r *state.Secret) {
	if !c.pruneSelects(r.Labels) {
		reason := c.unmanagedReason()
		if o, ok := c.actual.Objects[r.Name]; ok && o.missing() {
			reason += fmt.Sprintf("; its object on %s is %s", r.BackendName, o.Meta.State)
		}
		c.finding(Unmanaged, KindSecret, r.Name, r.BackendName, reason)
		return
	}
	if r.Protected {
		c.problems.add(fmt.Sprintf("secret/%s is protected (mcpctl/prevent-destroy) and cannot be deleted; declare it without the annotation and apply before pruning it", r.Name))
	}
	a := &Action{
		ID:           "secret/" + r.Name,
		Kind:         KindSecret,
		Name:         r.Name,
		Action:       Delete,
		Reason:       "not declared in any manifest; selected by " + c.selectorText(),
		Before:       rowSecretSummary(r),
		Precondition: Precondition{RowGeneration: r.Generation},
		Destroy:      c.opts.DestroySource,
	}
	obj, observed := c.actual.Objects[r.Name]
	if observed && obj.Err != "" {
		c.statErr(r.Name, obj)
	}
	objectPrecondition(&a.Precondition, obj, observed)
	if observed && obj.missing() {
		a.Reason += fmt.Sprintf("; its object on %s is already %s", r.BackendName, obj.Meta.State)
	}
	c.secretAction[r.Name] = c.add(a)
	c.removeKeptCopies(r)
}

// removeKeptCopies plans, with the deletion of r, the removal of the source
// copies its --keep-source moves left: deleting a secret deletes every copy
// of it, not only the one its row names, since a kept copy without a row
// would be a value nothing manages or reports. The delete depends on these
// cleanups (link), so the row outlives its copies.
func (c *computer) removeKeptCopies(r *state.Secret) {
	for i := range c.actual.KeptCopies {
		m := &c.actual.KeptCopies[i]
		if m.SecretID != r.ID {
			continue
		}
		c.keptRemoved[m.ID] = true
		lf := leftover{m: m, copy: SourceCopy, backend: m.FromBackend,
			destroy: m.DestroySource || c.opts.DestroySource, removeKept: true}
		lo, observed := c.actual.Leftovers[m.ID]
		if observed && lo.Err != "" {
			c.statErr(fmt.Sprintf("secret/%s:cleanup:%d", m.SecretName, m.ID), lo)
		}
		a, warning := lf.action(r, lo, observed)
		if warning != "" {
			c.warnings = append(c.warnings, warning)
		}
		c.cleanups[r.Name] = append(c.cleanups[r.Name], c.add(a))
	}
}

// KeyDiff describes key-name changes: "+NEW -OLD" (names only, never values).
func KeyDiff(before, after []string) string {
	var parts []string
	for _, k := range after {
		if !slices.Contains(before, k) {
			parts = append(parts, "+"+k)
		}
	}
	for _, k := range before {
		if !slices.Contains(after, k) {
			parts = append(parts, "-"+k)
		}
	}
	if len(parts) == 0 {
		return "reordered"
	}
	return strings.Join(parts, " ")
}
