package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Change is one imperative change — what `mcpctl create` or `mcpctl
// delete` was asked to do. It is planned as the equivalent manifest edit
// would be (the same actions, preconditions and checks as apply), against
// the state as it is, and touches nothing else: other resources are neither
// updated nor pruned, and what is wrong with them elsewhere does not block
// it.
type Change struct {
	// Action is Create or Delete.
	Action ActionType
	Kind   Kind
	Name   string

	// Create secretbackend: the backend's type (canonical or alias), its
	// config as JSON, whether it becomes the default, its description.
	Type        string
	Config      json.RawMessage
	Default     bool
	Description string

	// Create secret: the backend to create it on ("" = the default) and its
	// values. Values given on the command line are in no manifest: they
	// reach the plan's action only in memory (ManagedValues' literal
	// closure), never its JSON document or any renderer.
	Backend string
	Values  map[string]string `json:"-"`
}

// Resource is "kind/name".
func (ch Change) Resource() string { return string(ch.Kind) + "/" + ch.Name }

// Command is how the change was asked for: "mcpctl create secret NAME".
func (ch Change) Command() string {
	return fmt.Sprintf("mcpctl %s %s %s", ch.Action, ch.Kind, ch.Name)
}

// commandLine is where imperative values are "declared", for the messages
// that name a value's source.
const commandLine = "the command line"

func (ch Change) valid() error {
	switch {
	case ch.Name == "":
		return errors.New("plan: a change names its resource")
	case ch.Kind != KindSecret && ch.Kind != KindSecretBackend:
		return fmt.Errorf("plan: unknown kind %q", ch.Kind)
	case ch.Action != Create && ch.Action != Delete:
		return fmt.Errorf("plan: %s: only create and delete are imperative changes", ch.Resource())
	}
	return nil
}

// GatherChange reads what a change is planned from: the rows (one bulk
// read per table, as Gather), the one object it touches (the object of a
// secret to delete, the location of a secret to create), and the
// fingerprint of the values a secret is created with. Nothing else is
// observed, so an unreachable backend the change does not use does not
// block it.
func GatherChange(ctx context.Context, st StateReader, ds DriverSource, ch Change) (*Snapshot, Fingerprints, error) {
	if err := ch.valid(); err != nil {
		return nil, Fingerprints{}, err
	}
	snap, err := readState(ctx, st)
	if err != nil {
		return nil, Fingerprints{}, err
	}
	fp := Fingerprints{ByName: map[string]string{}}
	if !snap.Initialized || ch.Kind != KindSecret {
		return snap, fp, nil
	}
	row, hasRow := findSecret(snap, ch.Name)
	switch ch.Action {
	case Delete:
		if hasRow {
			snap.Objects[ch.Name] = statOne(ctx, ds, row.BackendName, ch.Name)
		}
		// The leftovers of its interrupted migrations are cleaned up
		// first, as apply does before a prune.
		for _, m := range snap.OpenMigrations {
			if m.SecretName != ch.Name {
				continue
			}
			backend := m.FromBackend
			if m.State == state.MigrationStarted {
				backend = m.ToBackend
			}
			if _, ok := findBackend(snap, backend); ok {
				snap.Leftovers[m.ID] = statOne(ctx, ds, backend, ch.Name)
			}
		}
		// Its kept source copies go with it.
		for _, m := range snap.KeptCopies {
			if !hasRow || m.SecretID != row.ID {
				continue
			}
			if _, ok := findBackend(snap, m.FromBackend); ok {
				snap.Leftovers[m.ID] = statOne(ctx, ds, m.FromBackend, ch.Name)
			}
		}
	case Create:
		if hasRow {
			return snap, fp, nil
		}
		backend := ch.Backend
		if backend == "" {
			backend = currentDefault(snap)
		}
		if _, ok := findBackend(snap, backend); ok {
			snap.Targets[ch.Name] = statOne(ctx, ds, backend, ch.Name)
		}
		key, err := st.FingerprintKey(ctx)
		switch {
		case errors.Is(err, state.ErrPermissionDenied):
			// Creating needs no comparison; the row then records no
			// fingerprint, as apply does for such a role.
			return snap, Fingerprints{Unknown: true, UnknownReason: "this database role may not read the fingerprint key"}, nil
		case err != nil:
			return nil, Fingerprints{}, fmt.Errorf("read fingerprint key: %w", err)
		}
		fp.ByName[ch.Name] = Fingerprint(key, drivers.NewValues(ch.Values))
	}
	return snap, fp, nil
}

// statOne observes one object, as Gather records it.
func statOne(ctx context.Context, ds DriverSource, backend, name string) ObjectStatus {
	st := ObjectStatus{Backend: backend}
	drv, err := ds.Driver(ctx, backend)
	if err != nil {
		st.Err = err.Error()
		return st
	}
	meta, err := drv.Stat(ctx, drivers.Ref(name))
	switch {
	case errors.Is(err, drivers.ErrNotFound):
		st.Meta = drivers.Meta{State: drivers.Absent}
	case err != nil:
		st.Err = err.Error()
	default:
		st.Meta = meta
	}
	return st
}

