package drivertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// need is the capability a case requires; zero means none.
type need int

const (
	always need = iota
	softDelete
	ownership
	foreign
	outside
	nestedRefs
	logins
	namespace
	readOnly
)

func (n need) String() string {
	return [...]string{"", "SoftDelete", "Ownership", "Foreign", "Outside", "NestedRefs", "Logins", "Namespace", "ReadOnly"}[n]
}

func (c Caps) has(n need) bool {
	switch n {
	case softDelete:
		return c.SoftDelete
	case ownership:
		return c.Ownership
	case foreign:
		return c.Foreign
	case outside:
		return c.Outside
	case nestedRefs:
		return c.NestedRefs
	case logins:
		return c.Logins
	case namespace:
		return c.Namespace
	case readOnly:
		return c.ReadOnly
	}
	return true
}

// Run runs every conformance case the harness's capabilities allow, each as
// a parallel subtest on its own store.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.NewStore == nil {
		t.Fatal("drivertest: Harness.NewStore is required")
	}
	var notRun []string
	for _, c := range cases {
		for _, n := range c.needs {
			if !h.Caps.has(n) {
				notRun = append(notRun, c.name+" ("+n.String()+")")
				break
			}
		}
	}
	if len(notRun) > 0 {
		t.Logf("drivertest: %d of %d cases need capabilities this driver does not declare: %s",
			len(notRun), len(cases), strings.Join(notRun, ", "))
	}
	for _, c := range cases {
		if !slices.ContainsFunc(c.needs, func(n need) bool { return !h.Caps.has(n) }) {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				s := h.NewStore(t)
				h.Caps.validate(t, s)
				e := newEnv(t, s, h.Caps)
				c.run(e)
			})
		}
	}
}

// Cases returns the names of all conformance cases, for documentation and
// for tests asserting the suite's size.
func Cases() []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.name
	}
	return out
}

type testCase struct {
	name  string
	needs []need
	run   func(e *env)
}

// env is one case's view of its store. Its helpers record every error and
// every value so the leak check at cleanup can see them.
type env struct {
	t    *testing.T
	s    Store
	caps Caps
	ctx  context.Context
	d    drivers.Driver
	// owner is the OwnerID every write of this case uses unless it says otherwise.
	owner string

	mu     sync.Mutex
	errs   []error
	values []string
}

func newEnv(t *testing.T, s Store, caps Caps) *env {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	e := &env{t: t, s: s, caps: caps, ctx: ctx, owner: NewID()}
	t.Cleanup(e.checkLeaks)
	e.d = e.open()
	return e
}

// open returns a new driver on the case's store, closed at cleanup.
func (e *env) open() drivers.Driver {
	e.t.Helper()
	return e.track(e.s.Open(e.t))
}

func (e *env) track(d drivers.Driver) drivers.Driver {
	if c, ok := d.(drivers.Closer); ok {
		e.t.Cleanup(func() { _ = c.Close() })
	}
	return d
}

func (e *env) prepare(refs ...drivers.Ref) {
	e.t.Helper()
	if e.s.Prepare != nil {
		e.s.Prepare(e.t, refs...)
	}
}

// NewID returns a random UUID-shaped id, as state uses for secret ids.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Marker returns a value unlikely to appear anywhere by chance, so a leak
// check can look for it.
func Marker(tag string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "tv-" + tag + "-" + hex.EncodeToString(b[:])
}

// vals registers every value of m for the leak check and returns them as Values.
func (e *env) vals(m map[string]string) drivers.Values {
	e.mu.Lock()
	for _, v := range m {
		e.values = append(e.values, v)
	}
	e.mu.Unlock()
	return drivers.NewValues(m)
}

// secret returns one-key values with a fresh marker.
func (e *env) secret(key string) drivers.Values {
	return e.vals(map[string]string{key: Marker(key)})
}

func (e *env) record(err error) error {
	if err != nil {
		e.mu.Lock()
		e.errs = append(e.errs, err)
		e.mu.Unlock()
	}
	return err
}

func (e *env) put(d drivers.Driver, ref drivers.Ref, v drivers.Values, o drivers.PutOptions) (drivers.Meta, error) {
	if o.OwnerID == "" {
		o.OwnerID = e.owner
	}
	if o.SecretName == "" {
		o.SecretName = string(ref)
	}
	if o.BackendName == "" {
		o.BackendName = "conformance"
	}
	m, err := d.Put(e.ctx, ref, v, o)
	return m, e.record(err)
}

