package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/plaintext"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// readOnlySource hands planning the pool's drivers wrapped so that any Get,
// Put or Delete fails the test: planning only ever Stats.
type readOnlySource struct {
	t     *testing.T
	inner DriverSource
	stats atomic.Int64
	bulk  atomic.Int64
}

func (s *readOnlySource) Driver(ctx context.Context, name string) (drivers.Driver, error) {
	d, err := s.inner.Driver(ctx, name)
	if err != nil {
		return nil, err
	}
	ro := &readOnly{Driver: d, src: s, backend: name}
	if bs, ok := d.(drivers.BulkStater); ok {
		rb := &readOnlyBulk{readOnly: ro, bs: bs}
		if st, ok := d.(drivers.BulkStreamer); ok {
			return &readOnlyStream{readOnlyBulk: rb, st: st}, nil
		}
		return rb, nil
	}
	return ro, nil
}

type readOnly struct {
	drivers.Driver
	src     *readOnlySource
	backend string
}

func (r *readOnly) Stat(ctx context.Context, ref drivers.Ref) (drivers.Meta, error) {
	r.src.stats.Add(1)
	return r.Driver.Stat(ctx, ref)
}

func (r *readOnly) Get(_ context.Context, ref drivers.Ref) (drivers.Values, drivers.Meta, error) {
	r.src.t.Errorf("planning called Get(%s) on backend %s: plan must never read values", ref, r.backend)
	return drivers.Values{}, drivers.Meta{}, errors.New("Get is forbidden while planning")
}

func (r *readOnly) Put(_ context.Context, ref drivers.Ref, _ drivers.Values, _ drivers.PutOptions) (drivers.Meta, error) {
	r.src.t.Errorf("planning called Put(%s) on backend %s", ref, r.backend)
	return drivers.Meta{}, errors.New("Put is forbidden while planning")
}

func (r *readOnly) Delete(_ context.Context, ref drivers.Ref, _ drivers.DeleteOptions) error {
	r.src.t.Errorf("planning called Delete(%s) on backend %s", ref, r.backend)
	return errors.New("Delete is forbidden while planning")
}

type readOnlyBulk struct {
	*readOnly
	bs drivers.BulkStater
}

func (r *readOnlyBulk) StatAll(ctx context.Context) (map[drivers.Ref]drivers.Meta, error) {
	r.src.bulk.Add(1)
	return r.bs.StatAll(ctx)
}

type readOnlyStream struct {
	*readOnlyBulk
	st drivers.BulkStreamer
}

func (r *readOnlyStream) StatEach(ctx context.Context, fn func(drivers.Ref, drivers.Meta)) error {
	r.src.bulk.Add(1)
	return r.st.StatEach(ctx, fn)
}

// gatherEnv is a real installation: a Postgres schema with the bootstrap
// backend, an openbao backend on the test Vault (own mount) whose token is a
// plaintext secret, and rows placed through the real drivers.
type gatherEnv struct {
	ctx   context.Context
	store *state.Store
	pool  *backends.Pool
	vault *testenv.VaultServer
	mount string
	key   []byte
	cfg   json.RawMessage
}

