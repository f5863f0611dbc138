// Package plan computes what mcpctl would change — desired state (manifests)
// against actual state (Postgres rows plus backend object metadata) — as
// plain data, renders it (text, JSON, markdown) and saves it for a later
// apply.
//
// The work is split the way Terraform's internal/plans and Atlas's
// sql/migrate split it: Gather does the I/O and returns a Snapshot; Compute is
// a pure function of (manifests, fingerprints, snapshot, options) returning a
// Plan; renderers are pure functions of a Plan; apply executes a Plan without
// recomputing desired state. A Plan never holds a secret value: managed values
// travel as their sources (environment variable names, file paths) plus a
// keyed fingerprint apply verifies after resolving them.
package plan

import (
	"encoding/json"
	"time"
)

// FormatVersion is the version of the JSON document written by Save and
// RenderJSON. Load refuses any other.
const FormatVersion = "1"

// Kind is the kind of resource an action or finding is about.
type Kind string

const (
	KindSecretBackend Kind = "secretbackend"
	KindSecret        Kind = "secret"
)

// ActionType says what an action does.
type ActionType string

const (
	// Create: the resource is declared but has no row.
	Create ActionType = "create"
	// Update: row fields (labels, annotations, protection, config, default,
	// recorded object version) change; no values are written.
	Update ActionType = "update"
	// Migrate: the secret moves to another backend (journaled protocol).
	Migrate ActionType = "migrate"
	// Write: managed values differ from what the row's fingerprint records.
	Write ActionType = "write"
	// Delete: in state, not declared, and --prune selected it.
	Delete ActionType = "delete"
	// Repair: the row points at a missing object and the values are managed,
	// so they can be written again.
	Repair ActionType = "repair"
	// Cleanup: a leftover copy from an interrupted migration is removed and
	// its journal entry closed.
	Cleanup ActionType = "cleanup"
)

// FindingType classifies something the plan reports but does not act on by
// itself.
type FindingType string

const (
	// Drift: the backend object changed outside mcpctl.
	Drift FindingType = "drift"
	// Unmanaged: a row that no manifest declares (and --prune did not select).
	Unmanaged FindingType = "unmanaged"
	// Lost: the row points at a missing object and the values are not
	// managed, so nothing can restore them. Always also a plan error.
	Lost FindingType = "lost"
	// Unknown: a managed-value comparison this run cannot make (the
	// fingerprint key is not readable by the connecting role).
	Unknown FindingType = "unknown"
	// Kept (declared with the drift findings): a source copy a migration
	// left readable on purpose (--keep-source), recorded in the journal as
	// kept until `mcpctl migrate secrets --cleanup` removes it.
)

