package openbao

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxy is an in-process reverse proxy in front of the real Vault. It
// records every request it receives and can inject faults on chosen ones:
// a status instead of forwarding, a connection reset, a response held until
// the client gives up, or any of these after the request reached Vault (a
// lost response).
type proxy struct {
	srv *httptest.Server
	rp  *httputil.ReverseProxy

	mu     sync.Mutex
	seen   []seen
	faults []*fault
	// arrived is closed and replaced at each request, so tests wait for
	// requests as events (waitCount) instead of polling with sleeps.
	arrived chan struct{}
}

// seen is one request the proxy received.
type seen struct {
	method    string // LIST for GET ?list=true, as Vault sees it
	path      string // without /v1/
	query     url.Values
	namespace string
	forwarded bool // it reached Vault
	at        time.Time
}

// fault is one injected behaviour for requests matching method and path.
type fault struct {
	method string // "" any; LIST matches GET ?list=true
	path   string // substring of the path; "" any
	times  int    // how many matching requests to affect; < 0 all
	do     func(p *proxy, w http.ResponseWriter, r *http.Request) (forwarded bool)
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{rp: httputil.NewSingleHostReverseProxy(u), arrived: make(chan struct{})}
	p.rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64, MaxIdleConns: 64}
	p.rp.ErrorLog = nil
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *proxy) URL() string { return p.srv.URL }

func vaultMethod(r *http.Request) string {
	if r.Method == http.MethodGet && r.URL.Query().Get("list") == "true" {
		return "LIST"
	}
	return r.Method
}

func (p *proxy) serve(w http.ResponseWriter, r *http.Request) {
	s := seen{
		method:    vaultMethod(r),
		path:      strings.TrimPrefix(r.URL.Path, "/v1/"),
		query:     r.URL.Query(),
		namespace: r.Header.Get("X-Vault-Namespace"),
		at:        time.Now(),
	}
	p.mu.Lock()
	var f *fault
	for _, c := range p.faults {
		if c.times != 0 && (c.method == "" || c.method == s.method) && strings.Contains(s.path, c.path) {
			if c.times > 0 {
				c.times--
			}
			f = c
			break
		}
	}
	p.mu.Unlock()
	if f != nil {
		s.forwarded = f.do(p, w, r)
	} else {
		p.rp.ServeHTTP(w, r)
		s.forwarded = true
	}
	p.mu.Lock()
	p.seen = append(p.seen, s)
	close(p.arrived)
	p.arrived = make(chan struct{})
	p.mu.Unlock()
}

// waitCount waits until n requests matching method and path have been
// seen. It synchronises, it does not time anything: the bound only keeps a
// broken driver from hanging the suite.
func (p *proxy) waitCount(t *testing.T, method, path string, n int) {
	t.Helper()
	bound := time.After(time.Minute)
	for {
		p.mu.Lock()
		next := p.arrived
		p.mu.Unlock()
		if p.count(method, path) >= n {
			return
		}
		select {
		case <-next:
		case <-bound:
			t.Fatalf("waited a minute for %d %s %s requests; saw %d", n, method, path, p.count(method, path))
		}
	}
}

// inject adds a fault; earlier faults match first.
func (p *proxy) inject(method, path string, times int, do func(p *proxy, w http.ResponseWriter, r *http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &fault{method: method, path: path, times: times, do: do})
}

// requests returns the requests seen so far matching method and path
// substring ("" matches any).
func (p *proxy) requests(method, path string) []seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []seen
	for _, s := range p.seen {
		if (method == "" || s.method == method) && strings.Contains(s.path, path) {
			out = append(out, s)
		}
	}
	return out
}

func (p *proxy) count(method, path string) int { return len(p.requests(method, path)) }

func (p *proxy) forwarded(method, path string) int {
	n := 0
	for _, s := range p.requests(method, path) {
		if s.forwarded {
			n++
		}
	}
	return n
}

// Fault behaviours.

// status answers with code (and headers) without forwarding.
func status(code int, header ...string) func(*proxy, http.ResponseWriter, *http.Request) bool {
	return func(_ *proxy, w http.ResponseWriter, _ *http.Request) bool {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"errors":["injected by the test proxy"]}`))
		return false
	}
}

// reset closes the connection without answering and without forwarding.
func reset() func(*proxy, http.ResponseWriter, *http.Request) bool {
	return func(_ *proxy, w http.ResponseWriter, _ *http.Request) bool {
		hijackClose(w)
		return false
	}
}

// forwardThen sends the request to Vault (it takes effect), throws the
// answer away and then behaves like then: the client never learns that its
// request succeeded.
func forwardThen(then func(*proxy, http.ResponseWriter, *http.Request) bool) func(*proxy, http.ResponseWriter, *http.Request) bool {
	return func(p *proxy, w http.ResponseWriter, r *http.Request) bool {
		p.rp.ServeHTTP(httptest.NewRecorder(), r)
		then(p, w, r)
		return true
	}
}

// hold keeps the request until the client gives up (its attempt timeout),
// then drops it: a server too slow to answer. Nothing is forwarded.
func hold() func(*proxy, http.ResponseWriter, *http.Request) bool {
	return func(_ *proxy, _ http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return false
	}
}

// delay forwards the request after d, a slow but answering server.
func delay(d time.Duration) func(*proxy, http.ResponseWriter, *http.Request) bool {
	return func(p *proxy, w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return false
		}
		p.rp.ServeHTTP(w, r)
		return true
	}
}

func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("test proxy: connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}
