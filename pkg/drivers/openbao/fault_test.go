package openbao

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/drivers/drivertest"
)

// Fault tests: a proxy in front of the real Vault injects 429/500/503/501,
// connection resets, lost responses and slow answers on chosen requests.
// Each asserts the retries that happened (at the proxy), that no duplicate
// KV version appeared (in Vault's own metadata), that the final error says
// what was tried, and that no value leaked into errors or logs.

// faultEnv is a store with one created object "obj" at version 1.
type faultEnv struct {
	s      *store
	d      *Driver
	owner  string
	values []string
}

func newFaultEnv(t *testing.T, mutate ...func(map[string]any)) *faultEnv {
	t.Helper()
	f := newVaultFixture(t)
	s := f.newStore(t)
	e := &faultEnv{s: s, d: s.open(t, mutate...), owner: drivertest.NewID()}
	t.Cleanup(func() { assertNoLeak(t, e.values, s.logs.String()) })
	if _, err := e.d.Put(context.Background(), "obj", e.secret(), drivers.PutOptions{OwnerID: e.owner}); err != nil {
		t.Fatalf("setup put: %v", err)
	}
	return e
}

func (e *faultEnv) secret() drivers.Values {
	v := drivertest.Marker("fault")
	e.values = append(e.values, v)
	return vals(map[string]string{"TOKEN": v})
}

func (e *faultEnv) put(t *testing.T, ref string, cas int64) (drivers.Meta, error) {
	t.Helper()
	m, err := e.d.Put(context.Background(), drivers.Ref(ref), e.secret(), drivers.PutOptions{CAS: cas, OwnerID: e.owner})
	assertNoLeak(t, e.values, errText(err))
	return m, err
}

// wantVersions fails unless the object has exactly n versions, the last
// one current: no write was duplicated.
func (e *faultEnv) wantVersions(t *testing.T, ref string, n int64) {
	t.Helper()
	cur, count, _ := e.s.metadata(t, ref)
	if cur != n || int64(count) != n {
		t.Fatalf("%s: current version %d with %d versions, want exactly %d (a retried write was duplicated or lost)", ref, cur, count, n)
	}
}

func TestFault429HonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("PUT", "/data/", 1, status(http.StatusTooManyRequests, "Retry-After", "1"))
	m, err := e.put(t, "obj", 1)
	if err != nil {
		t.Fatalf("put through a 429: %v", err)
	}
	puts := e.s.proxy.requests("PUT", "/data/"+e.s.prefix+"/obj")
	// The setup's create and the two attempts of the update.
	if len(puts) != 3 || m.Version != 2 {
		t.Fatalf("saw %d data writes and version %d, want 3 writes (create, 429, retry) and version 2", len(puts), m.Version)
	}
	// The backoff in tests is at most 50ms; only Retry-After explains a
	// second between the attempts.
	if gap := puts[2].at.Sub(puts[1].at); gap < 900*time.Millisecond {
		t.Fatalf("retried %s after a 429 with Retry-After: 1", gap)
	}
	e.wantVersions(t, "obj", 2)
}

func TestFault500And503AreRetried(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("GET", "/metadata/", 1, status(http.StatusInternalServerError))
	e.s.proxy.inject("GET", "/metadata/", 1, status(http.StatusServiceUnavailable))
	before := e.s.proxy.count("GET", "/metadata/")
	m, err := e.d.Stat(context.Background(), "obj")
	if err != nil || m.Version != 1 {
		t.Fatalf("Stat through 500 and 503: %+v, %v", m, err)
	}
	if n := e.s.proxy.count("GET", "/metadata/") - before; n != 3 {
		t.Fatalf("%d metadata reads, want 3 (500, 503, success)", n)
	}
}

func TestFault412IsRetriedAnd501IsNot(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("GET", "/metadata/", 1, status(http.StatusPreconditionFailed))
	if _, err := e.d.Stat(context.Background(), "obj"); err != nil {
		t.Fatalf("Stat through a 412: %v", err)
	}
	e.s.proxy.inject("GET", "/metadata/", -1, status(http.StatusNotImplemented))
	before := e.s.proxy.count("GET", "/metadata/")
	_, err := e.d.Stat(context.Background(), "obj")
	if err == nil || !strings.Contains(err.Error(), "501 Not Implemented") {
		t.Fatalf("Stat through a 501: %v, want an error naming the 501", err)
	}
	if n := e.s.proxy.count("GET", "/metadata/") - before; n != 1 {
		t.Fatalf("a 501 was tried %d times, want once", n)
	}
}

