package apply

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Failpoint names of the migration protocol, in order: Migrator.Failpoint
// is called with each right after that step. Crash tests set
// MCPCTL_FAILPOINT to one of them to kill apply there.
const (
	FPStarted       = "migrate.started"        // 1. journal row written
	FPRead          = "migrate.read"           // 2. values read from the source
	FPWritten       = "migrate.written"        // 3. destination written
	FPVerified      = "migrate.verified"       // 4. destination read back and compared
	FPFlipped       = "migrate.flipped"        // 5. row flipped + journal flipped
	FPSourceDeleted = "migrate.source-deleted" // 6. source copy deleted
	FPDone          = "migrate.done"           // 7. journal done
)

// ProtocolSteps lists the failpoints in protocol order.
var ProtocolSteps = []string{FPStarted, FPRead, FPWritten, FPVerified, FPFlipped, FPSourceDeleted, FPDone}

// MigrationStore is what the protocol needs from the state store.
type MigrationStore interface {
	GetBackend(ctx context.Context, name string) (state.Backend, error)
	GetSecret(ctx context.Context, name string, withData bool) (state.Secret, error)
	StartMigration(ctx context.Context, m *state.Migration) error
	SetMigrationState(ctx context.Context, id int64, st state.MigrationState, destVersion int64, errText string) error
	FlipSecret(ctx context.Context, sec *state.Secret, journalID int64, destVersion int64, st state.MigrationState) error
}

// DriverSource opens a backend's driver.
type DriverSource interface {
	Driver(ctx context.Context, backend string) (drivers.Driver, error)
}

// Migrator runs the crash-safe migration protocol (DESIGN.md §6) for one
// secret at a time. At every instant the secret is readable from the backend
// its row names: the row flips only after the destination copy has been
// written and read back equal, and the source copy is removed only after the
// flip is committed.
type Migrator struct {
	Store   MigrationStore
	Drivers DriverSource
	// Backend looks a backend up by name; nil means Store.GetBackend. Apply
	// passes its run cache: backend rows do not change under the lock except
	// through apply itself.
	Backend func(ctx context.Context, name string) (state.Backend, error)
	// Failpoint, when set, is called right after each protocol step with
	// its name (FPStarted ... FPDone). The CLI injects the crash tests'
	// hook here (MCPCTL_FAILPOINT); nil does nothing.
	Failpoint func(step string)

	// closes gathers the journal closes of moves finishing together into
	// one statement (closer.go).
	closes closeBatch
}

func (m *Migrator) hit(step string) {
	if m.Failpoint != nil {
		m.Failpoint(step)
	}
}

func (m *Migrator) backend(ctx context.Context, name string) (state.Backend, error) {
	if m.Backend != nil {
		return m.Backend(ctx, name)
	}
	return m.Store.GetBackend(ctx, name)
}

// MigrateOptions control one move.
type MigrateOptions struct {
	PlanID        string
	KeepSource    bool
	DestroySource bool
	// Row is the secret's row if the caller has just read it (with its data
	// when it lives on a plaintext backend), saving a read.
	Row *state.Secret
	// Audit, when set, is the audit entry of the action this move
	// completes, written with the move's last statement.
	Audit *CompletionAudit
	// Defer, when set together with Audit, receives the move's last
	// statement (the audited flip or journal close, and the failpoints
	// after it) instead of Migrate running it: Migrate returns once every
	// step before it is done, and the caller runs last exactly once and
	// counts the move complete only when it returns nil (see
	// Engine.Execute: the worker goes on with the next action while the
	// statement commits).
	Defer func(last func(context.Context) error)
}

// CompletionAudit is the audit entry of the apply action a move completes.
// When the store can (auditedStore), Migrate writes it in the statement that
// completes the move (the flip, or closing the journal entry after the
// source copy is removed) and sets Written: the entry then commits with
// the move, and a kill cannot leave one without the other.
type CompletionAudit struct {
	Entry   state.AuditEntry
	Started time.Time // when the action began: Entry.DurationMS is set from it
	Written bool
}