func (e *env) mustPut(ref drivers.Ref, v drivers.Values, o drivers.PutOptions) drivers.Meta {
	e.t.Helper()
	m, err := e.put(e.d, ref, v, o)
	if err != nil {
		e.t.Fatalf("Put %s: %v", ref, err)
	}
	return m
}

// create prepares ref and writes v as a new object owned by the case.
func (e *env) create(ref drivers.Ref, v drivers.Values) drivers.Meta {
	e.t.Helper()
	e.prepare(ref)
	return e.mustPut(ref, v, drivers.PutOptions{CAS: 0})
}

func (e *env) stat(d drivers.Driver, ref drivers.Ref) (drivers.Meta, error) {
	m, err := d.Stat(e.ctx, ref)
	return m, e.record(err)
}

func (e *env) mustStat(ref drivers.Ref) drivers.Meta {
	e.t.Helper()
	m, err := e.stat(e.d, ref)
	if err != nil {
		e.t.Fatalf("Stat %s: %v", ref, err)
	}
	return m
}

func (e *env) get(d drivers.Driver, ref drivers.Ref) (drivers.Values, drivers.Meta, error) {
	v, m, err := d.Get(e.ctx, ref)
	return v, m, e.record(err)
}

func (e *env) mustGet(ref drivers.Ref) (drivers.Values, drivers.Meta) {
	e.t.Helper()
	v, m, err := e.get(e.d, ref)
	if err != nil {
		e.t.Fatalf("Get %s: %v", ref, err)
	}
	return v, m
}

func (e *env) del(d drivers.Driver, ref drivers.Ref, o drivers.DeleteOptions) error {
	return e.record(d.Delete(e.ctx, ref, o))
}

func (e *env) mustDel(ref drivers.Ref, o drivers.DeleteOptions) {
	e.t.Helper()
	if err := e.del(e.d, ref, o); err != nil {
		e.t.Fatalf("Delete %s (destroy=%v): %v", ref, o.Destroy, err)
	}
}

func (e *env) list(d drivers.Driver) []drivers.Ref {
	e.t.Helper()
	var out []drivers.Ref
	for ref, err := range d.List(e.ctx) {
		if e.record(err) != nil {
			e.t.Fatalf("List: %v", err)
		}
		out = append(out, ref)
	}
	slices.Sort(out)
	return out
}

// wantValues fails unless ref reads back exactly as want. It never prints values.
func (e *env) wantValues(ref drivers.Ref, want drivers.Values) drivers.Meta {
	e.t.Helper()
	got, m := e.mustGet(ref)
	if !got.Equal(want) {
		e.t.Fatalf("Get %s: values differ from what was written: got keys %q, want keys %q%s",
			ref, got.Keys(), want.Keys(), diffHint(got, want))
	}
	return m
}

// diffHint names the keys whose values differ, with lengths, never contents.
func diffHint(got, want drivers.Values) string {
	var b strings.Builder
	for _, k := range want.Keys() {
		g, ok := got.Get(k)
		w, _ := want.Get(k)
		if ok && g != w {
			fmt.Fprintf(&b, "; key %q: got %d bytes, want %d bytes", k, len(g), len(w))
		}
	}
	return b.String()
}

func (e *env) wantErr(err error, kind error, what string) {
	e.t.Helper()
	if !errors.Is(err, kind) {
		e.t.Fatalf("%s: got error %v, want %v", what, err, kind)
	}
}

// checkLeaks fails the case if a recorded error, a driver log line or a
// formatting of Values contains a test value.
func (e *env) checkLeaks() {
	e.mu.Lock()
	defer e.mu.Unlock()
	var texts []string
	for _, err := range e.errs {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	if e.s.Logs != nil {
		texts = append(texts, e.s.Logs())
	}
	for i, v := range e.values {
		if len(v) < 6 {
			continue // too short to tell a leak from a coincidence
		}
		vv := drivers.NewValues(map[string]string{"k": v})
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			if s := fmt.Sprintf(f, vv); strings.Contains(s, v) {
				e.t.Errorf("leak: fmt %s of Values prints test value #%d", f, i)
			}
		}
		for _, s := range texts {
			if strings.Contains(s, v) {
				e.t.Errorf("leak: test value #%d (%d bytes) appears in a driver error or log line", i, len(v))
				break
			}
		}
	}
}
