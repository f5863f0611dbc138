package plan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// StateReader is what planning reads from the state store (*state.Store
// satisfies it). Plan only reads: it never writes, and never selects the
// data column.
type StateReader interface {
	ListBackends(ctx context.Context) ([]state.Backend, error)
	ListSecrets(ctx context.Context, withData bool) ([]state.Secret, error)
	OpenMigrations(ctx context.Context) ([]state.Migration, error)
	KeptCopies(ctx context.Context) ([]state.Migration, error)
	FingerprintKey(ctx context.Context) ([]byte, error)
}

// DriverSource opens the driver of a backend by name (*backends.Pool
// satisfies it). Planning only calls Stat (and BulkStater.StatAll) on what it
// returns, never Get.
type DriverSource interface {
	Driver(ctx context.Context, backend string) (drivers.Driver, error)
}

// bulkStatMin is the number of objects on one backend from which one bulk
// Stat of everything under the driver's prefix is cheaper than a Stat each
// (a paginated LIST costs a few round trips however many objects it skips).
const bulkStatMin = 8

// listProbeMin is the number of objects expected to be absent on one
// backend (the destinations of creates and moves) from which listing the
// driver's prefix once is cheaper than a Stat each: a KV v2 LIST returns
// every key under the prefix in one response, and a key it does not return
// has no metadata at all, so it is absent without a request of its own.
const listProbeMin = 32

// Gather reads actual state for a plan of desired: one bulk read per table,
// then the metadata of every row's object, of the objects at the locations
// the manifests move or create secrets to, and of the leftovers of open
// migrations — Stat calls in parallel, at most opts.Parallelism at a time,
// one bulk Stat per backend where the driver offers it. It also computes
// the fingerprints of the desired managed values when the fingerprint key is
// readable; when it is not (a viewer role), it neither reads the key nor
// resolves values, and the comparisons are reported as unknown.
//
// An error is returned for what makes planning impossible (the database
// cannot be read, a managed value's source cannot be resolved); a backend
// that cannot be observed is recorded in the snapshot and becomes a plan
// error in Compute, naming the backend.
func Gather(ctx context.Context, st StateReader, ds DriverSource, desired *manifest.Set, opts Options) (*Snapshot, Fingerprints, error) {
	snap, err := readState(ctx, st)
	if err != nil {
		return nil, Fingerprints{}, err
	}
	targets := map[string]string{}
	if desired != nil {
		def := desiredDefault(desired, snap.backendRows(), opts)
		// Only backends with a row can be observed: on an uninitialised
		// database the assumed bootstrap backend has no row to open it by.
		exists := map[string]bool{}
		for _, b := range snap.Backends {
			exists[b.Name] = true
		}
		rows := make(map[string]string, len(snap.Secrets))
		for _, r := range snap.Secrets {
			rows[r.Name] = r.BackendName
		}
		for _, s := range desired.Secrets {
			want := s.Backend
			if want == "" {
				want = def
			}
			if have, ok := rows[s.Name]; (!ok || have != want) && exists[want] {
				targets[s.Name] = want
			}
		}
	}
	if err := observe(ctx, ds, snap, targets, opts.parallelism()); err != nil {
		return nil, Fingerprints{}, err
	}
	fp, err := fingerprints(ctx, st, snap, desired, opts)
	if err != nil {
		return nil, Fingerprints{}, err
	}
	return snap, fp, nil
}

// Refresh reads actual state again for the staleness check of a saved plan:
// the same reads as Gather, with the destinations the plan's creates and
// migrations observed, and no values or fingerprints.
func Refresh(ctx context.Context, st StateReader, ds DriverSource, p *Plan, opts Options) (*Snapshot, error) {
	snap, err := readState(ctx, st)
	if err != nil {
		return nil, err
	}
	targets := map[string]string{}
	exists := map[string]bool{}
	for _, b := range snap.Backends {
		exists[b.Name] = true
	}
	for _, a := range p.Actions {
		var to string
		switch {
		case a.Kind == KindSecret && a.Action == Create:
			to = a.After.Backend
		case a.Action == Migrate && a.Migration != nil:
			to = a.Migration.To
		}
		if to != "" && exists[to] {
			targets[a.Name] = to
		}
	}
	if err := observe(ctx, ds, snap, targets, opts.parallelism()); err != nil {
		return nil, err
	}
	return snap, nil
}

