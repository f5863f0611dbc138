package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// testKV is a backend type for the pure tests: its config is
// {"url": ..., "tokenSecretRef": {"name","key"}}, validated strictly, so
// Compute sees credential dependencies exactly as it does for openbao.
const testKV = "testkv"

type testKVConfig struct {
	URL            string             `json:"url"`
	TokenSecretRef *drivers.SecretRef `json:"tokenSecretRef,omitempty"`
}

func validateTestKV(raw json.RawMessage) ([]drivers.SecretRef, error) {
	var c testKVConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	if c.URL == "" {
		return nil, errors.New("url is required")
	}
	if c.TokenSecretRef != nil {
		return []drivers.SecretRef{*c.TokenSecretRef}, nil
	}
	return nil, nil
}

func noDriver(context.Context, drivers.Config) (drivers.Driver, error) {
	return nil, errors.New("no driver in pure tests")
}

func init() {
	drivers.Register(drivers.Type{Name: testKV, Validate: validateTestKV, New: noDriver})
	// The real plaintext driver registers itself when a test imports it;
	// the pure tests only need its (empty) config validated.
	if _, ok := drivers.Lookup("plaintext"); !ok {
		drivers.Register(drivers.Type{Name: "plaintext", Validate: func(json.RawMessage) ([]drivers.SecretRef, error) { return nil, nil }, New: noDriver})
	}
}

var (
	testNow    = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	testPlanID = "0123456789abcdef0123456789abcdef"
)

func fpOf(s string) string {
	return Fingerprint([]byte("test key"), drivers.NewValues(map[string]string{"v": s}))
}

// --- desired ---

type setB func(*manifest.Backend)

func kv(name, url string, opts ...setB) manifest.Backend {
	b := manifest.Backend{Name: name, Type: testKV, Config: json.RawMessage(`{"url":"` + url + `"}`),
		Source: manifest.Source{File: "backends.yaml", Line: 1}}
	for _, o := range opts {
		o(&b)
	}
	return b
}

func withToken(secret, key string) setB {
	return func(b *manifest.Backend) {
		var c testKVConfig
		_ = json.Unmarshal(b.Config, &c)
		c.TokenSecretRef = &drivers.SecretRef{Name: secret, Key: key}
		b.Config, _ = json.Marshal(c)
	}
}

func bLabels(kv ...string) setB {
	return func(b *manifest.Backend) { b.Labels = pairs(kv) }
}

func plain(name string, def bool) manifest.Backend {
	return manifest.Backend{Name: name, Type: "plaintext", Default: def, Source: manifest.Source{File: "backends.yaml", Line: 10}}
}

type setS func(*manifest.Secret)

func sec(name, backend string, opts ...setS) manifest.Secret {
	s := manifest.Secret{Name: name, Backend: backend, Source: manifest.Source{File: "secrets.yaml", Line: 3}}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// env manages keys from environment variables named after them.
func env(keys ...string) setS {
	return func(s *manifest.Secret) {
		s.Data = manifest.DataOf(map[string]manifest.ValueSource{})
		for _, k := range keys {
			s.Data = s.Data.With(k, manifest.ValueSource{FromEnv: "ENV_" + k})
		}
	}
}

func sLabels(kv ...string) setS { return func(s *manifest.Secret) { s.Labels = pairs(kv) } }

func sProtected() setS {
	return func(s *manifest.Secret) { s.Annotations = map[string]string{state.AnnotationPreventDestroy: "true"} }
}

func pairs(kv []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func set(backends []manifest.Backend, secrets ...manifest.Secret) *manifest.Set {
	return &manifest.Set{Backends: backends, Secrets: secrets, Digest: "sha256:0123456789abcdef"}
}

// --- actual ---

func bootstrap() state.Backend {
	b := bootstrapRow()
	b.ID = "b-default"
	b.Config = json.RawMessage(`{}`)
	return b
}

func kvRow(name, url string, gen int64) state.Backend {
	return state.Backend{ID: "b-" + name, Name: name, Type: testKV, Config: json.RawMessage(`{"url":"` + url + `"}`), Generation: gen}
}

func kvRowToken(name, url string, gen int64, secret, key string) state.Backend {
	b := kvRow(name, url, gen)
	b.Config, _ = json.Marshal(testKVConfig{URL: url, TokenSecretRef: &drivers.SecretRef{Name: secret, Key: key}})
	return b
}

// row is a secret row at object version ver with the given keys; managed
// rows record fpOf(name) as their fingerprint.
func row(name, backend string, gen, ver int64, managed bool, keys ...string) state.Secret {
	r := state.Secret{ID: "id-" + name, Name: name, BackendID: "b-" + backend, BackendName: backend,
		BackendVersion: ver, Keys: keys, Managed: managed, Generation: gen}
	if managed {
		r.Fingerprint = fpOf(name)
	}
	return r
}

func present(backend string, ver int64, owner string, keys ...string) ObjectStatus {
	return ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Present, Version: ver, Keys: keys, OwnerID: owner, ManagedBy: owner != ""}}
}