// auditedStore is a MigrationStore that can write an audit entry with the
// statement completing a move (*state.Store is one).
type auditedStore interface {
	FlipSecretAudited(ctx context.Context, sec *state.Secret, journalID int64, destVersion int64, st state.MigrationState, audit state.AuditEntry) error
	batchCloser // journal closes, one or several per statement (closer.go)
}

var _ auditedStore = (*state.Store)(nil)

// completion returns the store that writes audit with the move's last
// statement, or nil when there is no entry to write or the store cannot.
func (m *Migrator) completion(audit *CompletionAudit) auditedStore {
	if audit == nil {
		return nil
	}
	as, _ := m.Store.(auditedStore)
	if as != nil {
		audit.Entry.DurationMS = time.Since(audit.Started).Milliseconds()
	}
	return as
}

// ErrCleanupPending says the move succeeded (the row names the destination)
// but the source copy could not be removed; the journal records it and the
// next plan shows a cleanup action.
var ErrCleanupPending = errors.New("moved, but the source copy could not be removed (journal: cleanup-pending; the next apply retries)")

const plaintextType = "plaintext"

// Migrate moves secret to backend to and returns its row as it is now.
// open is the secret's unfinished journal entry, if any, which is resumed
// instead of starting a new one.
func (m *Migrator) Migrate(ctx context.Context, secret, to string, open *state.Migration, opts MigrateOptions) (state.Secret, error) {
	var row state.Secret
	if opts.Row != nil {
		row = *opts.Row
	} else {
		r, err := m.Store.GetSecret(ctx, secret, false)
		if err != nil {
			return state.Secret{}, err
		}
		row = r
	}
	if open != nil && open.State != state.MigrationStarted {
		// The row already flipped; only the source copy is left to remove.
		// Which version was read is not known (the journal's source_version
		// is the row's when the move began, not necessarily the one copied):
		// the delete checks the owner and takes the current version.
		return row, m.finish(ctx, open, row, opts.Audit, 0, nil)
	}
	from, err := m.backend(ctx, row.BackendName)
	if err != nil {
		return row, fmt.Errorf("secret %s: source backend: %w", secret, err)
	}
	dest, err := m.backend(ctx, to)
	if err != nil {
		return row, fmt.Errorf("secret %s: destination backend: %w", secret, err)
	}
	if row.BackendID == dest.ID {
		if open != nil {
			return row, m.finish(ctx, open, row, opts.Audit, 0, nil)
		}
		return row, nil
	}

	j := open
	if j == nil || j.ToBackendID != dest.ID || j.FromBackendID != from.ID {
		if j != nil {
			// An interrupted move to somewhere else: drop its copy first.
			if err := m.Abandon(ctx, j); err != nil {
				return row, err
			}
		}
		j = &state.Migration{
			SecretID: row.ID, SecretName: row.Name,
			FromBackendID: from.ID, FromBackend: from.Name,
			ToBackendID: dest.ID, ToBackend: dest.Name,
			State: state.MigrationStarted, PlanID: opts.PlanID,
			SourceVersion: row.BackendVersion,
			KeepSource:    opts.KeepSource, DestroySource: opts.DestroySource,
		}
		if err := m.Store.StartMigration(ctx, j); err != nil {
			return row, fmt.Errorf("secret %s: journal: %w", secret, err)
		}
	}
	m.hit(FPStarted)

	// 2. Read the values from the source.
	vals, src, err := m.readSource(ctx, row, from)
	if err != nil {
		return row, m.fail(ctx, j, fmt.Errorf("secret %s: read from %s: %w", secret, from.Name, err))
	}
	m.hit(FPRead)
	// The version just copied, when the object read is this secret's own
	// (its owner metadata came with the values): step 6 then soft-deletes
	// exactly that version, with no second ownership read, and a version
	// someone wrote since is left alone. Otherwise (0) step 6 checks the
	// owner and deletes the current version, as for a resumed move.
	var readVersion int64
	if from.Type != plaintextType && row.ID != "" && src.OwnerID == row.ID {
		readVersion = src.Version
	}

	// 3 + 4. Write the destination copy and read it back. A plaintext
	// destination is the row itself: its write happens in the flip below.
	var destVersion int64
	if dest.Type != plaintextType {
		destVersion, err = m.writeAndVerify(ctx, row, dest, vals)
		if err != nil {
			return row, m.fail(ctx, j, fmt.Errorf("secret %s: write to %s: %w", secret, dest.Name, err))
		}
	} else {
		m.hit(FPWritten)
		m.hit(FPVerified)
	}

	// 5. Flip the row and the journal in one transaction. When there is no
	// source copy to remove afterwards (a plaintext source: its copy was the
	// row's data, cleared right here; or --keep-source), the same
	// transaction ends the journal entry: steps 6 and 7 have nothing left
	// to do, and one commit per secret is saved.
	//
	// With --keep-source the source copy stays readable (for a plaintext
	// source: the values stay in the row's data column, which consumers do
	// not read once the row names another backend) and the entry ends in
	// "kept", so get and plan show the copy until `migrate secrets
	// --cleanup` removes it. Between two plaintext backends there is nothing
	// to keep: both copies are the same column.
	flipped := row
	flipped.BackendID, flipped.BackendName, flipped.BackendType = dest.ID, dest.Name, dest.Type
	flipped.Keys = vals.Keys()
	flipped.ExternalRef = location(ctx, m.Drivers, dest.Name, row.Name)
	keep := j.KeepSource && !(from.Type == plaintextType && dest.Type == plaintextType)
	switch {
	case dest.Type == plaintextType:
		flipped.Data = vals.Map()
	case from.Type == plaintextType && keep:
		flipped.Data = vals.Map() // the kept source copy: unchanged values
	default:
		flipped.Data = nil
	}
	flipped.BackendVersion = destVersion
	final := state.MigrationFlipped
	nothingLeft := from.Type == plaintextType || j.KeepSource
	switch {
	case keep:
		final = state.MigrationKept
	case nothingLeft:
		final = state.MigrationDone
	}
	if as := m.completion(opts.Audit); as != nil && nothingLeft {
		// The flip is the move's last statement.
		last := func(ctx context.Context) error {
			ferr := as.FlipSecretAudited(ctx, &flipped, j.ID, destVersion, final, opts.Audit.Entry)
			if ferr == nil {
				opts.Audit.Written = true
			} else {
				// Nothing of the statement applied. The audit log may be
				// what refused it (a broken or locked-down table): the
				// move does not depend on it, and the caller reports the
				// entry missing.
				ferr = m.Store.FlipSecret(ctx, &flipped, j.ID, destVersion, final)
			}
			if ferr != nil {
				return m.fail(ctx, j, fmt.Errorf("secret %s: flip to %s: %w", secret, dest.Name, ferr))
			}
			j.State, j.DestVersion = final, destVersion
			m.hit(FPFlipped)
			m.hit(FPSourceDeleted)
			m.hit(FPDone)
			return nil
		}
		if opts.Defer != nil {
			opts.Defer(last)
			return flipped, nil
		}
		if err := last(ctx); err != nil {
			return row, err
		}
		return flipped, nil
	}
	if ferr := m.Store.FlipSecret(ctx, &flipped, j.ID, destVersion, final); ferr != nil {
		return row, m.fail(ctx, j, fmt.Errorf("secret %s: flip to %s: %w", secret, dest.Name, ferr))
	}
	m.hit(FPFlipped)
	j.State, j.DestVersion = final, destVersion
	if nothingLeft {
		m.hit(FPSourceDeleted)
		m.hit(FPDone)
		return flipped, nil
	}

	// 6 + 7.
	return flipped, m.finish(ctx, j, flipped, opts.Audit, readVersion, opts.Defer)
}