func findSecret(snap *Snapshot, name string) (state.Secret, bool) {
	for _, s := range snap.Secrets {
		if s.Name == name {
			return s, true
		}
	}
	return state.Secret{}, false
}

func findBackend(snap *Snapshot, name string) (state.Backend, bool) {
	for _, b := range snap.backendRows() {
		if b.Name == name {
			return b, true
		}
	}
	return state.Backend{}, false
}

func currentDefault(snap *Snapshot) string {
	for _, b := range snap.backendRows() {
		if b.IsDefault {
			return b.Name
		}
	}
	return ""
}

// BuildChange plans one imperative change from a snapshot GatherChange
// read. The resource's own action comes from the code that plans manifests
// (a create as for a newly declared resource, a delete as --prune selecting
// it), and so do the checks that span resources: credential secrets a
// backend needs, backends still holding secrets, credential cycles. The
// refusals a user meets first — the name is taken or unknown, the resource
// is protected or the bootstrap backend, a backend still holds secrets —
// are returned as errors wrapping the state package's sentinels (ErrExists,
// ErrNotFound, ErrProtected, ErrInUse), so callers can say what to do next;
// anything else refused comes as an *Error.
func BuildChange(ch Change, fp Fingerprints, snap *Snapshot, opts Options) (*Plan, error) {
	if err := ch.valid(); err != nil {
		return nil, err
	}
	if snap == nil || !snap.Initialized {
		return nil, state.ErrNotInitialized
	}
	if err := refuse(ch, snap); err != nil {
		return nil, err
	}
	opts.Prune, opts.Selector = false, nil
	// Only the changed secret's journal entries are this change's to clean
	// up (a deleted secret's leftovers go with it, as with --prune).
	scoped := *snap
	scoped.OpenMigrations = nil
	if ch.Kind == KindSecret && ch.Action == Delete {
		for _, m := range snap.OpenMigrations {
			if m.SecretName == ch.Name {
				scoped.OpenMigrations = append(scoped.OpenMigrations, m)
			}
		}
	}
	snap = &scoped
	c := newComputer(&manifest.Set{}, fp, snap, opts)
	c.defaultBackend = currentDefault(snap)
	if ch.Kind == KindSecretBackend && ch.Action == Create && ch.Default {
		c.defaultBackend = ch.Name
	}

	// Every backend row: its credential references (for the checks below),
	// the default flag following a new default, and the one to delete.
	if ch.Kind == KindSecretBackend && ch.Action == Create {
		d := &manifest.Backend{
			Name: ch.Name, Type: drivers.Canonical(ch.Type), Config: ch.Config,
			Default: ch.Default, Description: ch.Description,
			Source: manifest.Source{File: commandLine},
		}
		c.dBackends[d.Name] = d
		c.createBackend(d)
	}
	for _, name := range sortedKeys(c.rBackends) {
		c.opts.Prune = ch.Kind == KindSecretBackend && ch.Action == Delete && name == ch.Name
		c.undeclaredBackend(c.rBackends[name])
		c.opts.Prune = false
	}

	if ch.Kind == KindSecret {
		switch ch.Action {
		case Create:
			s := &manifest.Secret{
				Name: ch.Name, Backend: ch.Backend,
				Source: manifest.Source{File: commandLine},
			}
			data := make(map[string]manifest.ValueSource, len(ch.Values))
			for k, v := range ch.Values {
				data[k] = manifest.ValueSource{Value: &v}
			}
			s.Data = manifest.DataOf(data)
			c.dSecrets[s.Name] = s
			c.createSecret(s)
		case Delete:
			c.opts.Prune = true
			c.undeclaredSecret(c.rSecrets[ch.Name])
			c.opts.Prune = false
			c.planJournal()
		}
	}

	c.checkBackendDeletes()
	c.checkTokens()
	c.checkCycles()
	c.reportStatErrors()
	c.link()

	// Describe each action by the command that asked for it; values typed
	// on the command line are not "managed" by any manifest.
	for _, a := range c.actions {
		switch {
		case a.ID == ch.Resource():
			rest := suffix(a.Reason)
			a.Reason = ch.Command() + rest
			if a.Kind == KindSecret && a.Action == Create {
				a.After.Managed = false
				a.Reason = fmt.Sprintf("%s: keys %s on backend %s%s", ch.Command(), strings.Join(a.After.Keys, ", "), a.After.Backend, rest)
			}
		case a.Kind == KindSecretBackend && a.Action == Update:
			a.Reason = fmt.Sprintf("%s: %s is the default backend now", ch.Command(), ch.Name)
		}
	}
	// Findings describe the rest of the installation against manifests
	// this change has none of.
	c.findings = nil
	p := c.plan()
	p.Options = Options{MaxDeletes: DefaultMaxDeletes}
	if err := c.problems.err(); err != nil {
		return p, err
	}
	return p, nil
}

