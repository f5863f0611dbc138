package drivers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// SecretResolver reads one key of another mcpctl Secret. Drivers use it for
// credentials kept as Secrets on another backend (tokenSecretRef); it is how
// the token chicken-and-egg becomes a dependency edge instead of a cycle.
type SecretResolver interface {
	ResolveSecret(ctx context.Context, secretName, key string) (string, error)
}

// SecretRef points at one key of a Secret.
type SecretRef struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// Config is what a factory gets to build a driver.
type Config struct {
	// Name of the backend (metadata.name).
	Name string
	// Raw is spec.config as JSON.
	Raw json.RawMessage
	// Resolver resolves SecretRefs found in the config. May be nil when the
	// config has none.
	Resolver SecretResolver
	// Deps carries process-level dependencies a driver may need, such as the
	// state store for the plaintext driver. Drivers type-assert what they need.
	Deps any
}

// Type describes one backend type.
type Type struct {
	// Name is the canonical spec.type.
	Name string
	// Aliases are other accepted spelling of spec.type ("vault" for "openbao").
	Aliases []string
	// Validate checks spec.config strictly (unknown keys are errors) without I/O
	// and returns the SecretRefs it depends on, so the plan can order them.
	Validate func(raw json.RawMessage) (deps []SecretRef, err error)
	// New builds a driver. It may do I/O lazily; it should not log in until used.
	New func(ctx context.Context, cfg Config) (Driver, error)
}

var (
	mu    sync.RWMutex
	types = map[string]*Type{}
)

// Register makes a backend type available. It panics on a duplicate name, as
// database/sql.Register does; call it from a driver package's init.
func Register(t Type) {
	mu.Lock()
	defer mu.Unlock()
	for _, n := range append([]string{t.Name}, t.Aliases...) {
		if _, dup := types[n]; dup {
			panic("drivers: Register called twice for type " + n)
		}
		tt := t
		types[n] = &tt
	}
}

// Lookup returns the type registered under name or alias.
func Lookup(name string) (*Type, bool) {
	mu.RLock()
	defer mu.RUnlock()
	t, ok := types[name]
	return t, ok
}

// Canonical maps an alias to the canonical type name ("vault" -> "openbao").
// An unknown name is returned unchanged.
func Canonical(name string) string {
	if t, ok := Lookup(name); ok {
		return t.Name
	}
	return name
}

// Types lists the canonical registered type names, sorted.
func Types() []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for _, t := range types {
		if !slices.Contains(out, t.Name) {
			out = append(out, t.Name)
		}
	}
	sort.Strings(out)
	return out
}

// Validate validates a backend config for the given type.
func Validate(typ string, raw json.RawMessage) ([]SecretRef, error) {
	t, ok := Lookup(typ)
	if !ok {
		return nil, fmt.Errorf("unknown backend type %q (known: %v)", typ, Types())
	}
	if t.Validate == nil {
		return nil, nil
	}
	return t.Validate(raw)
}

// Open builds a driver for a backend of the given type.
func Open(ctx context.Context, typ string, cfg Config) (Driver, error) {
	t, ok := Lookup(typ)
	if !ok {
		return nil, fmt.Errorf("backend %s: unknown backend type %q (known: %v)", cfg.Name, typ, Types())
	}
	return t.New(ctx, cfg)
}
