package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"sync"
	"time"

	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// executor carries one Execute call's shared state.
type executor struct {
	e    *Engine
	plan *plan.Plan
	key  []byte // fingerprint key
	migr *Migrator

	journal map[int64]state.Migration // open journal entries by id
	moves   *moveBatch                // reads rows and starts journal entries of new moves in chunks
	// audited holds the ids of actions whose audit entry was written with
	// their last statement (CompletionAudit): the engine writes no other.
	audited sync.Map

	// backends caches the backend rows for the run: under the lock only
	// apply's own backend actions change them, and they update the cache.
	bmu      sync.Mutex
	backends map[string]state.Backend
}

func (x *executor) loadBackends(ctx context.Context) error {
	rows, err := x.e.Store.ListBackends(ctx)
	if err != nil {
		return fmt.Errorf("read the backends: %w", err)
	}
	x.backends = make(map[string]state.Backend, len(rows))
	for _, b := range rows {
		x.backends[b.Name] = b
	}
	return nil
}

// backend returns a backend row from the run cache (falling back to the
// store for one the cache does not know).
func (x *executor) backend(ctx context.Context, name string) (state.Backend, error) {
	x.bmu.Lock()
	b, ok := x.backends[name]
	x.bmu.Unlock()
	if ok {
		return b, nil
	}
	b, err := x.e.Store.GetBackend(ctx, name)
	if err != nil {
		return b, err
	}
	x.cacheBackend(b)
	return b, nil
}

func (x *executor) cacheBackend(b state.Backend) {
	x.bmu.Lock()
	defer x.bmu.Unlock()
	if x.backends == nil {
		x.backends = map[string]state.Backend{}
	}
	x.backends[b.Name] = b
}

func (x *executor) forgetBackend(name string) {
	x.bmu.Lock()
	defer x.bmu.Unlock()
	delete(x.backends, name)
}

func (x *executor) isPlaintext(ctx context.Context, backend string) (bool, error) {
	b, err := x.backend(ctx, backend)
	if err != nil {
		return false, err
	}
	return b.Type == plaintextType, nil
}

func (x *executor) loadJournal(ctx context.Context) error {
	open, err := x.e.Store.OpenMigrations(ctx)
	if err != nil {
		return fmt.Errorf("read the migration journal: %w", err)
	}
	kept, err := x.e.Store.KeptCopies(ctx)
	if err != nil {
		return fmt.Errorf("read the migration journal: %w", err)
	}
	x.journal = make(map[int64]state.Migration, len(open)+len(kept))
	for _, m := range append(open, kept...) {
		x.journal[m.ID] = m
	}
	return nil
}

func (x *executor) lookupEnv(k string) (string, bool) {
	if x.e.LookupEnv != nil {
		return x.e.LookupEnv(k)
	}
	return os.LookupEnv(k)
}

// run executes one action. later, when not nil, is the action's last
// statement, still to be run (see migrateSecret).
func (x *executor) run(ctx context.Context, a *plan.Action) (later func(context.Context) error, err error) {
	if a.Kind == plan.KindSecret && a.Action == plan.Migrate {
		return x.migrateSecret(ctx, a)
	}
	return nil, x.runNow(ctx, a)
}

func (x *executor) runNow(ctx context.Context, a *plan.Action) error {
	switch a.Kind {
	case plan.KindSecretBackend:
		switch a.Action {
		case plan.Create:
			return x.createBackend(ctx, a)
		case plan.Update:
			return x.updateBackend(ctx, a)
		case plan.Delete:
			return x.deleteBackend(ctx, a)
		}
	case plan.KindSecret:
		switch a.Action {
		case plan.Create:
			return x.createSecret(ctx, a)
		case plan.Update:
			return x.updateSecret(ctx, a, nil)
		case plan.Write, plan.Repair:
			return x.writeSecret(ctx, a)
		case plan.Delete:
			return x.deleteSecret(ctx, a)
		case plan.Cleanup:
			return x.cleanup(ctx, a)
		}
	}
	return fmt.Errorf("%s: unsupported action %q", a.Resource(), a.Action)
}

// --- backends ---------------------------------------------------------

func (x *executor) createBackend(ctx context.Context, a *plan.Action) error {
	b := state.Backend{
		Name: a.Name, Type: a.After.Type, Config: a.Config, IsDefault: a.After.Default,
		Description: a.After.Description, Labels: a.After.Labels, Annotations: a.After.Annotations,
		Protected: a.After.Protected,
	}
	if err := x.e.Store.CreateBackend(ctx, &b); err != nil {
		return err
	}
	x.cacheBackend(b)
	x.e.Pool.Define(backends.Definition{Name: b.Name, Type: b.Type, Config: b.Config})
	return nil
}