// Plan is the complete, ordered result of a plan run.
type Plan struct {
	// FormatVersion is FormatVersion when written; Load checks it.
	FormatVersion string `json:"format_version"`
	// ID identifies the plan in the audit log and the migration journal.
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	// Schema is the Postgres schema the plan was computed against; apply
	// refuses to run it against another.
	Schema string `json:"schema,omitempty"`
	// ManifestDigest is manifest.Set.Digest of the manifests planned.
	ManifestDigest string `json:"manifest_digest"`
	// Initialized is false when the database had no mcpctl schema yet (the
	// bootstrap backend is then assumed as apply's migration creates it).
	Initialized bool `json:"initialized"`
	// DefaultBackend is the desired default backend.
	DefaultBackend string    `json:"default_backend"`
	Options        Options   `json:"options"`
	Actions        []Action  `json:"actions"`
	Findings       []Finding `json:"findings"`
	Warnings       []string  `json:"warnings"`
	Summary        Counts    `json:"summary"`
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool { return p != nil && len(p.Actions) > 0 }

// Action returns the action with the given id.
func (p *Plan) Action(id string) (*Action, bool) {
	for i := range p.Actions {
		if p.Actions[i].ID == id {
			return &p.Actions[i], true
		}
	}
	return nil, false
}

// Action is one change. Actions are listed in an order that respects Deps.
type Action struct {
	// ID is unique within the plan: "secretbackend/bao", "secret/openai",
	// "secret/openai:cleanup:12" (journal entry 12).
	ID     string     `json:"id"`
	Kind   Kind       `json:"kind"`
	Name   string     `json:"name"`
	Action ActionType `json:"action"`
	Reason string     `json:"reason"`
	// Before is the resource as it is (nil for create); After as it will be
	// (nil for delete and cleanup).
	Before *Summary `json:"before,omitempty"`
	After  *Summary `json:"after,omitempty"`
	// Precondition is what the action was computed from; apply refuses the
	// action when it no longer holds (see Stale).
	Precondition Precondition `json:"precondition"`
	// Deps are ids of actions that must succeed first.
	Deps []string `json:"deps,omitempty"`
	// Config is the backend config apply writes (create/update of a
	// secretbackend), as declared. Backend configs name their credentials
	// (tokenSecretRef) rather than holding them.
	Config json.RawMessage `json:"config,omitempty"`
	// Values says where the managed values come from, for actions that write
	// them (create, write, repair, and migrate when the values also change).
	Values *ManagedValues `json:"values,omitempty"`
	// Migration describes a move (migrate).
	Migration *MigrationStep `json:"migration,omitempty"`
	// Cleanup describes a leftover to remove (cleanup).
	Cleanup *CleanupStep `json:"cleanup,omitempty"`
	// Adopt is set on the create of a secret when an object already exists
	// where it will live (Precondition.ObjectState/ObjectVersion say which):
	// with unmanaged values apply records that object instead of writing one;
	// with managed values apply overwrites it (an mcpctl-written leftover, or
	// a deleted version) with check-and-set at the observed version.
	Adopt bool `json:"adopt,omitempty"`
	// Delete options (delete of a secret): destroy instead of soft delete.
	Destroy bool `json:"destroy,omitempty"`
}

// Resource is "kind/name", the address used in output and messages.
func (a *Action) Resource() string { return string(a.Kind) + "/" + a.Name }

// Summary describes a resource before or after an action. It never holds
// values: only key names.
type Summary struct {
	// Secret backends.
	Type        string          `json:"type,omitempty"`
	Default     bool            `json:"default,omitempty"`
	Description string          `json:"description,omitempty"`
	Config      json.RawMessage `json:"config,omitempty"` // credential-looking fields masked
	// Secrets.
	Backend string   `json:"backend,omitempty"`
	Keys    []string `json:"keys,omitempty"`
	Managed bool     `json:"managed,omitempty"`
	// Version is the backend object version recorded in the row.
	Version int64 `json:"version,omitempty"`
	// Both.
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Protected   bool              `json:"protected,omitempty"`
}

// Precondition is the state an action was computed from.
type Precondition struct {
	// RowGeneration is the row's generation; 0 means "no row".
	RowGeneration int64 `json:"row_generation"`
	// ObjectBackend, when set, is the backend whose object was observed:
	// ObjectState and ObjectVersion are what Stat reported there.
	ObjectBackend string `json:"object_backend,omitempty"`
	ObjectState   string `json:"object_state,omitempty"`
	ObjectVersion int64  `json:"object_version,omitempty"`
	// Fingerprint is the keyed fingerprint of the desired values; apply
	// resolves the sources and refuses when they no longer match it. Empty
	// when the fingerprint key was not readable.
	Fingerprint string `json:"fingerprint,omitempty"`
	// JournalID and JournalState, when set, are the open migration journal
	// entry the action resumes or cleans up, as observed.
	JournalID    int64  `json:"journal_id,omitempty"`
	JournalState string `json:"journal_state,omitempty"`
}

// ManagedValues are the sources of a secret's managed values: never the
// values themselves.
type ManagedValues struct {
	// Fingerprint is the keyed fingerprint of the values resolved at plan
	// time ("" when the key was unreadable).
	Fingerprint string `json:"fingerprint,omitempty"`
	// BaseDir is the directory relative fromFile paths are resolved against;
	// Root the directory they may not escape; FilesRoot a second directory
	// they may point into (--files-root). All absolute.
	BaseDir   string `json:"base_dir,omitempty"`
	Root      string `json:"root,omitempty"`
	FilesRoot string `json:"files_root,omitempty"`
	// DeclaredIn is where the secret was declared, for error messages.
	DeclaredIn Location `json:"declared_in"`
	Sources    []Source `json:"sources"`

	// literal returns the `value:` literals of an in-process plan. It is a
	// closure, not a map, because fmt prints unexported fields by reflection
	// (bypassing any String method) but prints a func as an address. It is
	// never serialised: a loaded plan cannot resolve literals.
	literal func(key string) (string, bool)
}

// Source is where one key's value comes from. Exactly one of FromEnv,
// FromFile and Literal is set.
type Source struct {
	Key      string `json:"key"`
	FromEnv  string `json:"from_env,omitempty"`
	FromFile string `json:"from_file,omitempty"`
	// Literal: the manifest holds the value (`value:`). Plan files never
	// carry it.
	Literal bool `json:"literal,omitempty"`
}

// Location is a place in a manifest file.
type Location struct {
	File     string `json:"file"`
	Document int    `json:"document"`
	Line     int    `json:"line"`
}

// MigrationStep describes a move between backends.
type MigrationStep struct {
	From string `json:"from"`
	To   string `json:"to"`
	// DefaultChanged: the secret names no backend and lives on the backend
	// that was the default, which the manifests changed.
	DefaultChanged bool `json:"default_changed,omitempty"`
	// JournalID is the open (started) journal entry this move resumes.
	JournalID int64 `json:"journal_id,omitempty"`
	// DestinationHasCopy: the destination already holds a copy owned by this
	// secret, written by an interrupted run.
	DestinationHasCopy bool `json:"destination_has_copy"`
	// DestinationState and DestinationVersion are what Stat reported at the
	// destination ("" when the destination could not be observed, e.g. it is
	// created by this plan).
	DestinationState   string `json:"destination_state,omitempty"`
	DestinationVersion int64  `json:"destination_version,omitempty"`
	KeepSource         bool   `json:"keep_source,omitempty"`
	DestroySource      bool   `json:"destroy_source,omitempty"`
}

// Copy names which copy of a migrated secret a cleanup removes.
type Copy string

const (
	SourceCopy      Copy = "source"
	DestinationCopy Copy = "destination"
)

// CleanupStep describes the removal of a leftover copy.
type CleanupStep struct {
	JournalID    int64  `json:"journal_id"`
	JournalState string `json:"journal_state"`
	From         string `json:"from"`
	To           string `json:"to"`
	// Backend holds the leftover; Copy says which one it is.
	Backend string `json:"backend"`
	Copy    Copy   `json:"copy"`
	// OwnerID is the secret id the leftover must be owned by to be deleted.
	OwnerID string `json:"owner_id,omitempty"`
	// DeleteObject is false when there is nothing to delete (already gone,
	// not ours, or the source is kept): apply only closes the journal entry.
	DeleteObject bool `json:"delete_object"`
	Destroy      bool `json:"destroy,omitempty"`
}

// Finding is something the plan reports without acting on it by itself.
type Finding struct {
	Type    FindingType `json:"type"`
	Kind    Kind        `json:"kind"`
	Name    string      `json:"name"`
	Backend string      `json:"backend,omitempty"`
	Reason  string      `json:"reason"`
}

// Resource is "kind/name".
func (f *Finding) Resource() string { return string(f.Kind) + "/" + f.Name }

// Counts are what a plan does and finds, by action and finding type.
type Counts struct {
	Create  int `json:"create"`
	Update  int `json:"update"`
	Migrate int `json:"migrate"`
	Write   int `json:"write"`
	Delete  int `json:"delete"`
	Repair  int `json:"repair"`
	Cleanup int `json:"cleanup"`

	Drift     int `json:"drift"`
	Unmanaged int `json:"unmanaged"`
	Lost      int `json:"lost"`
	Unknown   int `json:"unknown"`
	Kept      int `json:"kept"`
}