func TestFaultExhaustedRetriesSayWhatWasTried(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, func(c map[string]any) { c["maxRetries"] = 3 })
	e.s.proxy.inject("PUT", "/data/", -1, status(http.StatusServiceUnavailable))
	_, err := e.put(t, "obj", 1)
	if !errors.Is(err, drivers.ErrUnavailable) {
		t.Fatalf("put against a down server: %v, want ErrUnavailable", err)
	}
	// backend bao: put obj: backend unavailable: 4 attempts over 0.1s: PUT <mount>/data/<prefix>/obj: 503 Service Unavailable: injected by the test proxy
	re := regexp.MustCompile(`^backend bao: put obj: backend unavailable: 4 attempts over [0-9.]+m?s: PUT ` +
		regexp.QuoteMeta(e.s.kvPath("data", "obj")) + `: 503 Service Unavailable: injected by the test proxy$`)
	if !re.MatchString(err.Error()) {
		t.Fatalf("error %q does not match %s", err, re)
	}
	if n := e.s.proxy.count("PUT", "/data/"+e.s.prefix+"/obj"); n != 1+4 {
		t.Fatalf("%d data writes seen, want 1 (setup) + 4 attempts", n)
	}
	e.wantVersions(t, "obj", 1)
}

func TestFaultMixedOutcomesAreSummarised(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, func(c map[string]any) { c["maxRetries"] = 2 })
	e.s.proxy.inject("GET", "/metadata/", 1, status(http.StatusTooManyRequests))
	e.s.proxy.inject("GET", "/metadata/", 1, status(http.StatusBadGateway))
	e.s.proxy.inject("GET", "/metadata/", 1, status(http.StatusBadGateway))
	_, err := e.d.Stat(context.Background(), "obj")
	if err == nil || !strings.Contains(err.Error(), "3 attempts over") || !strings.Contains(err.Error(), "(429 ×1, 502 ×2)") ||
		!strings.HasSuffix(err.Error(), "502 Bad Gateway: injected by the test proxy") {
		t.Fatalf("error %v does not summarise 429 ×1, 502 ×2", err)
	}
}

func TestFaultConnectionResetBeforeWrite(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("PUT", "/data/", 2, reset())
	m, err := e.put(t, "obj", 1)
	if err != nil || m.Version != 2 {
		t.Fatalf("put through two resets: %+v, %v", m, err)
	}
	if n := e.s.proxy.count("PUT", "/data/"+e.s.prefix+"/obj"); n != 1+3 {
		t.Fatalf("%d data writes seen, want 1 (setup) + 3 attempts", n)
	}
	// Before each resend the driver checked that nothing had landed.
	if n := e.s.proxy.count("GET", "/subkeys/"); n != 0 {
		t.Fatalf("%d subkeys reads: nothing landed, so none were needed", n)
	}
	e.wantVersions(t, "obj", 2)
}

// The write reaches Vault and takes effect, but the response is lost: the
// retry must recognise it rather than write the version again.
func TestFaultLostResponseIsNotWrittenTwice(t *testing.T) {
	t.Parallel()
	for name, then := range map[string]func(*proxy, http.ResponseWriter, *http.Request) bool{
		"reset":   reset(),
		"500":     status(http.StatusInternalServerError),
		"503":     status(http.StatusServiceUnavailable, "Retry-After", "0"),
		"timeout": hold(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newFaultEnv(t, func(c map[string]any) { c["timeout"] = "2s" })
			e.s.proxy.inject("PUT", "/data/", 1, forwardThen(then))
			m, err := e.put(t, "obj", 1)
			if err != nil || m.Version != 2 {
				t.Fatalf("put with a lost response: %+v, %v", m, err)
			}
			if n := e.s.proxy.forwarded("PUT", "/data/"+e.s.prefix+"/obj"); n != 2 {
				t.Fatalf("%d data writes reached Vault, want 2 (setup + the update, not repeated)", n)
			}
			e.wantVersions(t, "obj", 2)
			st, err := e.d.Stat(context.Background(), "obj")
			if err != nil || st.Version != 2 || len(st.Keys) != 1 {
				t.Fatalf("Stat after reconciliation = %+v, %v", st, err)
			}
			if !strings.Contains(e.s.logs.String(), "already succeeded") {
				t.Fatal("the reconciliation was not logged")
			}
		})
	}
}

// A lost response on a create (cas=0) is the case that matters most: a
// duplicate there would be a CAS conflict on our own write.
func TestFaultLostResponseOnCreate(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("PUT", "/data/", 1, forwardThen(reset()))
	m, err := e.put(t, "fresh", 0)
	if err != nil || m.Version != 1 {
		t.Fatalf("create with a lost response: %+v, %v", m, err)
	}
	e.wantVersions(t, "fresh", 1)
	_, _, custom := e.s.metadata(t, "fresh")
	if custom["secret-id"] != e.owner || custom["keys-version"] != "1" || custom["keys"] != "TOKEN" {
		t.Fatalf("custom_metadata after a reconciled create = %v", custom)
	}
}