// readSource reads the values to move, and for a driver's copy what the
// read reported of it (version, owner); zero Meta for a plaintext source.
func (m *Migrator) readSource(ctx context.Context, row state.Secret, from state.Backend) (drivers.Values, drivers.Meta, error) {
	if from.Type == plaintextType {
		full := row
		if full.Data == nil {
			var err error
			if full, err = m.Store.GetSecret(ctx, row.Name, true); err != nil {
				return drivers.Values{}, drivers.Meta{}, err
			}
		}
		if full.Data == nil {
			return drivers.Values{}, drivers.Meta{}, fmt.Errorf("%w: the row holds no values", drivers.ErrNotFound)
		}
		return drivers.NewValues(full.Data), drivers.Meta{}, nil
	}
	d, err := m.Drivers.Driver(ctx, from.Name)
	if err != nil {
		return drivers.Values{}, drivers.Meta{}, err
	}
	return d.Get(ctx, drivers.Ref(row.Name))
}

func (m *Migrator) writeAndVerify(ctx context.Context, row state.Secret, dest state.Backend, vals drivers.Values) (int64, error) {
	d, err := m.Drivers.Driver(ctx, dest.Name)
	if err != nil {
		return 0, err
	}
	ref := drivers.Ref(row.Name)
	// CAS at whatever version is there (the driver reads it): a copy we wrote
	// in an interrupted run is ours to overwrite; anything else there is
	// refused by the driver as not owned.
	if _, err := d.Put(ctx, ref, vals, drivers.PutOptions{
		CAS: -1, OwnerID: row.ID, SecretName: row.Name, BackendName: dest.Name,
	}); err != nil {
		return 0, err
	}
	m.hit(FPWritten)
	back, bm, err := d.Get(ctx, ref)
	if err != nil {
		return 0, fmt.Errorf("read back: %w", err)
	}
	if !back.Equal(vals) {
		return 0, errors.New("read back: the destination copy differs from the source (keys " + fmt.Sprint(back.Keys()) + ")")
	}
	m.hit(FPVerified)
	return bm.Version, nil
}