func objState(backend string, st drivers.ObjectState, ver int64, owner string) ObjectStatus {
	return ObjectStatus{Backend: backend, Meta: drivers.Meta{State: st, Version: ver, OwnerID: owner, ManagedBy: owner != ""}}
}

// snapshot builds an initialised snapshot whose objects match the rows
// exactly (no drift); tests then override entries.
func snapshot(backends []state.Backend, secrets ...state.Secret) *Snapshot {
	s := &Snapshot{
		Initialized: true,
		Backends:    append([]state.Backend{bootstrap()}, backends...),
		Secrets:     secrets,
		Objects:     map[string]ObjectStatus{},
		Targets:     map[string]ObjectStatus{},
		Leftovers:   map[int64]ObjectStatus{},
	}
	for _, r := range secrets {
		s.Objects[r.Name] = present(r.BackendName, r.BackendVersion, r.ID, r.Keys...)
	}
	return s
}

// fps makes known fingerprints: each named secret's desired fingerprint is
// fpOf(name) (equal to what row() records) unless changed lists it.
func fps(names []string, changed ...string) Fingerprints {
	f := Fingerprints{ByName: map[string]string{}}
	for _, n := range names {
		f.ByName[n] = fpOf(n)
	}
	for _, n := range changed {
		f.ByName[n] = fpOf(n + " changed")
	}
	return f
}

func managedNames(d *manifest.Set) []string {
	var out []string
	for _, s := range d.Secrets {
		if s.Data != nil {
			out = append(out, s.Name)
		}
	}
	return out
}

func testOpts(o Options) Options {
	o.Now, o.PlanID = testNow, testPlanID
	return o
}

// --- comparisons ---

// act is the shape of an action the table tests compare.
type act struct {
	ID     string
	Action ActionType
	Deps   []string
	// Reason must contain this text.
	Reason string
}

func acts(p *Plan) []act {
	out := make([]act, len(p.Actions))
	for i, a := range p.Actions {
		out[i] = act{ID: a.ID, Action: a.Action, Deps: a.Deps, Reason: a.Reason}
	}
	return out
}

// reasonContains lets want.Reason be a substring of the actual reason.
var reasonContains = cmp.Comparer(func(a, b act) bool {
	sub := func(x, y act) bool {
		return x.ID == y.ID && x.Action == y.Action && slices.Equal(x.Deps, y.Deps) && strings.Contains(y.Reason, x.Reason)
	}
	return sub(a, b) || sub(b, a)
})

var planCmp = []cmp.Option{
	cmpopts.IgnoreUnexported(ManagedValues{}),
	cmpopts.EquateEmpty(),
}

func problemsOf(err error) []string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Problems
	}
	if err != nil {
		return []string{"not a plan error: " + err.Error()}
	}
	return nil
}

// checkProblems asserts that each wanted text is in exactly one problem
// and that there are no other problems.
func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	got := problemsOf(err)
	if len(got) != len(want) {
		t.Errorf("problems: got %d, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
		return
	}
	for _, w := range want {
		n := 0
		for _, g := range got {
			if strings.Contains(g, w) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("problem %q matched %d problems; got:\n%s", w, n, strings.Join(got, "\n"))
		}
	}
}

func dump(p *Plan) string {
	var b strings.Builder
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "%s %s deps=%v: %s\n", a.Action, a.ID, a.Deps, a.Reason)
	}
	for _, f := range p.Findings {
		fmt.Fprintf(&b, "finding %s %s: %s\n", f.Type, f.Resource(), f.Reason)
	}
	return b.String()
}

func sprintAll(v any) string { return fmt.Sprintf("%v\n%+v\n%#v\n%s", v, v, v, v) }