func (x *executor) updateBackend(ctx context.Context, a *plan.Action) error {
	b, err := x.e.Store.GetBackend(ctx, a.Name)
	if err != nil {
		return err
	}
	if b.Generation != a.Precondition.RowGeneration {
		return fmt.Errorf("secretbackend/%s: %w (generation %d, planned at %d); plan again", a.Name, state.ErrConflict, b.Generation, a.Precondition.RowGeneration)
	}
	if a.Config != nil {
		b.Config = a.Config
	}
	b.IsDefault = a.After.Default
	b.Description = a.After.Description
	b.Labels, b.Annotations, b.Protected = a.After.Labels, a.After.Annotations, a.After.Protected
	if err := x.e.Store.UpdateBackend(ctx, &b); err != nil {
		return err
	}
	x.cacheBackend(b)
	x.e.Pool.Define(backends.Definition{Name: b.Name, Type: b.Type, Config: b.Config})
	return nil
}

func (x *executor) deleteBackend(ctx context.Context, a *plan.Action) error {
	if err := x.e.Store.DeleteBackend(ctx, a.Name, a.Precondition.RowGeneration); err != nil {
		return err
	}
	x.forgetBackend(a.Name)
	return nil
}

// --- secrets ------------------------------------------------------------

func (x *executor) values(a *plan.Action) (drivers.Values, string, error) {
	return a.ResolveValues(x.key, x.lookupEnv)
}

func (x *executor) createSecret(ctx context.Context, a *plan.Action) error {
	began := time.Now()
	backend := a.After.Backend
	row := state.Secret{
		Name: a.Name, BackendName: backend, Managed: a.After.Managed,
		Labels: a.After.Labels, Annotations: a.After.Annotations, Protected: a.After.Protected,
	}
	var vals drivers.Values
	managed := a.Values != nil
	if managed {
		v, fp, err := x.values(a)
		if err != nil {
			return err
		}
		vals, row.Fingerprint = v, fp
	}
	plain, err := x.isPlaintext(ctx, backend)
	if err != nil {
		return fmt.Errorf("secret/%s: %w", a.Name, err)
	}
	if plain {
		if managed {
			row.Data = vals.Map()
		} else {
			row.Data = map[string]string{}
		}
		return x.insertCreated(ctx, a, &row, began)
	}

	d, err := x.e.Pool.Driver(ctx, backend)
	if err != nil {
		return fmt.Errorf("secret/%s: %w", a.Name, err)
	}
	ref := drivers.Ref(a.Name)
	// The object is written first, owned by the row's ID chosen here, and
	// the row inserted after it in one statement, so no row ever names a
	// missing object and no transaction stays open across the backend
	// calls. A crash (or a failed insert) between the two leaves an object
	// owned by no row, which the next plan adopts.
	row.ID = state.NewID()
	if !managed && a.Adopt {
		meta, err := d.Stat(ctx, ref)
		if err != nil {
			return err
		}
		// Record ownership on the adopted object without changing values.
		vals, _, err := d.Get(ctx, ref)
		if err != nil {
			return err
		}
		m, err := d.Put(ctx, ref, vals, drivers.PutOptions{CAS: meta.Version, OwnerID: row.ID, SecretName: row.Name, BackendName: backend, Adopt: true})
		if err != nil {
			return err
		}
		row.BackendVersion, row.Keys = m.Version, meta.Keys
		return x.insertCreated(ctx, a, &row, began)
	}
	cas := int64(0)
	if a.Adopt {
		cas = a.Precondition.ObjectVersion
	}
	m, err := d.Put(ctx, ref, vals, drivers.PutOptions{CAS: cas, OwnerID: row.ID, SecretName: row.Name, BackendName: backend, Adopt: a.Adopt})
	if err != nil {
		return err
	}
	row.BackendVersion, row.Keys = m.Version, vals.Keys()
	row.ExternalRef = location(ctx, x.e.Pool, backend, a.Name)
	return x.insertCreated(ctx, a, &row, began)
}

// insertCreated inserts the row completing a create, with the action's
// audit entry in the same statement. If that statement fails, the row is
// inserted alone (nothing of the first applied: the audit log may be what
// refused it, and the create must not depend on it); the engine then
// writes, or reports missing, the entry as for any action.
func (x *executor) insertCreated(ctx context.Context, a *plan.Action, row *state.Secret, began time.Time) error {
	entry := x.auditEntry(a, Outcome{Status: StatusOK, Duration: time.Since(began)})
	if x.e.Store.CreateSecretAudited(ctx, row, entry) == nil {
		x.audited.Store(a.ID, true)
		return nil
	}
	return x.e.Store.CreateSecret(ctx, row)
}