// suffix keeps what the manifest planner found about the object (an
// existing object replaced, one already deleted), dropping what describes
// manifests (declared in, not in state, selected by --prune).
func suffix(reason string) string {
	var keep []string
	for part := range strings.SplitSeq(reason, "; ") {
		switch {
		case part == "not in state", strings.HasPrefix(part, "declared in "),
			strings.HasPrefix(part, "not declared in any manifest"), strings.HasPrefix(part, "selected by "):
			continue
		}
		keep = append(keep, part)
	}
	if len(keep) == 0 {
		return ""
	}
	return "; " + strings.Join(keep, "; ")
}

// refuse returns the errors a user meets first, worded for the command
// rather than for manifests.
func refuse(ch Change, snap *Snapshot) error {
	switch ch.Kind {
	case KindSecretBackend:
		b, exists := findBackend(snap, ch.Name)
		if ch.Action == Create {
			if exists {
				return fmt.Errorf("backend %q: %w", ch.Name, state.ErrExists)
			}
			return refuseCredentials(ch, snap)
		}
		var on []string
		for _, s := range snap.Secrets {
			if s.BackendName == ch.Name {
				on = append(on, s.Name)
			}
		}
		switch {
		case !exists:
			return fmt.Errorf("backend %q: %w", ch.Name, state.ErrNotFound)
		case b.Name == state.BootstrapBackend:
			return fmt.Errorf("backend %q is the bootstrap backend (the trust root for other backends' credentials) and cannot be deleted: %w", b.Name, state.ErrProtected)
		case b.Protected:
			return fmt.Errorf("backend %q is protected (%s): %w", b.Name, state.AnnotationPreventDestroy, state.ErrProtected)
		case b.IsDefault:
			return fmt.Errorf("backend %q is the default backend: make another backend the default first", b.Name)
		case len(on) > 0:
			slices.Sort(on)
			return fmt.Errorf("backend %q: secrets are still placed on it (%s): %w", b.Name, nameList(on, 5), state.ErrInUse)
		}
	case KindSecret:
		row, exists := findSecret(snap, ch.Name)
		if ch.Action == Create {
			if exists {
				return fmt.Errorf("secret %q: %w", ch.Name, state.ErrExists)
			}
			if ch.Backend != "" {
				if _, ok := findBackend(snap, ch.Backend); !ok {
					return fmt.Errorf("backend %q: %w", ch.Backend, state.ErrNotFound)
				}
			} else if currentDefault(snap) == "" {
				return errors.New("no default backend: name one with --backend")
			}
			if len(ch.Values) == 0 {
				return fmt.Errorf("secret %q: no values given", ch.Name)
			}
			return nil
		}
		switch {
		case !exists:
			return fmt.Errorf("secret %q: %w", ch.Name, state.ErrNotFound)
		case row.Protected:
			return fmt.Errorf("secret %q is protected (%s): %w", row.Name, state.AnnotationPreventDestroy, state.ErrProtected)
		}
		for _, b := range snap.Backends {
			edges, err := CredentialEdges(b.Name, b.Type, b.Config, nil)
			if err != nil {
				continue // a backend whose config no longer validates cannot use it either
			}
			for _, e := range edges {
				if e.Secret == ch.Name {
					return &CredentialInUseError{Secret: ch.Name, Backend: b.Name, Key: e.Key}
				}
			}
		}
	}
	return nil
}

// refuseCredentials checks that the secrets a new backend's config takes
// its credentials from exist and hold the key, so a backend is not created
// unusable.
func refuseCredentials(ch Change, snap *Snapshot) error {
	edges, err := CredentialEdges(ch.Name, drivers.Canonical(ch.Type), ch.Config, nil)
	if err != nil {
		return fmt.Errorf("secretbackend %q: config: %w", ch.Name, err)
	}
	for _, e := range edges {
		s, ok := findSecret(snap, e.Secret)
		if !ok {
			return &MissingCredentialError{Backend: ch.Name, Secret: e.Secret, Key: e.Key}
		}
		if e.Key != "" && len(s.Keys) > 0 && !slices.Contains(s.Keys, e.Key) {
			return fmt.Errorf("secretbackend %q: secret %q has no key %q (keys: %s)", ch.Name, e.Secret, e.Key, strings.Join(s.Keys, ", "))
		}
	}
	return nil
}

// MissingCredentialError: a new backend's config names a secret that does
// not exist.
type MissingCredentialError struct {
	Backend, Secret, Key string
}

func (e *MissingCredentialError) Error() string {
	return fmt.Sprintf("secretbackend %q: its config refers to secret %q, which does not exist", e.Backend, e.Secret)
}

// CredentialInUseError: the secret to delete is where a backend takes its
// credentials from. It wraps state.ErrInUse.
type CredentialInUseError struct {
	Secret, Backend, Key string
}

func (e *CredentialInUseError) Error() string {
	return fmt.Sprintf("secret %q: %v: backend %q reads its credentials from it (key %q)", e.Secret, state.ErrInUse, e.Backend, e.Key)
}

func (e *CredentialInUseError) Unwrap() error { return state.ErrInUse }
