// Package backends opens the drivers of an installation's secret backends,
// once per run, and resolves credentials kept as Secrets on other backends.
//
// It is the one place that turns a backend row (type + config) into a live
// driver: plan, apply, exec/env and describe all ask a Pool, so a run logs in
// to each backend once and a token Secret is read once.
package backends

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Definition is what is needed to open a backend.
type Definition struct {
	Name   string
	Type   string
	Config json.RawMessage
}

// Catalog finds backend definitions and secret placements. *state.Store
// satisfies it.
type Catalog interface {
	GetBackend(ctx context.Context, name string) (state.Backend, error)
	GetSecret(ctx context.Context, name string, withData bool) (state.Secret, error)
}

// Pool opens drivers lazily and caches them for the run. It is safe for
// concurrent use.
type Pool struct {
	catalog Catalog
	deps    any

	mu       sync.Mutex
	defs     map[string]Definition
	open     map[string]*entry
	resolved map[string]*resolution
}

type entry struct {
	once sync.Once
	drv  drivers.Driver
	err  error
}

// New returns a pool reading definitions from catalog. deps is handed to
// driver factories as drivers.Config.Deps (the plaintext driver needs the
// state store there).
func New(catalog Catalog, deps any) *Pool {
	return &Pool{
		catalog:  catalog,
		deps:     deps,
		defs:     map[string]Definition{},
		open:     map[string]*entry{},
		resolved: map[string]*resolution{},
	}
}

// Define overrides (or adds) a backend's definition, e.g. a backend apply is
// about to create or whose config it changes. A driver already opened for
// that name is closed and reopened on next use.
func (p *Pool) Define(d Definition) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.defs[d.Name] = d
	if e, ok := p.open[d.Name]; ok {
		delete(p.open, d.Name)
		closeDriver(e)
	}
}

// Driver returns the opened driver of a backend.
func (p *Pool) Driver(ctx context.Context, name string) (drivers.Driver, error) {
	p.mu.Lock()
	e, ok := p.open[name]
	if !ok {
		e = &entry{}
		p.open[name] = e
	}
	p.mu.Unlock()
	e.once.Do(func() { e.drv, e.err = p.openDriver(ctx, name) })
	return e.drv, e.err
}

func (p *Pool) openDriver(ctx context.Context, name string) (drivers.Driver, error) {
	p.mu.Lock()
	def, ok := p.defs[name]
	p.mu.Unlock()
	if !ok {
		b, err := p.catalog.GetBackend(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("backend %s: %w", name, err)
		}
		def = Definition{Name: b.Name, Type: b.Type, Config: b.Config}
	}
	d, err := drivers.Open(ctx, def.Type, drivers.Config{
		Name:     def.Name,
		Raw:      def.Config,
		Resolver: resolver{p: p},
		Deps:     p.deps,
	})
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", name, err)
	}
	return d, nil
}

// resolver binds ResolveSecret as a drivers.SecretResolver.
type resolver struct{ p *Pool }

func (r resolver) ResolveSecret(ctx context.Context, secret, key string) (string, error) {
	return r.p.ResolveSecret(ctx, secret, key)
}

// ResolveSecret reads one key of a Secret through its recorded placement.
// Each secret is read once per pool.
func (p *Pool) ResolveSecret(ctx context.Context, secret, key string) (string, error) {
	vals, err := p.secretValues(ctx, secret)
	if err != nil {
		return "", err
	}
	v, ok := vals.Get(key)
	if !ok {
		return "", fmt.Errorf("secret %s has no key %q (keys: %s)", secret, key, strings.Join(vals.Keys(), ", "))
	}
	return v, nil
}

func (p *Pool) secretValues(ctx context.Context, secret string) (drivers.Values, error) {
	// A real token cycle (backend A's token on B, B's on A) is refused by the
	// plan; this guard keeps a bad row from recursing forever. It follows
	// one chain of resolutions (carried in ctx), so concurrent lookups of the
	// same secret, e.g. two backends sharing one token, are not a cycle.
	chain, _ := ctx.Value(chainKey{}).([]string)
	if slices.Contains(chain, secret) {
		return drivers.Values{}, fmt.Errorf("secret %s: credential dependency cycle: %s -> %s", secret, strings.Join(chain, " -> "), secret)
	}
	p.mu.Lock()
	r, ok := p.resolved[secret]
	if !ok {
		r = &resolution{done: make(chan struct{})}
		p.resolved[secret] = r
	}
	p.mu.Unlock()
	if ok {
		select {
		case <-r.done:
			return r.vals, r.err
		case <-ctx.Done():
			return drivers.Values{}, ctx.Err()
		}
	}
	r.vals, r.err = p.Read(context.WithValue(ctx, chainKey{}, append(slices.Clone(chain), secret)), secret)
	if r.err != nil {
		// A failure is not cached: a later caller (say after a transient
		// outage) tries again.
		p.mu.Lock()
		delete(p.resolved, secret)
		p.mu.Unlock()
	}
	close(r.done)
	return r.vals, r.err
}

type chainKey struct{}

// resolution is one secret's credential lookup, shared by concurrent callers.
type resolution struct {
	done chan struct{}
	vals drivers.Values
	err  error
}

// Read reads a secret's values from the backend its row names now. It is
// how consumers (exec, env) and credential resolution see a secret, so they
// keep working while secrets move between backends.
func (p *Pool) Read(ctx context.Context, secret string) (drivers.Values, error) {
	row, err := p.catalog.GetSecret(ctx, secret, false)
	if err != nil {
		return drivers.Values{}, err // the store's errors name the secret
	}
	d, err := p.Driver(ctx, row.BackendName)
	if err != nil {
		return drivers.Values{}, fmt.Errorf("secret %s: %w", secret, err)
	}
	vals, _, err := d.Get(ctx, drivers.Ref(secret))
	if err != nil {
		return drivers.Values{}, fmt.Errorf("secret %s: %w", secret, err)
	}
	return vals, nil
}

// Opened lists the backends opened so far (for tests and diagnostics).
func (p *Pool) Opened() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for n := range p.open {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Close closes every opened driver that holds resources.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for n, e := range p.open {
		errs = append(errs, closeDriver(e))
		delete(p.open, n)
	}
	return errors.Join(errs...)
}

func closeDriver(e *entry) error {
	if e.drv == nil {
		return nil
	}
	if c, ok := e.drv.(drivers.Closer); ok {
		return c.Close()
	}
	return nil
}