// updateSecret writes row fields (labels, annotations, protection, managed,
// recorded object version). mutate, when set, changes the row further.
func (x *executor) updateSecret(ctx context.Context, a *plan.Action, mutate func(*state.Secret)) error {
	row, err := x.e.Store.GetSecret(ctx, a.Name, false)
	if err != nil {
		return err
	}
	if a.Action == plan.Update && row.Generation != a.Precondition.RowGeneration {
		return fmt.Errorf("secret/%s: %w (generation %d, planned at %d); plan again", a.Name, state.ErrConflict, row.Generation, a.Precondition.RowGeneration)
	}
	x.applySummary(&row, a.After)
	if mutate != nil {
		mutate(&row)
	}
	return x.e.Store.UpdateSecret(ctx, &row, false)
}

func (x *executor) applySummary(row *state.Secret, s *plan.Summary) {
	if s == nil {
		return
	}
	row.Labels, row.Annotations, row.Protected, row.Managed = maps.Clone(s.Labels), maps.Clone(s.Annotations), s.Protected, s.Managed
	if s.Version != 0 {
		row.BackendVersion = s.Version
	}
}

// writeSecret writes managed values (write) or writes them again where the
// object went missing (repair).
func (x *executor) writeSecret(ctx context.Context, a *plan.Action) error {
	row, err := x.e.Store.GetSecret(ctx, a.Name, false)
	if err != nil {
		return err
	}
	if row.Generation != a.Precondition.RowGeneration {
		return fmt.Errorf("secret/%s: %w (generation %d, planned at %d); plan again", a.Name, state.ErrConflict, row.Generation, a.Precondition.RowGeneration)
	}
	return x.write(ctx, a, row)
}

func (x *executor) write(ctx context.Context, a *plan.Action, row state.Secret) error {
	vals, fp, err := x.values(a)
	if err != nil {
		return err
	}
	x.applySummary(&row, a.After)
	row.Fingerprint, row.Managed = fp, true
	plain, err := x.isPlaintext(ctx, row.BackendName)
	if err != nil {
		return fmt.Errorf("secret/%s: %w", a.Name, err)
	}
	if plain {
		row.Data = vals.Map()
		row.Keys = vals.Keys()
		return x.e.Store.UpdateSecret(ctx, &row, true)
	}
	d, err := x.e.Pool.Driver(ctx, row.BackendName)
	if err != nil {
		return fmt.Errorf("secret/%s: %w", a.Name, err)
	}
	// CAS on the version the plan saw (or the row recorded): a change made
	// since then is a conflict, not something to overwrite.
	cas := row.BackendVersion
	if a.Precondition.ObjectBackend == row.BackendName && a.Precondition.ObjectState != "" {
		cas = a.Precondition.ObjectVersion
	}
	m, err := d.Put(ctx, drivers.Ref(a.Name), vals, drivers.PutOptions{CAS: cas, OwnerID: row.ID, SecretName: row.Name, BackendName: row.BackendName})
	if err != nil {
		return err
	}
	row.BackendVersion, row.Keys = m.Version, vals.Keys()
	return x.e.Store.UpdateSecret(ctx, &row, false)
}

// migrateSecret runs a move. When the move is the whole action, its last
// statement (the audited flip or journal close) is returned as later
// instead of being run: the caller commits it off the worker (see
// Engine.Execute) and the action is complete only when later returns nil.
func (x *executor) migrateSecret(ctx context.Context, a *plan.Action) (later func(context.Context) error, err error) {
	started0 := time.Now()
	var last func(context.Context) error // the move's last statement, when deferred
	ms := a.Migration
	var open *state.Migration
	if ms.JournalID != 0 {
		if j, ok := x.journal[ms.JournalID]; ok {
			open = &j
		}
	}
	// One read of the row, with its values when they live in it (a
	// plaintext source), serves the precondition check and the move; for
	// a new move it is read with its chunk's (movebatch.go), which also
	// started its journal entry.
	row, started, batched, err := x.moves.take(ctx, a.Name)
	if err != nil {
		return nil, fmt.Errorf("secret/%s: %w", a.Name, err)
	}
	if !batched {
		from, err := x.backend(ctx, ms.From)
		if err != nil {
			return nil, fmt.Errorf("secret/%s: %w", a.Name, err)
		}
		if row, err = x.e.Store.GetSecret(ctx, a.Name, from.Type == plaintextType); err != nil {
			return nil, err
		}
	}
	if started != nil {
		open = started
	}
	if row.Generation != a.Precondition.RowGeneration {
		if started != nil {
			_ = x.e.Store.SetMigrationState(ctx, started.ID, state.MigrationDone, 0, "abandoned: the row changed since the plan")
		}
		return nil, fmt.Errorf("secret/%s: %w (generation %d, planned at %d); plan again", a.Name, state.ErrConflict, row.Generation, a.Precondition.RowGeneration)
	}
	opts := MigrateOptions{PlanID: x.plan.ID, KeepSource: ms.KeepSource || x.e.KeepSource, DestroySource: ms.DestroySource || x.e.DestroySource, Row: &row}
	// Values and row fields that change along with the move (the move
	// itself keeps the fingerprint and the row fields).
	writeValues := false
	if a.Values != nil {
		_, fp, err := x.values(a)
		writeValues = !(err == nil && fp != "" && fp == row.Fingerprint)
	}
	_, updateFields := x.rowUpdate(a, row)
	if !writeValues && !updateFields {
		// The move is the whole action: its audit entry is written with the
		// move's last statement (CompletionAudit).
		opts.Audit = &CompletionAudit{Entry: x.auditEntry(a, Outcome{Status: StatusOK}), Started: started0}
		opts.Defer = func(f func(context.Context) error) { last = f }
	}
	moved, err := x.migr.Migrate(ctx, a.Name, ms.To, open, opts)
	if err != nil {
		return nil, err
	}
	if last != nil {
		return func(ctx context.Context) error {
			if err := last(ctx); err != nil {
				return err
			}
			return x.afterMove(ctx, a, moved, opts.Audit, false)
		}, nil
	}
	return nil, x.afterMove(ctx, a, moved, opts.Audit, writeValues)
}