func readState(ctx context.Context, st StateReader) (*Snapshot, error) {
	backends, err := st.ListBackends(ctx)
	if err != nil {
		return nil, fmt.Errorf("read backends: %w", err)
	}
	secrets, err := st.ListSecrets(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	open, err := st.OpenMigrations(ctx)
	if err != nil {
		return nil, fmt.Errorf("read migration journal: %w", err)
	}
	kept, err := st.KeptCopies(ctx)
	if err != nil {
		return nil, fmt.Errorf("read migration journal: %w", err)
	}
	snap := &Snapshot{
		Backends:       backends,
		Secrets:        secrets,
		OpenMigrations: open,
		KeptCopies:     kept,
		Objects:        make(map[string]ObjectStatus, len(secrets)),
		Targets:        map[string]ObjectStatus{},
		Leftovers:      map[int64]ObjectStatus{},
	}
	// db migrate creates the bootstrap backend, and it cannot be deleted:
	// its row is the mark of an initialised database.
	for _, b := range backends {
		if b.Name == state.BootstrapBackend {
			snap.Initialized = true
		}
	}
	return snap, nil
}

// statJob is one object to observe. Its outcome goes to into (by ref) or,
// when into is nil, to intoID (by id), under the lock of the observation.
// A job is small and holds no closure of its own: a plan of 100,000
// secrets builds one per row.
type statJob struct {
	ref    drivers.Ref
	id     int64
	into   map[string]ObjectStatus
	intoID map[int64]ObjectStatus
	// expectAbsent marks where a secret is to be created or moved to:
	// usually nothing is there yet (see probeAbsent).
	expectAbsent bool
}

// statSink records the outcomes of one observation's jobs; the jobs of
// several backends record concurrently.
type statSink struct{ mu sync.Mutex }

func (s *statSink) record(j *statJob, o ObjectStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.into != nil {
		j.into[string(j.ref)] = o
		return
	}
	j.intoID[j.id] = o
}

// observe Stats every row's object, the given targets and the leftovers of
// open migrations, recording the outcomes in snap.
func observe(ctx context.Context, ds DriverSource, snap *Snapshot, targets map[string]string, parallelism int) error {
	sink := &statSink{}
	byBackend := map[string][]statJob{}
	add := func(backend string, j statJob) {
		byBackend[backend] = append(byBackend[backend], j)
	}
	for i := range snap.Secrets {
		r := &snap.Secrets[i]
		add(r.BackendName, statJob{ref: drivers.Ref(r.Name), into: snap.Objects})
	}
	for name, backend := range targets {
		add(backend, statJob{ref: drivers.Ref(name), into: snap.Targets, expectAbsent: true})
	}
	exists := map[string]bool{}
	for _, b := range snap.backendRows() {
		exists[b.Name] = true
	}
	for _, m := range snap.OpenMigrations {
		backend := m.FromBackend
		if m.State == state.MigrationStarted {
			backend = m.ToBackend
		}
		if exists[backend] {
			add(backend, statJob{ref: drivers.Ref(m.SecretName), id: m.ID, intoID: snap.Leftovers})
		}
	}
	for _, m := range snap.KeptCopies {
		if exists[m.FromBackend] {
			add(m.FromBackend, statJob{ref: drivers.Ref(m.SecretName), id: m.ID, intoID: snap.Leftovers})
		}
	}

	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for backend, jobs := range byBackend {
		wg.Go(func() { statBackend(ctx, ds, sink, backend, jobs, sem) })
	}
	wg.Wait()
	return ctx.Err()
}

// StatObjects observes the objects named on one backend the way planning
// does (one bulk Stat from bulkStatMin objects on, otherwise at most
// parallelism Stat calls at a time), never reading values. An absent object
// is State Absent; a failure is recorded per object in Err, so callers can
// report every one.
func StatObjects(ctx context.Context, ds DriverSource, backend string, names []string, parallelism int) map[string]ObjectStatus {
	out := make(map[string]ObjectStatus, len(names))
	if len(names) == 0 {
		return out
	}
	jobs := make([]statJob, 0, len(names))
	for _, n := range names {
		jobs = append(jobs, statJob{ref: drivers.Ref(n), into: out})
	}
	statBackend(ctx, ds, &statSink{}, backend, jobs, make(chan struct{}, max(parallelism, 1)))
	return out
}

// statBackend observes jobs, all on backend, holding a slot of sem for
// each call to the backend.
func statBackend(ctx context.Context, ds DriverSource, sink *statSink, backend string, jobs []statJob, sem chan struct{}) {
	failAll := func(err error) {
		for i := range jobs {
			sink.record(&jobs[i], ObjectStatus{Backend: backend, Err: err.Error()})
		}
	}
	sem <- struct{}{}
	drv, err := ds.Driver(ctx, backend)
	<-sem
	if err != nil {
		failAll(err)
		return
	}
	if bs, ok := drv.(drivers.BulkStreamer); ok && len(jobs) >= bulkStatMin {
		sem <- struct{}{}
		err := statStream(ctx, bs, sink, backend, jobs)
		<-sem
		switch {
		case err == nil:
			return
		case !errors.Is(err, drivers.ErrUnsupported):
			failAll(err)
			return
		}
	} else if bs, ok := drv.(drivers.BulkStater); ok && len(jobs) >= bulkStatMin {
		sem <- struct{}{}
		all, err := bs.StatAll(ctx)
		<-sem
		switch {
		case err == nil:
			for i := range jobs {
				meta, found := all[jobs[i].ref]
				if !found {
					meta = drivers.Meta{State: drivers.Absent}
				}
				sink.record(&jobs[i], ObjectStatus{Backend: backend, Meta: meta})
			}
			return
		case !errors.Is(err, drivers.ErrUnsupported):
			failAll(err)
			return
		}
	}
	jobs = probeAbsent(ctx, drv, sink, backend, jobs, sem)
	var wg sync.WaitGroup
	for i := range jobs {
		j := &jobs[i]
		if ctx.Err() != nil {
			sink.record(j, ObjectStatus{Backend: backend, Err: ctx.Err().Error()})
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			meta, err := drv.Stat(ctx, j.ref)
			switch {
			case errors.Is(err, drivers.ErrNotFound):
				sink.record(j, ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Absent}})
			case err != nil:
				sink.record(j, ObjectStatus{Backend: backend, Err: err.Error()})
			default:
				sink.record(j, ObjectStatus{Backend: backend, Meta: meta})
			}
		})
	}
	wg.Wait()
}