// finish removes the source copy of a flipped move (6) and closes the
// journal entry (7), with audit when set (see CompletionAudit).
// readVersion is the source version this run read and found owned by the
// secret (0: not known): a soft delete removes exactly that version.
//
// A close with audit goes through the group commit (closeBatch) when the
// store can batch: finish returns, and FPDone is hit, only once the
// statement holding the close has committed, so the action's outcome is
// never reported before its close is durable; moves finishing together
// share that statement's commit.
//
// With later set (MigrateOptions.Defer) and audit, the close is handed to
// later instead of being run here.
func (m *Migrator) finish(ctx context.Context, j *state.Migration, row state.Secret, audit *CompletionAudit, readVersion int64, later func(func(context.Context) error)) error {
	if !j.KeepSource && j.FromBackend != "" {
		if err := m.deleteCopy(ctx, j.FromBackend, row, j.DestroySource, readVersion); err != nil {
			pending := fmt.Errorf("secret %s: %w: %v", row.Name, ErrCleanupPending, err)
			if jerr := m.Store.SetMigrationState(ctx, j.ID, state.MigrationCleanupPending, j.DestVersion, err.Error()); jerr != nil {
				// The entry stays "flipped": the next plan still retries
				// the cleanup, but the journal does not say why.
				return errors.Join(pending, fmt.Errorf("secret %s: journal: record cleanup-pending: %w", row.Name, jerr))
			}
			return pending
		}
	}
	m.hit(FPSourceDeleted)
	if later != nil && audit != nil {
		later(func(ctx context.Context) error { return m.close(ctx, j, row, audit, closeLinger) })
		return nil
	}
	return m.close(ctx, j, row, audit, 0)
}

// close ends a flipped move's journal entry (7), with audit when set.
//
// linger is how long the close may wait for others to share its commit
// (closeBatch): only when no worker is waiting for it.
func (m *Migrator) close(ctx context.Context, j *state.Migration, row state.Secret, audit *CompletionAudit, linger time.Duration) error {
	closed := false
	if as := m.completion(audit); as != nil {
		// On failure nothing applied; the plain close below does not
		// depend on the audit log (see the flip).
		ok, err := m.closes.close(ctx, as, state.MigrationClose{ID: j.ID, DestVersion: j.DestVersion, Audit: audit.Entry}, linger)
		if err == nil && ok {
			audit.Written, closed = true, true
		}
	}
	if !closed {
		if err := m.Store.SetMigrationState(ctx, j.ID, state.MigrationDone, j.DestVersion, ""); err != nil {
			return fmt.Errorf("secret %s: journal: %w", row.Name, err)
		}
	}
	m.hit(FPDone)
	return nil
}