// If someone else wrote between our lost write and the retry, the retry
// must not claim their version as ours.
func TestFaultLostResponseThenOtherWriter(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("PUT", "/data/", 1, func(p *proxy, w http.ResponseWriter, r *http.Request) bool {
		// Our write is dropped, and a foreign writer lands version 2
		// with other key names before the driver looks again.
		e.s.writeForeign(t, "obj", map[string]string{"OTHER": "x"})
		hijackClose(w)
		return false
	})
	_, err := e.put(t, "obj", 1)
	if !errors.Is(err, drivers.ErrCASConflict) {
		t.Fatalf("retry after a foreign write: %v, want a CAS conflict", err)
	}
	e.wantVersions(t, "obj", 2)
}

func TestFaultSlowResponseTimesOutAndRetries(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, func(c map[string]any) { c["timeout"] = "1s" })
	e.s.proxy.inject("GET", "/metadata/", 2, hold())
	m, err := e.d.Stat(context.Background(), "obj")
	if err != nil || m.Version != 1 {
		t.Fatalf("Stat through two slow answers: %+v, %v", m, err)
	}
	if n := e.s.proxy.count("GET", "/metadata/"+e.s.prefix+"/obj"); n < 3 {
		t.Fatalf("%d metadata reads, want at least 3", n)
	}

	e.s.proxy.inject("GET", "/metadata/", -1, hold())
	_, err = e.d.Stat(context.Background(), "obj")
	if !errors.Is(err, drivers.ErrUnavailable) || !strings.Contains(err.Error(), "no response within 1s") ||
		!strings.Contains(err.Error(), "5 attempts") {
		t.Fatalf("Stat against a hung server: %v, want 5 attempts ending in no response within 1s", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatal("an attempt timeout must not look like the caller's deadline")
	}
}

func TestFaultSlowButAnsweringServerIsWaitedFor(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, func(c map[string]any) { c["timeout"] = "20s" })
	e.s.proxy.inject("GET", "/metadata/", 1, delay(300*time.Millisecond))
	before := e.s.proxy.count("GET", "/metadata/")
	if _, err := e.d.Stat(context.Background(), "obj"); err != nil {
		t.Fatal(err)
	}
	if n := e.s.proxy.count("GET", "/metadata/") - before; n != 1 {
		t.Fatalf("%d metadata reads for a slow answer within the timeout, want 1", n)
	}
}

func TestFaultResetOnReads(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("GET", "/metadata/", 3, reset())
	if m, err := e.d.Stat(context.Background(), "obj"); err != nil || m.Version != 1 {
		t.Fatalf("Stat through resets: %+v, %v", m, err)
	}
	e.s.proxy.inject("LIST", "/metadata/", -1, reset())
	var err error
	for _, lerr := range e.d.List(context.Background()) {
		if lerr != nil {
			err = lerr
			break
		}
	}
	if !errors.Is(err, drivers.ErrUnavailable) || !strings.Contains(err.Error(), "connection closed by the server") {
		t.Fatalf("List against a server resetting every connection: %v", err)
	}
}

func TestFaultRetryAfterBeyondDeadlineGivesUpAtOnce(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("GET", "/metadata/", -1, status(http.StatusTooManyRequests, "Retry-After", "20"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := e.d.Stat(ctx, "obj")
	if err == nil || !strings.Contains(err.Error(), "past the deadline") || !strings.Contains(err.Error(), "1 attempt ") {
		t.Fatalf("Stat with Retry-After past the deadline: %v", err)
	}
}

func TestFaultCancelledWhileBackingOff(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	e.s.proxy.inject("GET", "/metadata/", -1, status(http.StatusTooManyRequests, "Retry-After", "30"))
	ctx, cancel := context.WithCancel(context.Background())
	before := e.s.proxy.count("GET", "/metadata/")
	go func() {
		// Cancel once the first attempt got its 429.
		for e.s.proxy.count("GET", "/metadata/") <= before {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	_, err := e.d.Stat(ctx, "obj")
	if !errors.Is(err, context.Canceled) || errors.Is(err, drivers.ErrUnavailable) {
		t.Fatalf("Stat cancelled during a backoff: %v, want context.Canceled and not ErrUnavailable", err)
	}
}

// Under faults on every kind of request, a sequence of writes ends with one
// version per successful write.
func TestFaultNoDuplicateVersionsUnderMixedFaults(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t, func(c map[string]any) { c["timeout"] = "2s"; c["maxRetries"] = 8 })
	e.s.proxy.inject("PUT", "/data/", 2, forwardThen(reset()))
	e.s.proxy.inject("PUT", "/metadata/", 2, status(http.StatusServiceUnavailable))
	e.s.proxy.inject("GET", "/metadata/", 3, reset())
	e.s.proxy.inject("GET", "/subkeys/", 1, status(http.StatusInternalServerError))
	version := int64(1)
	for range 5 {
		m, err := e.put(t, "obj", version)
		if err != nil {
			t.Fatalf("put after version %d: %v", version, err)
		}
		if m.Version != version+1 {
			t.Fatalf("put after version %d returned version %d", version, m.Version)
		}
		version = m.Version
	}
	e.wantVersions(t, "obj", 6)
}