// probeAbsent records as absent, without a Stat each, the jobs expected to
// find nothing (creates, move destinations) whose object the driver's List
// does not return, when there are enough of them (listProbeMin) to make one
// listing of the prefix the cheaper way: planning 10,000 moves onto an
// empty Vault prefix is then one LIST instead of 10,000 metadata reads
// (Vault has no bulk metadata read; OpenBao's is used before this). It
// returns the jobs still to Stat. A listing that fails (a token without
// list capability, say) changes nothing: every job is Stat-ed as before.
//
// The listing is an observation like the Stats it replaces: Put checks the
// object again when it writes.
func probeAbsent(ctx context.Context, drv drivers.Driver, sink *statSink, backend string, jobs []statJob, sem chan struct{}) []statJob {
	want := map[drivers.Ref]bool{}
	for _, j := range jobs {
		if j.expectAbsent {
			want[j.ref] = false
		}
	}
	if len(want) < listProbeMin {
		return jobs
	}
	sem <- struct{}{}
	for ref, err := range drv.List(ctx) {
		if err != nil {
			<-sem
			return jobs
		}
		if _, ok := want[ref]; ok {
			want[ref] = true
		}
	}
	<-sem
	rest := jobs[:0:0]
	for i, j := range jobs {
		if listed, ok := want[j.ref]; ok && !listed && j.expectAbsent {
			sink.record(&jobs[i], ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Absent}})
			continue
		}
		rest = append(rest, j)
	}
	return rest
}

