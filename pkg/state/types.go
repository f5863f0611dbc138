// Package state is mcpctl's Postgres store (pgx/v5): embedded schema
// migrations inside one schema, backend and secret rows with optimistic
// concurrency, the migration journal, the audit log, and the per-schema
// advisory lock with its holder row.
//
// The store knows nothing of drivers beyond backend ids, types and refs.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefaultSchema is the schema used when none is configured.
const DefaultSchema = "mcpctl"

// BootstrapBackend is the name of the always-present plaintext backend.
const BootstrapBackend = "default"

// Annotation keys with meaning to the store.
const (
	AnnotationPreventDestroy = "mcpctl/prevent-destroy"
)

// Backend is one row of the backends table.
type Backend struct {
	ID          string // uuid
	Name        string
	Type        string // canonical driver type
	Config      json.RawMessage
	IsDefault   bool
	Description string
	Labels      map[string]string
	Annotations map[string]string
	// Protected mirrors mcpctl/prevent-destroy at the time of the last write,
	// so deleting the YAML is not enough to destroy the resource.
	Protected  bool
	Generation int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Secret is one row of the secrets table.
type Secret struct {
	ID          string // uuid; recorded as owner id in backend objects
	Name        string
	BackendID   string
	BackendName string // joined from backends on read; ignored on write
	BackendType string // joined from backends on read; ignored on write
	// ExternalRef is the object's location on its backend (driver Locator),
	// informational.
	ExternalRef string
	// Data holds the values only while the secret lives on a plaintext backend,
	// and is only loaded by the calls that say so (viewers cannot read it).
	Data map[string]string
	// HasData reports data IS NOT NULL. It is a generated column, so it is
	// readable by roles that may not read data; set on every read.
	HasData bool
	// DataVersion counts changes of data (bumped by the database whenever the
	// column changes, including edits made outside mcpctl); 0 while data has
	// never been set. The plaintext driver reports it as the object version,
	// so metadata-only updates do not look like value changes.
	DataVersion int64
	// DataOwner is the owner id the values were written for
	// (drivers.PutOptions.OwnerID): the row's own ID for values written
	// with the row or without an owner, empty without data and for values
	// written outside mcpctl. Written only with data (withData=true).
	DataOwner string
	// Keys are the key names (never values), sorted. While there is data the
	// database derives them from it. Rows read in bulk share equal lists:
	// replace Keys, never modify it in place.
	Keys []string
	// BackendVersion is the backend object version mcpctl last wrote or saw.
	BackendVersion int64
	// Fingerprint is the keyed HMAC of the managed values (empty if unmanaged).
	Fingerprint string
	// Managed is true when the manifest manages values (spec.data present).
	Managed bool
	// Labels and Annotations of rows read in bulk (ListSecrets, EachSecret)
	// are shared between rows with equal ones: replace them, never modify
	// them in place.
	Labels      map[string]string
	Annotations map[string]string
	Protected   bool
	Generation  int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MigrationState is a journal entry's protocol state.
type MigrationState string

const (
	MigrationStarted        MigrationState = "started"
	MigrationFlipped        MigrationState = "flipped"
	MigrationCleanupPending MigrationState = "cleanup-pending"
	// MigrationKept: the move is complete and the source copy was kept on
	// purpose (--keep-source). Not an unfinished move: it stays on record
	// until the copy is removed on purpose, which closes it (done).
	MigrationKept MigrationState = "kept"
	MigrationDone MigrationState = "done"
)

// Migration is one journal row: a move of one secret between backends.
type Migration struct {
	ID            int64
	SecretID      string
	SecretName    string
	FromBackendID string
	FromBackend   string // name at the time of the move
	ToBackendID   string
	ToBackend     string
	State         MigrationState
	PlanID        string
	// SourceVersion is the source object version read in step 2;
	// DestVersion the destination version written in step 3.
	SourceVersion int64
	DestVersion   int64
	KeepSource    bool
	DestroySource bool
	Error         string // last error (never values)
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AuditEntry is one executed action.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string // OS user + CI context
	PlanID     string
	Action     string // create, update, migrate, write, delete, repair, cleanup, show-values, exec...
	Kind       string // secret, secretbackend
	Name       string
	Outcome    string // ok, failed, skipped
	Detail     string // never values
	DurationMS int64
}

// LockHolder describes who holds the schema's writer lock.
type LockHolder struct {
	User      string
	Host      string
	PID       int
	CIRunURL  string
	Operation string
	StartedAt time.Time
}

func (h LockHolder) String() string {
	s := fmt.Sprintf("%s@%s pid %d running %q since %s", h.User, h.Host, h.PID, h.Operation, h.StartedAt.UTC().Format(time.RFC3339))
	if h.CIRunURL != "" {
		s += " (" + h.CIRunURL + ")"
	}
	return s
}

// Errors callers test with errors.Is / errors.As.
var (
	ErrNotFound       = errors.New("not found")
	ErrConflict       = errors.New("generation conflict: the row changed since it was read")
	ErrExists         = errors.New("already exists")
	ErrProtected      = errors.New("protected")
	ErrInUse          = errors.New("still referenced")
	ErrNotInitialized = errors.New("database not initialised: run `mcpctl db migrate` or `mcpctl apply`")
	// ErrImmutable: a write tried to change what cannot change (a backend's
	// type, the bootstrap backend's name).
	ErrImmutable = errors.New("immutable")
	// ErrDuplicateDefault: another backend is already the default (the
	// partial unique index on is_default).
	ErrDuplicateDefault = errors.New("another backend is already the default")
	// ErrPermissionDenied: the database role lacks a privilege (viewer roles
	// cannot read secret values or the fingerprint key, nor write).
	ErrPermissionDenied = errors.New("permission denied")
	// ErrNotLocked: ForceUnlock found nobody holding the lock.
	ErrNotLocked = errors.New("not locked")
	// ErrLockLost: a Lock is not (or no longer) held by the session that
	// took it: force-unlocked, connection lost, or a transaction-mode pooler.
	ErrLockLost = errors.New("advisory lock not held")
)

// LockedError says the lock is held by someone else.
type LockedError struct {
	Schema string
	Holder *LockHolder // nil if the holder row could not be read
	Waited time.Duration
}

func (e *LockedError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("schema %q is locked by another mcpctl (waited %s)", e.Schema, e.Waited)
	}
	return fmt.Sprintf("schema %q is locked by %s (waited %s); if that process is gone, run `mcpctl lock force-unlock`", e.Schema, e.Holder, e.Waited)
}
