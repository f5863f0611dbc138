package openbao

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	c := &conn{retryAfterMax: 30 * time.Second}
	ctx := context.Background()
	for _, tc := range []struct {
		status int
		header string
		retry  bool
		wait   time.Duration
	}{
		{200, "", false, 0},
		{400, "", false, 0},
		{403, "", false, 0},
		{404, "", false, 0},
		{412, "", true, 0},
		{429, "3", true, 3 * time.Second},
		{429, "120", true, 30 * time.Second},
		{500, "", true, 0},
		{501, "", false, 0},
		{502, "", true, 0},
		{503, "1", true, time.Second},
		{503, "soon", true, 0},
		{504, "", true, 0},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		_, retry, wait := c.classify(ctx, &response{status: tc.status, header: h}, nil)
		if retry != tc.retry || wait != tc.wait {
			t.Errorf("status %d Retry-After %q: retry %v wait %s, want %v %s", tc.status, tc.header, retry, wait, tc.retry, tc.wait)
		}
	}
	h := http.Header{"Retry-After": {time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat)}}
	if _, _, wait := c.classify(ctx, &response{status: 503, header: h}, nil); wait < 3*time.Second || wait > 5*time.Second {
		t.Errorf("Retry-After as an HTTP date 5s ahead: wait %s", wait)
	}
}

func TestRetryableTransport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err   error
		retry bool
	}{
		{fmt.Errorf("put: %w", io.EOF), true},
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{syscall.ECONNREFUSED, true},
		{&attemptTimeout{after: time.Second}, true},
		{errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"), false},
		{errors.New("unsupported protocol scheme"), false},
	} {
		if got := retryableTransport(tc.err); got != tc.retry {
			t.Errorf("%v: retryable %v, want %v", tc.err, got, tc.retry)
		}
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	t.Parallel()
	c := &conn{backoffBase: 200 * time.Millisecond, backoffMax: 5 * time.Second}
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt <= 40; attempt++ {
		d := c.backoff(attempt)
		ceiling := min(200*time.Millisecond<<min(attempt-1, 16), 5*time.Second)
		if d < ceiling/2 || d > ceiling {
			t.Fatalf("attempt %d: backoff %s outside [%s, %s]", attempt, d, ceiling/2, ceiling)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct backoffs in 40: no jitter", len(seen))
	}
}

func TestCallErrorMessage(t *testing.T) {
	t.Parallel()
	e := &callError{req: "PUT secret/data/mcpctl/openai", attempts: 5, elapsed: 3240 * time.Millisecond,
		outcomes: []string{"503", "503", "503", "503", "503"}, last: "503 Service Unavailable"}
	if got, want := e.Error(), "5 attempts over 3.2s: PUT secret/data/mcpctl/openai: 503 Service Unavailable"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	e.outcomes = []string{"429", "connection reset", "503"}
	e.attempts = 3
	if got := e.Error(); !strings.Contains(got, "3 attempts over 3.2s (429 ×1, connection reset ×1, 503 ×1)") {
		t.Fatalf("mixed outcomes: %q", got)
	}
}

func TestResponseDescribe(t *testing.T) {
	t.Parallel()
	r := &response{status: 400, body: []byte(`{"errors":["1 error occurred:\n\t* custom_metadata validation failed\n\n"]}`)}
	if got := r.describe(); got != "400 Bad Request: 1 error occurred: * custom_metadata validation failed" {
		t.Fatalf("describe = %q", got)
	}
	r = &response{status: 502, body: []byte("<html>bad gateway</html>")}
	if got := r.describe(); got != "502 Bad Gateway" {
		t.Fatalf("describe of a non-JSON body = %q", got)
	}
}

// decode fills out from the response's "data" in one pass, and refuses a
// response whose data is null, missing or malformed.
func TestResponseDecode(t *testing.T) {
	t.Parallel()
	var md kvMetadata
	r := &response{status: 200, body: []byte(`{"request_id":"r","data":{"current_version":3,` +
		`"custom_metadata":{"secret-name":"app"},"versions":{"3":{"destroyed":true}}},"wrap_info":null,"mount_type":"kv"}`)}
	if err := r.decode(&md); err != nil || md.CurrentVersion != 3 || md.CustomMetadata["secret-name"] != "app" || !md.Versions["3"].Destroyed {
		t.Fatalf("decode = %+v, %v", md, err)
	}
	for _, body := range []string{
		`{"request_id":"r","data":null}`,
		`{"request_id":"r","warnings":["no"]}`,
		`{"request_id":"r","data":{"current_version":"three"}}`,
		`{"data":`,
	} {
		var md kvMetadata
		if err := (&response{status: 200, body: []byte(body)}).decode(&md); err == nil || !strings.HasPrefix(err.Error(), "decoding response") {
			t.Errorf("decode of %s: %v, want a decoding error", body, err)
		}
	}
}