// afterMove books a completed move: its audit entry when the move's last
// statement wrote it, else the values and row fields the action changes
// along with the move.
func (x *executor) afterMove(ctx context.Context, a *plan.Action, moved state.Secret, audit *CompletionAudit, writeValues bool) error {
	if audit != nil && audit.Written {
		x.audited.Store(a.ID, true)
		return nil
	}
	moved.Data = nil // never written back below: UpdateSecret without data
	if writeValues {
		return x.write(ctx, a, moved)
	}
	return x.updateRow(ctx, a, moved)
}

// rowUpdate is row with the fields the action's After summary sets, and
// whether any of them differs from row (a move usually changes nothing
// else).
func (x *executor) rowUpdate(a *plan.Action, row state.Secret) (state.Secret, bool) {
	want := row
	x.applySummary(&want, a.After)
	want.BackendVersion = row.BackendVersion // the move just recorded the destination's
	same := maps.Equal(want.Labels, row.Labels) && maps.Equal(want.Annotations, row.Annotations) &&
		want.Protected == row.Protected && want.Managed == row.Managed
	return want, !same
}

// updateRow writes the row fields the action's After summary sets, when
// they differ from row.
func (x *executor) updateRow(ctx context.Context, a *plan.Action, row state.Secret) error {
	want, changed := x.rowUpdate(a, row)
	if !changed {
		return nil
	}
	return x.e.Store.UpdateSecret(ctx, &want, false)
}

func (x *executor) deleteSecret(ctx context.Context, a *plan.Action) error {
	row, err := x.e.Store.GetSecret(ctx, a.Name, false)
	if err != nil {
		return err
	}
	if row.Generation != a.Precondition.RowGeneration {
		return fmt.Errorf("secret/%s: %w (generation %d, planned at %d); plan again", a.Name, state.ErrConflict, row.Generation, a.Precondition.RowGeneration)
	}
	plain, err := x.isPlaintext(ctx, row.BackendName)
	if err != nil {
		return fmt.Errorf("secret/%s: %w", a.Name, err)
	}
	if !plain {
		d, err := x.e.Pool.Driver(ctx, row.BackendName)
		if err != nil {
			return fmt.Errorf("secret/%s: %w", a.Name, err)
		}
		if err := d.Delete(ctx, drivers.Ref(a.Name), drivers.DeleteOptions{Destroy: a.Destroy, OwnerID: row.ID}); err != nil && !errors.Is(err, drivers.ErrNotFound) {
			return err
		}
	}
	return x.e.Store.DeleteSecret(ctx, a.Name, row.Generation)
}

func (x *executor) cleanup(ctx context.Context, a *plan.Action) error {
	cs := a.Cleanup
	j, ok := x.journal[cs.JournalID]
	if !ok {
		return nil // closed since the plan was made
	}
	// The plan decided whether the copy goes (a kept copy removed on
	// purpose, too); the journal's keep_source only records the move.
	j.KeepSource = !cs.DeleteObject
	if !cs.DeleteObject {
		if j.State == state.MigrationStarted {
			return x.e.Store.SetMigrationState(ctx, j.ID, state.MigrationDone, 0, "abandoned")
		}
	}
	if cs.Destroy {
		j.DestroySource = true
	}
	return x.migr.Abandon(ctx, &j)
}