// deleteCopy removes a secret's copy from a backend that is no longer its
// placement. It never removes the copy of the backend the row names. On a
// plaintext backend the copy is the row's data: cleared by the flip, or
// kept there by --keep-source while the row names a backend of another
// type (the driver clears it then, owner checked); while the row names a
// plaintext backend its data are that backend's live values. version > 0
// (without destroy) is the version read and found owned by the secret:
// exactly that one is soft-deleted, without another ownership read.
func (m *Migrator) deleteCopy(ctx context.Context, backend string, row state.Secret, destroy bool, version int64) error {
	if row.BackendName == backend {
		return nil
	}
	b, err := m.backend(ctx, backend)
	if err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil
		}
		return err
	}
	if b.Type == plaintextType {
		now, err := m.Store.GetSecret(ctx, row.Name, false)
		if errors.Is(err, state.ErrNotFound) || (err == nil && (now.ID != row.ID || !now.HasData || now.BackendType == plaintextType)) {
			return nil // no row, another secret's row, no values, or live values
		}
		if err != nil {
			return err
		}
	}
	d, err := m.Drivers.Driver(ctx, backend)
	if err != nil {
		return err
	}
	opts := drivers.DeleteOptions{Destroy: destroy, OwnerID: row.ID}
	if !destroy {
		opts.Version = version
	}
	return d.Delete(ctx, drivers.Ref(row.Name), opts)
}

// Abandon closes an interrupted move that is no longer wanted (state
// started): the row never flipped, so the copy written on the destination,
// if any, is removed (only if we own it) and the entry marked done.
func (m *Migrator) Abandon(ctx context.Context, j *state.Migration) error {
	if j.State != state.MigrationStarted {
		row, err := m.Store.GetSecret(ctx, j.SecretName, false)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		if errors.Is(err, state.ErrNotFound) {
			row = state.Secret{ID: j.SecretID, Name: j.SecretName}
		}
		return m.finish(ctx, j, row, nil, 0, nil)
	}
	// A move into plaintext writes its copy in the flip, so before the flip
	// there is none; values in the row then are its own or a kept copy.
	if to, err := m.backend(ctx, j.ToBackend); err == nil && to.Type == plaintextType {
		return m.Store.SetMigrationState(ctx, j.ID, state.MigrationDone, 0, "abandoned")
	}
	row := state.Secret{ID: j.SecretID, Name: j.SecretName}
	if err := m.deleteCopy(ctx, j.ToBackend, row, true, 0); err != nil && !errors.Is(err, drivers.ErrNotOwned) {
		return fmt.Errorf("secret %s: remove the copy on %s left by an interrupted move: %w", j.SecretName, j.ToBackend, err)
	}
	return m.Store.SetMigrationState(ctx, j.ID, state.MigrationDone, 0, "abandoned")
}

func (m *Migrator) fail(ctx context.Context, j *state.Migration, err error) error {
	// The entry stays "started": the row was not flipped, so the secret is
	// still read from its source; a rerun resumes or abandons the move.
	if jerr := m.Store.SetMigrationState(ctx, j.ID, state.MigrationStarted, 0, err.Error()); jerr != nil {
		return errors.Join(err, fmt.Errorf("secret %s: journal: record the failure: %w", j.SecretName, jerr))
	}
	return err
}

func location(ctx context.Context, ds DriverSource, backend, name string) string {
	d, err := ds.Driver(ctx, backend)
	if err != nil {
		return ""
	}
	if l, ok := d.(drivers.Locator); ok {
		return l.Location(drivers.Ref(name))
	}
	return ""
}
