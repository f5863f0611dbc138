package openbao

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// conn is the driver's HTTP side: one vault/api client over one keep-alive
// transport, with vault/api's own retries off so that retry semantics are
// exactly ours (which statuses, Retry-After, reconciling non-idempotent
// writes, what the final error says).
type conn struct {
	api        *vault.Client
	httpClient *http.Client
	timeout    time.Duration
	maxRetries int
	log        *slog.Logger

	// Backoff between attempts: base·2^(n-1), capped, with full jitter.
	// Tests shorten them.
	backoffBase time.Duration
	backoffMax  time.Duration
	// retryAfterMax caps how long a Retry-After may make us wait.
	retryAfterMax time.Duration
}

// maxBody bounds what we read of one response (a KV v2 object is at most
// what the server accepts in a request, 32 MiB by default).
const maxBody = 64 << 20

func newConn(c Config, log *slog.Logger) (*conn, error) {
	tlsConf, err := c.TLS.build()
	if err != nil {
		return nil, err
	}
	if c.TLS.InsecureSkipVerify {
		log.Warn("TLS certificate verification is disabled (tls.insecureSkipVerify); anyone on the path can read secret values")
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Plan and apply fan out to the same server; without a pool this
		// large, parallel calls would open and drop connections.
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	hc := &http.Client{
		Transport: tr,
		// vault/api follows Vault's standby redirects itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	cfg := &vault.Config{
		Address:    c.URL,
		HttpClient: hc,
		MaxRetries: 0,
		// Never retry inside vault/api: a "retry" verdict there with no
		// retries left also drops the pool's idle connections.
		CheckRetry: func(context.Context, *http.Response, error) (bool, error) { return false, nil },
		// Timeouts are per attempt and set by do; a client-wide one would
		// also cut the renewer's calls.
		Timeout: 0,
	}
	client, err := vault.NewClient(cfg)
	if err != nil {
		return nil, invalid("url %q: %v", c.URL, err)
	}
	// NewClient picks VAULT_TOKEN and VAULT_NAMESPACE from the environment;
	// the config says which token and namespace we use.
	client.ClearToken()
	client.ClearNamespace()
	if c.Namespace != "" {
		client.SetNamespace(c.Namespace)
	}
	return &conn{
		api:           client,
		httpClient:    hc,
		timeout:       time.Duration(c.Timeout),
		maxRetries:    *c.MaxRetries,
		log:           log,
		backoffBase:   200 * time.Millisecond,
		backoffMax:    5 * time.Second,
		retryAfterMax: 30 * time.Second,
	}, nil
}

func (t TLSConfig) build() (*tls.Config, error) {
	conf := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // opt-in, warned about
	}
	if t.CACertFile != "" {
		pem, err := os.ReadFile(t.CACertFile)
		if err != nil {
			return nil, invalid("tls.caCertFile: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, invalid("tls.caCertFile %s: no PEM certificate found", t.CACertFile)
		}
		conf.RootCAs = pool
	}
	if t.ClientCertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.ClientCertFile, t.ClientKeyFile)
		if err != nil {
			return nil, invalid("tls.clientCertFile/clientKeyFile: %v", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// request is one logical call to the server.
type request struct {
	method string // GET, LIST, PUT, DELETE
	path   string // without the /v1/ prefix
	query  url.Values
	body   any // JSON-encoded when set
	// reconcile, when set, marks a request that is not safe to repeat: it
	// runs before every retry and may decide that an earlier attempt took
	// effect (done) or that retrying is wrong (err).
	reconcile func(ctx context.Context) (done *response, err error)
}

func (r request) String() string { return r.method + " " + r.path }

// response is a complete response: status, headers, body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorsList returns the "errors" array of a Vault error body.
func (r *response) errorsList() []string {
	var e struct {
		Errors []string `json:"errors"`
	}
	if json.Unmarshal(r.body, &e) != nil {
		return nil
	}
	return e.Errors
}

// describe is "503 Service Unavailable: <server's errors>", for messages.
func (r *response) describe() string {
	s := strconv.Itoa(r.status) + " " + http.StatusText(r.status)
	if errs := r.errorsList(); len(errs) > 0 {
		msg := strings.Join(errs, "; ")
		msg = strings.Join(strings.Fields(msg), " ")
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		s += ": " + msg
	}
	return s
}

// decode unmarshals the response's "data" field into out, in one pass
// over the body: out sits in the envelope's field, so the decoder fills it
// directly. Decoding the envelope into a json.RawMessage first and the
// data after, as before, scanned the data twice more; a plan of 10,000
// Vault secrets decodes 10,000 of these (26 µs -> 17 µs each).
func (r *response) decode(out any) error {
	// A response without the field at all is caught before decoding: the
	// decoder would leave out as it was.
	if !bytes.Contains(r.body, []byte(`"data"`)) {
		return errors.New("decoding response: no data")
	}
	env := struct {
		Data any `json:"data"`
	}{Data: out}
	if err := json.Unmarshal(r.body, &env); err != nil {
		return fmt.Errorf("decoding response: %w", err)
	}
	if env.Data == nil { // "data": null
		return errors.New("decoding response: no data")
	}
	return nil
}

// callError is the error after the last attempt: what was tried, for how
// long, and how each attempt failed.
type callError struct {
	req      string
	attempts int
	elapsed  time.Duration
	outcomes []string // one per failed attempt
	last     string
	cause    error // the last transport error or ctx error, if any
}

func (e *callError) Error() string {
	plural := "s"
	if e.attempts == 1 {
		plural = ""
	}
	s := fmt.Sprintf("%d attempt%s over %s", e.attempts, plural, e.elapsed.Round(100*time.Millisecond))
	if sum := summarize(e.outcomes); sum != "" {
		s += " (" + sum + ")"
	}
	return s + ": " + e.req + ": " + e.last
}

func (e *callError) Unwrap() error { return e.cause }

// summarize counts distinct outcomes when the attempts did not all fail the
// same way: "429 ×2, 503 ×1".
func summarize(outcomes []string) string {
	counts := map[string]int{}
	var order []string
	for _, o := range outcomes {
		if counts[o] == 0 {
			order = append(order, o)
		}
		counts[o]++
	}
	if len(order) < 2 {
		return ""
	}
	parts := make([]string, len(order))
	for i, o := range order {
		parts[i] = fmt.Sprintf("%s ×%d", o, counts[o])
	}
	return strings.Join(parts, ", ")
}

// do runs r until it gets a final response or runs out of attempts. A final
// response is returned whatever its status (callers interpret 404, 400...);
// an error means no final response was had: the retries were exhausted, the
// context ended, or the request could not be sent.
func (c *conn) do(ctx context.Context, r request) (*response, error) {
	start := time.Now()
	var outcomes []string
	fail := func(last string, cause error) error {
		return &callError{req: r.String(), attempts: len(outcomes), elapsed: time.Since(start),
			outcomes: outcomes, last: last, cause: cause}
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			if attempt == 1 {
				return nil, fmt.Errorf("%s: %w", r, err)
			}
			return nil, fail(outcomes[len(outcomes)-1]+"; then "+err.Error(), err)
		}
		var (
			resp *response
			err  error
		)
		if attempt > 1 && r.reconcile != nil {
			var done *response
			done, err = r.reconcile(ctx)
			if done != nil {
				return done, nil
			}
			if err != nil && !errors.As(err, new(*retryableError)) {
				return nil, err
			}
		}
		if err == nil {
			resp, err = c.once(ctx, r)
		}
		outcome, retry, wait := c.classify(ctx, resp, err)
		if !retry {
			if err != nil {
				outcomes = append(outcomes, outcome)
				return nil, fail(describeErr(err), err)
			}
			return resp, nil
		}
		outcomes = append(outcomes, outcome)
		if attempt > c.maxRetries {
			if err != nil {
				return nil, fail(describeErr(err), err)
			}
			return nil, fail(resp.describe(), nil)
		}
		if wait == 0 {
			wait = c.backoff(attempt)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			last := outcome
			if resp != nil {
				last = resp.describe()
			}
			return nil, fail(last+fmt.Sprintf("; not retrying: next attempt in %s is past the deadline", wait.Round(time.Millisecond)), err)
		}
		c.log.Debug("retrying call", "request", r.String(), "attempt", attempt, "outcome", outcome, "wait", wait)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
		}
	}
}

// retryableError marks a reconcile failure that should be retried like a
// failed attempt.
type retryableError struct {
	outcome string
	err     error
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// once sends one attempt with its own timeout and reads the whole response.
func (c *conn) once(ctx context.Context, r request) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
	}
	lg := c.api.Logical()
	var (
		resp *vault.Response
		err  error
	)
	switch r.method {
	case http.MethodGet:
		resp, err = lg.ReadRawWithDataWithContext(actx, r.path, r.query)
	case "LIST":
		q := url.Values{}
		for k, v := range r.query {
			q[k] = v
		}
		q.Set("list", "true")
		resp, err = lg.ReadRawWithDataWithContext(actx, r.path, q)
	case http.MethodPut:
		resp, err = lg.WriteRawWithContext(actx, r.path, body)
	case http.MethodDelete:
		resp, err = lg.DeleteRawWithContext(actx, r.path)
	default:
		return nil, fmt.Errorf("unsupported method %s", r.method)
	}
	if resp == nil {
		if err == nil {
			err = errors.New("no response")
		}
		// An attempt that ran out of its own time is a timeout, not the
		// caller's cancellation.
		if actx.Err() != nil && ctx.Err() == nil {
			err = &attemptTimeout{after: c.timeout, err: err}
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if rerr != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return nil, &attemptTimeout{after: c.timeout, err: rerr}
		}
		return nil, rerr
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// attemptTimeout is one attempt running past the configured timeout.
type attemptTimeout struct {
	after time.Duration
	err   error
}

// No Unwrap: the context.DeadlineExceeded inside is the attempt's own, and
// callers testing for their context's deadline must not see it.
func (e *attemptTimeout) Error() string { return fmt.Sprintf("no response within %s", e.after) }

// classify decides whether an attempt is worth repeating, names its outcome
// for the final error, and returns the server's Retry-After when it gave one.
func (c *conn) classify(ctx context.Context, resp *response, err error) (outcome string, retry bool, wait time.Duration) {
	if err != nil {
		if ctx.Err() != nil {
			return "cancelled", false, 0
		}
		if re, ok := errors.AsType[*retryableError](err); ok {
			return re.outcome, true, 0
		}
		return shortErr(err), retryableTransport(err), 0
	}
	outcome = strconv.Itoa(resp.status)
	switch s := resp.status; {
	case s == http.StatusPreconditionFailed, // a standby not yet caught up
		s == http.StatusTooManyRequests,
		s >= 500 && s != http.StatusNotImplemented:
		return outcome, true, c.retryAfter(resp.header)
	}
	return outcome, false, 0
}

func (c *conn) retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = time.Until(t)
	}
	if d <= 0 {
		return 0
	}
	return min(d, c.retryAfterMax)
}

