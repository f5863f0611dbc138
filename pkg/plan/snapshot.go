package plan

import (
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Snapshot is actual state as Gather observed it: rows from one bulk read per
// table and the metadata (never the values) of the backend objects the plan
// needs. Compute and Stale read nothing else.
type Snapshot struct {
	// Initialized is false when the database has no mcpctl schema yet.
	Initialized bool
	Backends    []state.Backend
	// Secrets are read without their data column.
	Secrets []state.Secret
	// OpenMigrations are the journal entries neither done nor kept, oldest
	// first.
	OpenMigrations []state.Migration
	// KeptCopies are the journal entries in state kept (source copies left
	// on purpose by --keep-source), oldest first.
	KeptCopies []state.Migration
	// Objects maps a secret name to its object on the backend its row
	// records.
	Objects map[string]ObjectStatus
	// Targets maps a secret name to the object where the manifests want it,
	// for secrets without a row (create) or moving (migrate), when that
	// backend already exists.
	Targets map[string]ObjectStatus
	// Leftovers maps an open journal entry's id to the copy its row does not
	// point at: the destination while started, the source once flipped or
	// kept.
	Leftovers map[int64]ObjectStatus
}

// ObjectStatus is the outcome of one Stat.
type ObjectStatus struct {
	Backend string
	Meta    drivers.Meta
	// Err is set when Stat failed (the backend is unreachable, the driver
	// could not be opened...). Meta is then meaningless.
	Err string
}

func (o ObjectStatus) missing() bool { return o.Err == "" && o.Meta.State != drivers.Present }

// bootstrapRow is the backend row `mcpctl db migrate` creates. A plan
// against an uninitialised database assumes it, as the first apply creates it
// before running any action.
func bootstrapRow() state.Backend {
	return state.Backend{
		Name:       state.BootstrapBackend,
		Type:       "plaintext",
		IsDefault:  true,
		Protected:  true,
		Generation: 1,
	}
}

// backendRows returns the snapshot's backend rows, with the bootstrap
// backend assumed when the database is not initialised.
func (s *Snapshot) backendRows() []state.Backend {
	for _, b := range s.Backends {
		if b.Name == state.BootstrapBackend {
			return s.Backends
		}
	}
	if s.Initialized {
		return s.Backends
	}
	return append([]state.Backend{bootstrapRow()}, s.Backends...)
}