func newGatherEnv(t *testing.T) *gatherEnv {
	t.Helper()
	ctx := context.Background()
	url, schema := testenv.Schema(t)
	store, err := state.Open(ctx, state.Options{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := store.FingerprintKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v := testenv.Vault(t)
	e := &gatherEnv{ctx: ctx, store: store, pool: backends.New(store, store), vault: v, mount: v.NewMount(t), key: key}
	t.Cleanup(func() { _ = e.pool.Close() })
	e.cfg, _ = json.Marshal(map[string]any{
		"url": v.Addr, "mount": e.mount, "pathPrefix": "plan",
		"auth": map[string]any{"tokenSecretRef": map[string]string{"name": "bao-token", "key": "token"}},
	})
	e.place(t, "bao-token", "default", map[string]string{"token": v.RootToken}, true)
	bao := state.Backend{Name: "bao", Type: "openbao", Config: e.cfg}
	if err := store.CreateBackend(ctx, &bao); err != nil {
		t.Fatal(err)
	}
	return e
}

// place creates a secret row and writes its values through the real driver
// of its backend, recording what mcpctl records after a write.
func (e *gatherEnv) place(t *testing.T, name, backend string, vals map[string]string, managed bool) state.Secret {
	t.Helper()
	sec := state.Secret{Name: name, BackendName: backend, Managed: managed}
	if err := e.store.CreateSecret(e.ctx, &sec); err != nil {
		t.Fatal(err)
	}
	d, err := e.pool.Driver(e.ctx, backend)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := d.Put(e.ctx, drivers.Ref(name), drivers.NewValues(vals), drivers.PutOptions{OwnerID: sec.ID, SecretName: name, BackendName: backend})
	if err != nil {
		t.Fatalf("put %s on %s: %v", name, backend, err)
	}
	cur, err := e.store.GetSecret(e.ctx, name, false)
	if err != nil {
		t.Fatal(err)
	}
	cur.BackendVersion = meta.Version
	cur.Keys = slices.Sorted(maps.Keys(vals))
	if managed {
		cur.Fingerprint = Fingerprint(e.key, drivers.NewValues(vals))
	}
	if err := e.store.UpdateSecret(e.ctx, &cur, false); err != nil {
		t.Fatal(err)
	}
	return cur
}

// writeOutside changes an object in Vault the way a person with the vault
// CLI would: not through mcpctl.
func (e *gatherEnv) writeOutside(t *testing.T, name string, data map[string]any) {
	t.Helper()
	if _, err := e.vault.Client(t).KVv2(e.mount).Put(e.ctx, "plan/"+name, data); err != nil {
		t.Fatal(err)
	}
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestGatherRealServers(t *testing.T) {
	t.Parallel()
	e := newGatherEnv(t)
	ctx := e.ctx

	e.place(t, "openai", "bao", map[string]string{"API_KEY": "sk-old"}, true)
	e.place(t, "same", "bao", map[string]string{"K": "v"}, true)
	e.place(t, "drifty", "bao", map[string]string{"A": "1"}, false)
	e.writeOutside(t, "drifty", map[string]any{"A": "1", "B": "2"})
	e.place(t, "softdel", "bao", map[string]string{"T": "t"}, true)
	baoDrv, err := e.pool.Driver(ctx, "bao")
	if err != nil {
		t.Fatal(err)
	}
	if err := baoDrv.Delete(ctx, "softdel", drivers.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// An interrupted migration: journaled, destination copy written, no flip.
	moving := e.place(t, "moving", "default", map[string]string{"M": "m"}, false)
	m := state.Migration{SecretID: moving.ID, SecretName: "moving", FromBackend: "default", ToBackend: "bao", SourceVersion: moving.BackendVersion}
	if err := e.store.StartMigration(ctx, &m); err != nil {
		t.Fatal(err)
	}
	if _, err := baoDrv.Put(ctx, "moving", drivers.NewValues(map[string]string{"M": "m"}), drivers.PutOptions{OwnerID: moving.ID, SecretName: "moving", BackendName: "bao"}); err != nil {
		t.Fatal(err)
	}
	// Enough rows on the plaintext backend for its bulk Stat.
	var keep []manifest.Secret
	for i := range bulkStatMin {
		name := fmt.Sprintf("p%02d", i)
		e.place(t, name, "default", map[string]string{"X": "x"}, false)
		keep = append(keep, sec(name, ""))
	}
	e.place(t, "stray", "default", map[string]string{"S": "s"}, false)

	desired := &manifest.Set{
		Backends: []manifest.Backend{{Name: "bao", Type: "openbao", Config: e.cfg, Source: manifest.Source{File: "b.yaml", Line: 1}}},
		Secrets: append([]manifest.Secret{
			{Name: "bao-token", Data: manifest.DataOf(map[string]manifest.ValueSource{"token": {FromEnv: "BAO_TOKEN"}}), Source: manifest.Source{File: "s.yaml", Line: 1}},
			{Name: "openai", Backend: "bao", Data: manifest.DataOf(map[string]manifest.ValueSource{"API_KEY": {FromEnv: "OPENAI_API_KEY"}}), Source: manifest.Source{File: "s.yaml", Line: 5}},
			{Name: "same", Backend: "bao", Data: manifest.DataOf(map[string]manifest.ValueSource{"K": {FromEnv: "SAME_K"}}), Source: manifest.Source{File: "s.yaml", Line: 9}},
			{Name: "drifty", Backend: "bao", Source: manifest.Source{File: "s.yaml", Line: 13}},
			{Name: "softdel", Backend: "bao", Data: manifest.DataOf(map[string]manifest.ValueSource{"T": {FromEnv: "SOFTDEL_T"}}), Source: manifest.Source{File: "s.yaml", Line: 17}},
			{Name: "moving", Backend: "bao", Source: manifest.Source{File: "s.yaml", Line: 21}},
			{Name: "newone", Backend: "bao", Source: manifest.Source{File: "s.yaml", Line: 25}},
		}, keep...),
	}
	env := map[string]string{"BAO_TOKEN": e.vault.RootToken, "OPENAI_API_KEY": "sk-new", "SAME_K": "v", "SOFTDEL_T": "t"}
	src := &readOnlySource{t: t, inner: e.pool}
	opts := Options{Parallelism: 4, LookupEnv: mapEnv(env), Schema: e.store.Schema()}

	snap, fp, err := Gather(ctx, e.store, src, desired, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Initialized || fp.Unknown || len(snap.Secrets) != 15 || len(snap.Objects) != 15 {
		t.Fatalf("snapshot: initialized %v, unknown %v, %d rows, %d objects", snap.Initialized, fp.Unknown, len(snap.Secrets), len(snap.Objects))
	}
	if src.stats.Load() == 0 || src.bulk.Load() == 0 {
		t.Errorf("stats %d, bulk stats %d: want both paths used (Vault per object, plaintext in bulk)", src.stats.Load(), src.bulk.Load())
	}
	if got := snap.Targets["newone"]; got.Backend != "bao" || got.Err != "" || got.Meta.State != drivers.Absent {
		t.Errorf("target of newone: %+v", got)
	}
	if got := snap.Leftovers[m.ID]; got.Backend != "bao" || got.Meta.State != drivers.Present || got.Meta.OwnerID != moving.ID {
		t.Errorf("leftover of the interrupted migration: %+v", got)
	}
	if got := snap.Objects["softdel"]; got.Meta.State != drivers.SoftDeleted {
		t.Errorf("softdel observed as %+v", got)
	}
	if fp.ByName["openai"] != Fingerprint(e.key, drivers.NewValues(map[string]string{"API_KEY": "sk-new"})) {
		t.Error("the desired fingerprint of openai is not the HMAC of the environment's value")
	}

	p, err := Compute(desired, fp, snap, opts)
	if err != nil {
		t.Fatalf("%v\n%s", err, dump(p))
	}
	want := []act{
		{ID: "secret/drifty", Action: Update, Reason: "records the object changed outside mcpctl (backend object version 1 → 2"},
		{ID: "secret/moving", Action: Migrate, Reason: "resumes migration #" + strconv.FormatInt(m.ID, 10)},
		{ID: "secret/newone", Action: Create, Reason: "creates an empty object"},
		{ID: "secret/openai", Action: Write, Reason: "managed values differ from the last apply"},
		{ID: "secret/softdel", Action: Repair, Reason: "the object on bao is soft-deleted"},
	}
	if diff := cmp.Diff(want, acts(p), reasonContains); diff != "" {
		t.Errorf("actions (-want +got):\n%s\n%s", diff, dump(p))
	}
	if mv, _ := p.Action("secret/moving"); mv == nil || !mv.Migration.DestinationHasCopy || mv.Migration.JournalID != m.ID {
		t.Errorf("the interrupted migration is not resumed from its copy: %+v", mv)
	}
	var types []string
	for _, f := range p.Findings {
		types = append(types, string(f.Type)+" "+f.Resource())
	}
	if diff := cmp.Diff([]string{"drift secret/drifty", "unmanaged secret/stray"}, types); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// Someone writes openai in Vault after the plan: the plan is stale.
	e.writeOutside(t, "openai", map[string]any{"API_KEY": "sk-other"})
	now, err := Refresh(ctx, e.store, src, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	moved := Stale(p, now)
	if len(moved) != 1 || moved[0].String() != "secret/openai: backend object version 1 → 2" {
		t.Errorf("Stale after an outside write: %v", moved)
	}
}

// deniedKey is the store as a viewer role sees it: the fingerprint key is
// not readable.
type deniedKey struct{ *state.Store }

func (deniedKey) FingerprintKey(context.Context) ([]byte, error) {
	return nil, fmt.Errorf("fingerprint key: %w", state.ErrPermissionDenied)
}

func TestGatherViewerAndUnresolvableValues(t *testing.T) {
	t.Parallel()
	e := newGatherEnv(t)
	e.place(t, "openai", "bao", map[string]string{"API_KEY": "sk-old"}, true)
	desired := set([]manifest.Backend{{Name: "bao", Type: "openbao", Config: e.cfg}},
		manifest.Secret{Name: "openai", Backend: "bao", Data: manifest.DataOf(map[string]manifest.ValueSource{"API_KEY": {FromEnv: "OPENAI_API_KEY"}}), Source: manifest.Source{File: "s.yaml", Line: 5}},
		manifest.Secret{Name: "bao-token", Data: manifest.DataOf(map[string]manifest.ValueSource{"token": {FromEnv: "BAO_TOKEN"}}), Source: manifest.Source{File: "s.yaml", Line: 1}})
	src := &readOnlySource{t: t, inner: e.pool}
	noEnv := Options{LookupEnv: mapEnv(nil)}

	// A writer without the variables cannot plan: the values cannot be
	// compared, and that is an error naming every variable.
	_, _, err := Gather(e.ctx, e.store, src, desired, noEnv)
	if err == nil || !strings.Contains(err.Error(), "environment variable OPENAI_API_KEY is not set") || !strings.Contains(err.Error(), "BAO_TOKEN") {
		t.Errorf("unset variables: %v", err)
	}

	// A viewer neither reads the key nor needs the values: comparisons are
	// reported unknown.
	snap, fp, err := Gather(e.ctx, deniedKey{e.store}, src, desired, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !fp.Unknown || !strings.Contains(fp.UnknownReason, "viewer") {
		t.Fatalf("fingerprints %+v", fp)
	}
	p, err := Compute(desired, fp, snap, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() {
		t.Errorf("a viewer plan guessed changes:\n%s", dump(p))
	}
	if p.Summary.Unknown != 2 {
		t.Errorf("want 2 unknown findings:\n%s", dump(p))
	}
}

// fakeSource injects driver faults into Gather: unopenable backends, failing
// and slow Stats, bulk Stat support or not. The real servers are tested
// above; this checks the bookkeeping around them.
type fakeSource struct {
	mu       sync.Mutex
	drivers  map[string]drivers.Driver
	openErr  map[string]error
	inFlight atomic.Int64
	maxSeen  atomic.Int64
	// overlap is closed when two Stats are in flight at once: the first
	// Stat waits for it, so the run shows whether Stats overlap (the
	// parallelism bound is above 1) by an event, not by sleeping.
	overlap     chan struct{}
	overlapOnce sync.Once
}

func (f *fakeSource) Driver(_ context.Context, name string) (drivers.Driver, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.openErr[name]; err != nil {
		return nil, err
	}
	return f.drivers[name], nil
}

type fakeDriver struct {
	src     *fakeSource
	objects map[drivers.Ref]drivers.Meta
	statErr error
	listErr error
	stats   atomic.Int64
}

func (d *fakeDriver) Stat(ctx context.Context, ref drivers.Ref) (drivers.Meta, error) {
	d.stats.Add(1)
	n := d.src.inFlight.Add(1)
	defer d.src.inFlight.Add(-1)
	for {
		m := d.src.maxSeen.Load()
		if n <= m || d.src.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if n >= 2 {
		d.src.overlapOnce.Do(func() { close(d.src.overlap) })
	}
	select {
	case <-d.src.overlap:
	case <-ctx.Done():
		return drivers.Meta{}, ctx.Err()
	}
	if d.statErr != nil {
		return drivers.Meta{}, d.statErr
	}
	m, ok := d.objects[ref]
	if !ok {
		return drivers.Meta{}, &drivers.Error{Backend: "fake", Ref: ref, Op: "stat", Kind: drivers.ErrNotFound}
	}
	return m, nil
}

func (d *fakeDriver) Get(context.Context, drivers.Ref) (drivers.Values, drivers.Meta, error) {
	panic("Get while planning")
}

func (d *fakeDriver) Put(context.Context, drivers.Ref, drivers.Values, drivers.PutOptions) (drivers.Meta, error) {
	panic("Put while planning")
}

func (d *fakeDriver) Delete(context.Context, drivers.Ref, drivers.DeleteOptions) error {
	panic("Delete while planning")
}

func (d *fakeDriver) List(context.Context) iter.Seq2[drivers.Ref, error] {
	return func(yield func(drivers.Ref, error) bool) {
		if d.listErr != nil {
			yield("", d.listErr)
			return
		}
		for ref := range d.objects {
			if !yield(ref, nil) {
				return
			}
		}
	}
}

type fakeBulk struct {
	*fakeDriver
	err   error
	calls atomic.Int64
}

func (b *fakeBulk) StatAll(context.Context) (map[drivers.Ref]drivers.Meta, error) {
	b.calls.Add(1)
	if b.err != nil {
		return nil, b.err
	}
	return b.objects, nil
}

// fakeStream streams its objects (BulkStreamer); its StatAll must not be
// called when StatEach is there.
type fakeStream struct {
	*fakeDriver
	err   error
	calls atomic.Int64
}

func (b *fakeStream) StatAll(context.Context) (map[drivers.Ref]drivers.Meta, error) {
	panic("StatAll called on a BulkStreamer")
}

func (b *fakeStream) StatEach(_ context.Context, fn func(drivers.Ref, drivers.Meta)) error {
	b.calls.Add(1)
	if b.err != nil {
		return b.err
	}
	for ref, m := range b.objects {
		fn(ref, m)
	}
	return nil
}

type fakeState struct {
	backends []state.Backend
	secrets  []state.Secret
	open     []state.Migration
}

func (f *fakeState) ListBackends(context.Context) ([]state.Backend, error) { return f.backends, nil }
func (f *fakeState) ListSecrets(_ context.Context, withData bool) ([]state.Secret, error) {
	if withData {
		return nil, errors.New("planning must not select the data column")
	}
	return f.secrets, nil
}
func (f *fakeState) OpenMigrations(context.Context) ([]state.Migration, error) { return f.open, nil }
func (f *fakeState) KeptCopies(context.Context) ([]state.Migration, error)     { return nil, nil }
func (f *fakeState) FingerprintKey(context.Context) ([]byte, error)            { return []byte("k"), nil }

func TestGatherFaults(t *testing.T) {
	t.Parallel()
	src := &fakeSource{overlap: make(chan struct{}), drivers: map[string]drivers.Driver{}, openErr: map[string]error{"down": errors.New("backend down: connection refused")}}
	objects := map[drivers.Ref]drivers.Meta{}
	var rows []state.Secret
	for i := range 40 {
		name := fmt.Sprintf("s%02d", i)
		rows = append(rows, row(name, "slow", 1, 1, false, "K"))
		objects[drivers.Ref(name)] = drivers.Meta{State: drivers.Present, Version: 1, Keys: []string{"K"}, OwnerID: "id-" + name}
	}
	delete(objects, "s00") // absent: ErrNotFound from Stat
	src.drivers["slow"] = &fakeDriver{src: src, objects: objects}
	unsupported := &fakeBulk{fakeDriver: &fakeDriver{src: src, objects: objects}, err: &drivers.Error{Op: "stat-all", Kind: drivers.ErrUnsupported}}
	src.drivers["nobulk"] = unsupported
	bulk := &fakeBulk{fakeDriver: &fakeDriver{src: src, objects: objects}}
	src.drivers["bulk"] = bulk
	src.drivers["flaky"] = &fakeDriver{src: src, statErr: errors.New("503 from server")}
	streamObjects := map[drivers.Ref]drivers.Meta{}
	stream := &fakeStream{fakeDriver: &fakeDriver{src: src, objects: streamObjects}}
	src.drivers["stream"] = stream
	streamDown := &fakeStream{fakeDriver: &fakeDriver{src: src}, err: errors.New("stream broke")}
	src.drivers["streamdown"] = streamDown
	streamNo := &fakeStream{fakeDriver: &fakeDriver{src: src, objects: streamObjects}, err: &drivers.Error{Op: "stat-all", Kind: drivers.ErrUnsupported}}
	src.drivers["streamno"] = streamNo
	for i := range bulkStatMin {
		name := fmt.Sprintf("s%02d", i)
		rows = append(rows, row("nb-"+name, "nobulk", 1, 1, false), row("b-"+name, "bulk", 1, 1, false),
			row("st-"+name, "stream", 1, 1, false), row("sd-"+name, "streamdown", 1, 1, false), row("sn-"+name, "streamno", 1, 1, false))
		if i > 0 { // st-s00 and sn-s00 are absent
			streamObjects[drivers.Ref("st-"+name)] = drivers.Meta{State: drivers.Present, Version: int64(i), Keys: []string{"K"}}
			streamObjects[drivers.Ref("sn-"+name)] = drivers.Meta{State: drivers.Present, Version: int64(i), Keys: []string{"K"}}
		}
	}
	rows = append(rows, row("x", "down", 1, 1, false), row("y", "flaky", 1, 1, false))
	st := &fakeState{secrets: rows, backends: []state.Backend{bootstrap()}}
	// The same name twice on one backend: a row's object and the
	// destination of its interrupted move.
	st.open = []state.Migration{{ID: 7, SecretName: "st-s01", FromBackend: "stream", ToBackend: "stream", State: state.MigrationStarted}}
	for _, b := range []string{"slow", "nobulk", "bulk", "down", "flaky", "stream", "streamdown", "streamno"} {
		st.backends = append(st.backends, kvRow(b, "https://"+b, 1))
	}

	snap, _, err := Gather(context.Background(), st, src, nil, Options{Parallelism: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := src.maxSeen.Load(); got > 3 || got < 2 {
		t.Errorf("at most %d Stats ran at once; want 2..3 (the bound, and some parallelism)", got)
	}
	if o := snap.Objects["s00"]; o.Err != "" || o.Meta.State != drivers.Absent {
		t.Errorf("a not-found Stat is an absent object: %+v", o)
	}
	if o := snap.Objects["s01"]; o.Meta.State != drivers.Present || o.Backend != "slow" {
		t.Errorf("s01: %+v", o)
	}
	if unsupported.calls.Load() != 1 || bulk.calls.Load() != 1 {
		t.Errorf("bulk calls: unsupported %d, supported %d", unsupported.calls.Load(), bulk.calls.Load())
	}
	if o := snap.Objects["nb-s01"]; o.Meta.State != drivers.Absent || o.Err != "" {
		t.Errorf("fallback Stat after ErrUnsupported: %+v", o)
	}
	// A BulkStreamer: one StatEach, what it does not report is absent, a
	// failure fails every object of the backend, ErrUnsupported falls back
	// to a Stat each.
	if stream.calls.Load() != 1 || streamDown.calls.Load() != 1 || streamNo.calls.Load() != 1 {
		t.Errorf("StatEach calls: %d, %d, %d; want 1 each", stream.calls.Load(), streamDown.calls.Load(), streamNo.calls.Load())
	}
	if o := snap.Objects["st-s03"]; o.Err != "" || o.Meta.State != drivers.Present || o.Meta.Version != 3 || o.Backend != "stream" {
		t.Errorf("streamed object: %+v", o)
	}
	if o := snap.Objects["st-s00"]; o.Err != "" || o.Meta.State != drivers.Absent || o.Backend != "stream" {
		t.Errorf("object a stream did not report: %+v", o)
	}
	if o, lo := snap.Objects["st-s01"], snap.Leftovers[7]; o.Meta.Version != 1 || lo.Meta.Version != 1 || lo.Backend != "stream" {
		t.Errorf("one name, two jobs on a streamed backend: object %+v, leftover %+v", o, lo)
	}
	if o := snap.Objects["sd-s02"]; o.Err != "stream broke" || o.Backend != "streamdown" {
		t.Errorf("failed stream: %+v", o)
	}
	if o, o0 := snap.Objects["sn-s02"], snap.Objects["sn-s00"]; o.Err != "" || o.Meta.Version != 2 || o0.Meta.State != drivers.Absent {
		t.Errorf("fallback Stat after a stream's ErrUnsupported: %+v, %+v", o, o0)
	}
	if o := snap.Objects["x"]; o.Err != "backend down: connection refused" || o.Backend != "down" {
		t.Errorf("unopenable backend: %+v", o)
	}
	if o := snap.Objects["y"]; o.Err != "503 from server" {
		t.Errorf("failed Stat: %+v", o)
	}
	// Compute turns unobservable objects into one problem per backend.
	_, err = Compute(set(nil, sec("keep", "")), Fingerprints{}, snap, Options{})
	checkProblems(t, err, nil)
	_, err = Compute(set(nil, sec("x", "down"), sec("y", "flaky")), Fingerprints{}, snap, Options{})
	checkProblems(t, err, []string{
		"backend down: cannot observe 1 object(s) (x): backend down: connection refused",
		"backend flaky: cannot observe 1 object(s) (y): 503 from server",
	})
}

// Planning many creates (or moves) onto a Vault prefix lists it once
// instead of reading the metadata of every destination: a key the LIST
// does not return has no metadata, so it is absent. Only the destinations
// that are listed (an object written outside mcpctl, a soft-deleted one)
// are read one by one, and they are observed as before.
func TestGatherListsPrefixForManyTargets(t *testing.T) {
	e := newGatherEnv(t)
	e.writeOutside(t, "t07", map[string]any{"FOREIGN": "x"})
	e.writeOutside(t, "t11", map[string]any{"OLD": "y"})
	if err := e.vault.Client(t).KVv2(e.mount).Delete(e.ctx, "plan/t11"); err != nil {
		t.Fatal(err)
	}
	desired := &manifest.Set{Backends: []manifest.Backend{{Name: "bao", Type: "openbao", Config: e.cfg}}}
	desired.Secrets = append(desired.Secrets, manifest.Secret{Name: "bao-token", Data: manifest.DataOf(map[string]manifest.ValueSource{"token": {FromEnv: "BAO_TOKEN"}})})
	for i := range listProbeMin + 8 {
		desired.Secrets = append(desired.Secrets, sec(fmt.Sprintf("t%02d", i), "bao"))
	}
	src := &readOnlySource{t: t, inner: e.pool}
	snap, _, err := Gather(e.ctx, e.store, src, desired, Options{Parallelism: 4, LookupEnv: mapEnv(map[string]string{"BAO_TOKEN": e.vault.RootToken}), Schema: e.store.Schema()})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Targets) != listProbeMin+8 {
		t.Fatalf("%d targets observed, want %d", len(snap.Targets), listProbeMin+8)
	}
	// bao-token's row on the plaintext backend, t07 and t11: three Stats,
	// not one per destination.
	if got := src.stats.Load(); got != 3 {
		t.Errorf("%d Stats, want 3 (the listed destinations and the token's row)", got)
	}
	for name, o := range snap.Targets {
		want := drivers.Absent
		switch name {
		case "t07":
			want = drivers.Present
		case "t11":
			want = drivers.SoftDeleted
		}
		if o.Err != "" || o.Backend != "bao" || o.Meta.State != want {
			t.Errorf("target %s: %+v, want state %s", name, o, want)
		}
	}
	if o := snap.Targets["t07"]; o.Meta.ManagedBy || o.Meta.OwnerID != "" || o.Meta.Version != 1 {
		t.Errorf("the foreign object t07 is observed as %+v", o.Meta)
	}
}

// A listing that fails (a token without list capability) changes nothing:
// every destination is Stat-ed.
func TestGatherListFailureFallsBackToStat(t *testing.T) {
	t.Parallel()
	src := &fakeSource{overlap: make(chan struct{}), drivers: map[string]drivers.Driver{}}
	objects := map[drivers.Ref]drivers.Meta{"t03": {State: drivers.Present, Version: 2, OwnerID: "someone"}}
	drv := &fakeDriver{src: src, objects: objects, listErr: errors.New("403 permission denied")}
	src.drivers["bao"] = drv
	st := &fakeState{backends: []state.Backend{bootstrap(), kvRow("bao", "https://bao", 1)}}
	var secrets []manifest.Secret
	for i := range listProbeMin {
		secrets = append(secrets, sec(fmt.Sprintf("t%02d", i), "bao"))
	}
	snap, _, err := Gather(context.Background(), st, src, set(nil, secrets...), Options{Parallelism: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := drv.stats.Load(); got != int64(listProbeMin) {
		t.Errorf("%d Stats after a failed listing, want %d", got, listProbeMin)
	}
	if o := snap.Targets["t03"]; o.Meta.State != drivers.Present || o.Meta.OwnerID != "someone" {
		t.Errorf("t03: %+v", o)
	}
	if o := snap.Targets["t04"]; o.Meta.State != drivers.Absent || o.Err != "" {
		t.Errorf("t04: %+v", o)
	}
}