func (c *conn) backoff(attempt int) time.Duration {
	d := c.backoffBase << min(attempt-1, 16)
	if d > c.backoffMax || d <= 0 {
		d = c.backoffMax
	}
	// Full jitter over [d/2, d): parallel callers hit by the same outage
	// spread out instead of returning in lockstep.
	return d/2 + rand.N(d/2+1)
}

// retryableTransport reports whether a transport error may go away: the
// connection was reset or refused, or the attempt timed out. TLS, DNS and
// URL errors will not.
func retryableTransport(err error) bool {
	var to *attemptTimeout
	if errors.As(err, &to) {
		return true
	}
	var ce *tls.CertificateVerificationError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &ce) || errors.As(err, &ue) || errors.As(err, &he) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTimeout || dns.IsTemporary
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	msg := err.Error()
	return slices.ContainsFunc([]string{"connection reset", "server closed idle connection", "broken pipe", "transport connection broken"},
		func(s string) bool { return strings.Contains(msg, s) })
}

// shortErr names a transport failure in a few words for attempt summaries.
func shortErr(err error) string {
	var to *attemptTimeout
	switch {
	case errors.As(err, &to):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		strings.Contains(err.Error(), "connection reset"):
		return "connection reset"
	}
	return "transport error"
}

// describeErr is a transport error without the URL vault/api and net/http
// put in front of it (the request is named separately).
func describeErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		s = "connection closed by the server before a response (" + s + ")"
	}
	return s
}
