package openbao

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// vaultFixture is one test's KV v2 mount on the real Vault server.
type vaultFixture struct {
	v     *testenv.VaultServer
	mount string
	root  *vault.Client
}

func newVaultFixture(t *testing.T) *vaultFixture {
	t.Helper()
	v := testenv.Vault(t)
	return &vaultFixture{v: v, mount: v.NewMount(t), root: v.Client(t)}
}

// store is one isolated prefix on the fixture's mount with tokens holding
// exactly the documented plan and apply policies, a proxy in front of Vault
// (counting requests, injecting faults), a counting resolver and captured
// driver logs.
type store struct {
	f          *vaultFixture
	prefix     string
	applyToken string
	planToken  string
	proxy      *proxy
	resolver   *countingResolver
	logs       *syncBuffer
}

func (f *vaultFixture) newStore(t *testing.T) *store {
	t.Helper()
	prefix := "p-" + testenv.RandHex(5)
	cfg := Config{Mount: f.mount, PathPrefix: prefix}
	name := "mcpctl-" + f.mount + "-" + prefix
	f.v.WritePolicy(t, name+"-apply", ApplyPolicy(cfg))
	f.v.WritePolicy(t, name+"-plan", PlanPolicy(cfg))
	s := &store{
		f:          f,
		prefix:     prefix,
		applyToken: f.v.NewToken(t, name+"-apply"),
		planToken:  f.v.NewToken(t, name+"-plan"),
		proxy:      newProxy(t, f.v.Addr),
		logs:       &syncBuffer{},
	}
	s.resolver = &countingResolver{values: map[string]string{"bao-token/token": s.applyToken}}
	return s
}

// config returns the JSON config of a driver on this store, reaching Vault
// through the proxy, with the token from the resolver.
func (s *store) config(mutate ...func(map[string]any)) json.RawMessage {
	c := map[string]any{
		"url":        s.proxy.URL(),
		"mount":      s.f.mount,
		"pathPrefix": s.prefix,
		"timeout":    "30s",
		"auth":       map[string]any{"method": "token", "tokenSecretRef": map[string]string{"name": "bao-token", "key": "token"}},
	}
	for _, m := range mutate {
		m(c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

// open builds a driver on this store, closed when the test ends.
func (s *store) open(t *testing.T, mutate ...func(map[string]any)) *Driver {
	t.Helper()
	d, err := New(context.Background(), drivers.Config{
		Name:     "bao",
		Raw:      s.config(mutate...),
		Resolver: s.resolver,
		Deps:     slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Fault tests must not wait seconds between attempts.
	d.conn.backoffBase = 5 * time.Millisecond
	d.conn.backoffMax = 50 * time.Millisecond
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// withToken makes the resolver hand out a different token under another
// secret name and points the config at it.
func (s *store) withToken(name, token string) func(map[string]any) {
	s.resolver.set(name+"/token", token)
	return func(c map[string]any) {
		c["auth"] = map[string]any{"method": "token", "tokenSecretRef": map[string]string{"name": name, "key": "token"}}
	}
}

func (s *store) kvPath(kind, ref string) string {
	return s.f.mount + "/" + kind + "/" + s.prefix + "/" + ref
}

// writeForeign writes values as a non-mcpctl client would (no cas, no
// custom_metadata change).
func (s *store) writeForeign(t *testing.T, ref string, v map[string]string) {
	t.Helper()
	if _, err := s.f.root.Logical().Write(s.kvPath("data", ref), map[string]any{"data": v}); err != nil {
		t.Fatalf("foreign write %s: %v", ref, err)
	}
}

// metadata reads an object's metadata with the root token, for assertions
// about what is really on the server.
func (s *store) metadata(t *testing.T, ref string) (current int64, versions int, custom map[string]any) {
	t.Helper()
	sec, err := s.f.root.Logical().Read(s.kvPath("metadata", ref))
	if err != nil {
		t.Fatalf("read metadata %s: %v", ref, err)
	}
	if sec == nil {
		return 0, 0, nil
	}
	n, _ := sec.Data["current_version"].(json.Number).Int64()
	vs, _ := sec.Data["versions"].(map[string]any)
	custom, _ = sec.Data["custom_metadata"].(map[string]any)
	return n, len(vs), custom
}

// countingResolver hands out tokens and counts how often it was asked.
type countingResolver struct {
	mu     sync.Mutex
	values map[string]string
	calls  atomic.Int64
}

func (r *countingResolver) set(k, v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values[k] = v
}

func (r *countingResolver) ResolveSecret(_ context.Context, name, key string) (string, error) {
	r.calls.Add(1)
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.values[name+"/"+key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %s", name, key)
	}
	return v, nil
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// assertNoLeak fails if any of texts contains any of the secret values.
func assertNoLeak(t *testing.T, values []string, texts ...string) {
	t.Helper()
	for i, v := range values {
		for _, s := range texts {
			if len(v) >= 6 && strings.Contains(s, v) {
				t.Errorf("test value #%d appears in a driver error or log line", i)
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() + fmt.Sprintf(" %+v %#v", err, err)
}

func vals(m map[string]string) drivers.Values { return drivers.NewValues(m) }

func slogTo(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// requestsDuring runs f and returns the requests the store's proxy saw
// meanwhile, as "METHOD path" with the path relative to the mount.
func (s *store) requestsDuring(f func()) []string {
	before := len(s.proxy.requests("", ""))
	f()
	var out []string
	for _, r := range s.proxy.requests("", "")[before:] {
		out = append(out, r.method+" "+strings.TrimPrefix(r.path, s.f.mount+"/"))
	}
	return out
}
