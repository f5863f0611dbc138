// Package drivertest is the conformance suite every secret backend driver
// passes: one table of cases, run identically against each driver on a real
// server (the openbao driver on Vault, the plaintext driver on Postgres).
//
// A driver's test calls Run with a Harness:
//
//	func TestConformance(t *testing.T) {
//		drivertest.Run(t, drivertest.Harness{
//			NewStore: func(t *testing.T) drivertest.Store {
//				// an empty, isolated store: own schema / own KV prefix
//				return drivertest.Store{Open: func(t *testing.T) drivers.Driver { ... }}
//			},
//			Caps: drivertest.Caps{SoftDelete: true, Ownership: true},
//		})
//	}
//
// Cases that need a behaviour a driver does not have (a namespace, a login to
// count) are declared by Caps: Run does not start them and logs their names
// once, so a driver never "passes" a case by skipping it. Where the absence
// of a capability is itself observable (no bulk stat), a case asserts it.
//
// Every case checks, when it ends, that no error the driver returned, no log
// line (Store.Logs) and no formatting of a Values contains any test value.
package drivertest

import (
	"testing"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// Harness describes how to run the conformance suite against one driver.
type Harness struct {
	// NewStore returns an empty store isolated from every other case (its own
	// Postgres schema, its own KV prefix or mount). It is called once per
	// case, from parallel subtests. Required.
	NewStore func(t *testing.T) Store
	// Caps declares the optional behaviours the driver has.
	Caps Caps
}

// Caps declares what a driver supports beyond the Driver interface's core
// (round trip, NotFound, CAS, delete, list). Setting a flag requires the
// matching Store hook.
type Caps struct {
	// SoftDelete: a default Delete keeps the object's history; Stat reports
	// SoftDeleted with the deleted version, and re-creating it continues the
	// version sequence.
	SoftDelete bool
	// Ownership: Put and Delete refuse an object owned by another OwnerID
	// (ErrNotOwned) unless Adopt is set.
	Ownership bool
	// Foreign: objects can exist that mcpctl did not write; needs
	// Store.WriteForeign.
	Foreign bool
	// Outside: objects can exist next to the driver's prefix; needs
	// Store.WriteOutside.
	Outside bool
	// NestedRefs: refs may contain "/" (a KV path), and List yields them.
	NestedRefs bool
	// Logins: the driver logs in (resolves credentials) lazily, once per
	// driver; needs Store.Logins.
	Logins bool
	// Namespace: the driver can be configured with a namespace it sends with
	// every request; needs Store.OpenNamespaced.
	Namespace bool
	// ReadOnly: a driver can be opened with plan-level credentials that can
	// stat and list but not read values; needs Store.OpenReadOnly.
	ReadOnly bool
}

// Store is one isolated store of a driver under test.
type Store struct {
	// Open returns a new driver on this store, as another mcpctl process
	// would see it. Cases call it more than once (concurrent writers, a
	// second reader). Drivers are closed by the harness's cleanup if they
	// implement drivers.Closer. Required.
	Open func(t *testing.T) drivers.Driver
	// Prepare, when set, is called with every ref a case is about to use,
	// before its first call on that ref (a plaintext store creates the
	// secret rows holding the values here). Optional.
	Prepare func(t *testing.T, refs ...drivers.Ref)
	// OpenReadOnly returns a driver with plan-level credentials (Caps.ReadOnly).
	OpenReadOnly func(t *testing.T) drivers.Driver
	// OpenNamespaced returns a driver configured with namespace ns and a
	// function returning the namespace every request it made carried, in
	// order (Caps.Namespace).
	OpenNamespaced func(t *testing.T, ns string) (drivers.Driver, func() []string)
	// Logins returns how many logins (credential resolutions) the drivers
	// opened on this store have performed so far (Caps.Logins).
	Logins func() int
	// WriteForeign writes values at ref the way a non-mcpctl client would:
	// a new object without owner metadata, or a new version of an existing
	// object with its metadata left alone (Caps.Foreign).
	WriteForeign func(t *testing.T, ref drivers.Ref, v map[string]string)
	// WriteOutside writes an object named name next to the driver's prefix
	// but outside it (Caps.Outside).
	WriteOutside func(t *testing.T, name string)
	// Logs returns what the drivers opened on this store logged, checked
	// for leaked values when a case ends. Optional.
	Logs func() string
}

func (c Caps) validate(t *testing.T, s Store) {
	t.Helper()
	need := func(flag bool, hook bool, name string) {
		if flag && !hook {
			t.Fatalf("drivertest: Caps.%s is set but the Store hook it needs is nil", name)
		}
	}
	if s.Open == nil {
		t.Fatal("drivertest: Store.Open is required")
	}
	need(c.Foreign, s.WriteForeign != nil, "Foreign (WriteForeign)")
	need(c.Outside, s.WriteOutside != nil, "Outside (WriteOutside)")
	need(c.Logins, s.Logins != nil, "Logins (Logins)")
	need(c.Namespace, s.OpenNamespaced != nil, "Namespace (OpenNamespaced)")
	need(c.ReadOnly, s.OpenReadOnly != nil, "ReadOnly (OpenReadOnly)")
}