// statStream records the outcome of every job from one StatEach: the
// objects it reports, and Absent for the others. Only an index of the jobs
// is built, not a map of every object's metadata next to the snapshot's.
func statStream(ctx context.Context, bs drivers.BulkStreamer, sink *statSink, backend string, jobs []statJob) error {
	// first[ref] is the first job of ref, next[i] the job after i with the
	// same ref (the same name may be both a row's object and a leftover).
	first := make(map[drivers.Ref]int32, len(jobs))
	next := make([]int32, len(jobs))
	for i := len(jobs) - 1; i >= 0; i-- {
		next[i] = -1
		if j, ok := first[jobs[i].ref]; ok {
			next[i] = j
		}
		first[jobs[i].ref] = int32(i)
	}
	seen := make([]bool, len(jobs))
	err := bs.StatEach(ctx, func(ref drivers.Ref, meta drivers.Meta) {
		j, ok := first[ref]
		for ; ok && j >= 0; j = next[j] {
			seen[j] = true
			sink.record(&jobs[j], ObjectStatus{Backend: backend, Meta: meta})
		}
	})
	if err != nil {
		return err
	}
	for i := range jobs {
		if !seen[i] {
			sink.record(&jobs[i], ObjectStatus{Backend: backend, Meta: drivers.Meta{State: drivers.Absent}})
		}
	}
	return nil
}

// fingerprints computes the desired fingerprints, or says why it cannot.
func fingerprints(ctx context.Context, st StateReader, snap *Snapshot, desired *manifest.Set, opts Options) (Fingerprints, error) {
	var managed []*manifest.Secret
	if desired != nil {
		for i := range desired.Secrets {
			if desired.Secrets[i].Data != nil {
				managed = append(managed, &desired.Secrets[i])
			}
		}
	}
	if len(managed) == 0 {
		return Fingerprints{ByName: map[string]string{}}, nil
	}
	var key []byte
	unknown := ""
	if !snap.Initialized {
		// Nothing to compare with yet; apply computes the fingerprints once
		// its migration has created the key. The values are still resolved
		// below: an unset fromEnv is an error at plan time (DESIGN.md §2).
		unknown = "the database is not initialised yet"
	} else {
		var err error
		key, err = st.FingerprintKey(ctx)
		switch {
		case errors.Is(err, state.ErrPermissionDenied):
			// A viewer (plan/drift job) is not expected to have the values'
			// sources in its environment: nothing is resolved.
			return Fingerprints{Unknown: true, UnknownReason: "this database role may not read the fingerprint key (viewer role)"}, nil
		case errors.Is(err, state.ErrNotInitialized):
			unknown = "the database has no fingerprint key yet"
		case err != nil:
			return Fingerprints{}, fmt.Errorf("read fingerprint key: %w", err)
		}
	}
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	fp := Fingerprints{ByName: make(map[string]string, len(managed))}
	var errs []error
	for _, s := range managed {
		v, err := s.Resolve(lookup)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if key != nil {
			fp.ByName[s.Name] = Fingerprint(key, v)
		}
	}
	if len(errs) > 0 {
		return Fingerprints{}, errors.Join(errs...)
	}
	if unknown != "" {
		return Fingerprints{Unknown: true, UnknownReason: unknown}, nil
	}
	return fp, nil
}
