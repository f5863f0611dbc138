// Package drivers defines how mcpctl talks to a secret backend: the Driver
// interface, the metadata it reports, the typed errors callers test with
// errors.Is, and a registry mapping a backend's spec.type to its factory.
//
// Drivers know nothing of plans or manifests. Callers never import a driver
// package for its API; they import it for its registration side effect, as
// database/sql drivers do:
//
//	import _ "github.com/mcpctl/mcpctl/pkg/drivers/openbao"
package drivers

import (
	"context"
	"iter"
	"time"
)

// Ref names one object inside a backend. It is the secret's name; the driver
// maps it to its own location (a KV v2 path, a row) and reports that
// location through Locator where it has one.
type Ref string

// ObjectState is the lifecycle state of a backend object.
type ObjectState int

const (
	// Absent: no object and no metadata at the location.
	Absent ObjectState = iota
	// Present: the current version is readable.
	Present
	// SoftDeleted: KV v2 metadata exists but the current version was deleted
	// (undeletable). Reads return 404 with metadata.
	SoftDeleted
	// Destroyed: the current version's data was destroyed; metadata remains.
	Destroyed
)

func (s ObjectState) String() string {
	switch s {
	case Absent:
		return "absent"
	case Present:
		return "present"
	case SoftDeleted:
		return "soft-deleted"
	case Destroyed:
		return "destroyed"
	}
	return "unknown"
}

// Meta is what a driver knows about an object without reading its values.
type Meta struct {
	State ObjectState
	// Version is the backend's current version of the object (KV v2
	// current_version; the row generation for plaintext). 0 when absent.
	Version int64
	// Keys are the key names of the current version, sorted. Never values.
	Keys []string
	// OwnerID is the id of the mcpctl secret that owns the object, from the
	// object's owner metadata; empty when not managed by mcpctl.
	OwnerID string
	// ManagedBy is true when the object carries mcpctl's managed-by marker.
	ManagedBy bool
	// Updated is when the current version was written.
	Updated time.Time
}

// Exists reports whether the object has readable values.
func (m Meta) Exists() bool { return m.State == Present }

// PutOptions control a write.
type PutOptions struct {
	// CAS is the check-and-set precondition: 0 means "create, the object must
	// not exist (or exist only as deleted metadata we own)"; n > 0 means "the
	// current version must be n". Negative means "read the current version and
	// use it" (still a CAS write, never a blind overwrite).
	CAS int64
	// OwnerID is the owning secret's id, recorded as owner metadata.
	OwnerID string
	// SecretName and BackendName are recorded next to the owner id so an
	// operator reading the backend knows where the object comes from.
	SecretName  string
	BackendName string
	// Adopt allows overwriting an object not owned by OwnerID.
	Adopt bool
}

// DeleteOptions control a delete.
type DeleteOptions struct {
	// Destroy removes all versions and metadata; otherwise the current version
	// is soft-deleted (recoverable), the KV v2 default.
	Destroy bool
	// OwnerID, when set, refuses to delete an object owned by someone else.
	OwnerID string
	// Version, when > 0 (and without Destroy), soft-deletes exactly this
	// version (KV v2: `POST <mount>/delete/<path>` with {"versions":[v]});
	// a later version written by someone else is left alone. The caller
	// checked ownership when it read that version, so the driver does not
	// read metadata again to check OwnerID (a driver whose check costs
	// nothing, or that falls back to deleting the current version, still
	// does). A version that is absent, already deleted or destroyed is not
	// an error. Ignored with Destroy, which removes every version.
	Version int64
}

// Driver is one configured secret backend.
type Driver interface {
	// Stat reports existence, version, key names and owner. It never reads values.
	Stat(ctx context.Context, ref Ref) (Meta, error)
	// Get reads the current values. A missing object is ErrNotFound.
	Get(ctx context.Context, ref Ref) (Values, Meta, error)
	// Put writes values with check-and-set and owner metadata.
	Put(ctx context.Context, ref Ref, v Values, opts PutOptions) (Meta, error)
	// Delete soft-deletes (default) or destroys the object. Deleting an absent
	// object is not an error.
	Delete(ctx context.Context, ref Ref, opts DeleteOptions) error
	// List yields every object under the driver's prefix (for orphan detection).
	List(ctx context.Context) iter.Seq2[Ref, error]
}

// BulkStater is an optional capability: the metadata of every object under the
// driver's prefix in few requests (OpenBao's detailed-metadata LIST). A driver
// that cannot serve it for a particular server returns ErrUnsupported, and
// callers fall back to Stat per object.
type BulkStater interface {
	StatAll(ctx context.Context) (map[Ref]Meta, error)
}

// BulkStreamer is an optional capability of a BulkStater: the metadata
// StatAll returns, handed to fn one object at a time as it is read instead
// of collected in a map, so that a caller recording it elsewhere (plan, at
// 100,000 objects) does not hold both. The Keys of the Metas passed to fn
// may be shared between objects: keep or replace them, never modify them
// in place. ErrUnsupported means the same as from StatAll, and fn has then
// not been called.
type BulkStreamer interface {
	StatEach(ctx context.Context, fn func(Ref, Meta)) error
}

// Locator is an optional capability: the human-readable location of an
// object (e.g. "secret/data/mcpctl/openai"), recorded in state as external_ref.
type Locator interface {
	Location(ref Ref) string
}

// Checker is an optional capability: a live health check for `describe`.
type Checker interface {
	Check(ctx context.Context) Health
}

// Health is the result of a live health check.
type Health struct {
	Reachable bool
	Auth      string // e.g. "token valid, ttl 767h59m"
	Details   []string
	Err       error
}

// Closer is an optional capability for drivers holding resources (renewers).
type Closer interface {
	Close() error
}
