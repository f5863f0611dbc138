package openbao

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/drivers/drivertest"
)

// Tests of openbao behaviour beyond the conformance suite, on the real Vault.

func TestTokenResolvedOnceAndLoginOnce(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t)
	if n := s.resolver.calls.Load(); n != 0 {
		t.Fatalf("New resolved the token %d times before any use", n)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			ref := drivers.Ref("s" + string(rune('a'+i)))
			if _, err := d.Put(ctx, ref, vals(map[string]string{"K": "v"}), drivers.PutOptions{OwnerID: "o"}); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = d.Stat(ctx, ref)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for range d.List(ctx) {
	}
	if n := s.resolver.calls.Load(); n != 1 {
		t.Fatalf("token resolved %d times for 41 calls, want 1", n)
	}
	if n := s.proxy.count("GET", "auth/token/lookup-self"); n != 1 {
		t.Fatalf("lookup-self called %d times, want 1", n)
	}
	// A short run makes no renewal request (the token has an hour).
	if n := s.proxy.count("PUT", "auth/token/renew-self"); n != 0 {
		t.Fatalf("%d renewals in a short run", n)
	}
	// lookup-self is the first request the driver makes.
	if first := s.proxy.requests("", "")[0]; first.path != "auth/token/lookup-self" {
		t.Fatalf("first request was %s %s, want lookup-self", first.method, first.path)
	}
}

func TestBadTokenFailsFastAtLookupSelf(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t, s.withToken("bad-token", "hvs.not-a-real-token-tv-marker"))
	_, err := d.Stat(context.Background(), "x")
	if !errors.Is(err, drivers.ErrAuthFailed) {
		t.Fatalf("Stat with a bad token: %v, want ErrAuthFailed", err)
	}
	for _, want := range []string{"login", "secret bad-token key token", "auth/token/lookup-self", "403", "invalid, expired or revoked"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	assertNoLeak(t, []string{"hvs.not-a-real-token-tv-marker"}, errText(err), s.logs.String())
	if n := len(s.proxy.requests("", "")); n != 1 {
		t.Fatalf("%d requests with a bad token, want only the lookup-self", n)
	}
	// The failure is kept: no second resolution or lookup for later calls.
	_, _, err2 := d.Get(context.Background(), "x")
	if !errors.Is(err2, drivers.ErrAuthFailed) || s.resolver.calls.Load() != 1 || s.proxy.count("", "") != 1 {
		t.Fatalf("second call: %v after %d resolutions and %d requests, want the cached failure", err2, s.resolver.calls.Load(), s.proxy.count("", ""))
	}
}

func TestRevokedTokenFailsAtLookupSelf(t *testing.T) {
	t.Parallel()
	f := newVaultFixture(t)
	s := f.newStore(t)
	tok := f.v.NewToken(t, "mcpctl-"+f.mount+"-"+s.prefix+"-apply")
	if err := f.root.Auth().Token().RevokeTree(tok); err != nil {
		t.Fatal(err)
	}
	d := s.open(t, s.withToken("revoked", tok))
	_, err := d.Stat(context.Background(), "x")
	if !errors.Is(err, drivers.ErrAuthFailed) || !strings.Contains(err.Error(), "secret revoked key token") {
		t.Fatalf("Stat with a revoked token: %v", err)
	}
	assertNoLeak(t, []string{tok}, errText(err), s.logs.String())
}

func TestPermissionDeniedNamesTokenPoliciesAndTTL(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t, s.withToken("bao-plan-token", s.planToken))
	v := drivertest.Marker("denied")
	_, err := d.Put(context.Background(), "x", vals(map[string]string{"K": v}), drivers.PutOptions{OwnerID: "o"})
	if !errors.Is(err, drivers.ErrAuthFailed) {
		t.Fatalf("Put with a plan token: %v, want a permission error", err)
	}
	for _, want := range []string{"permission denied", "PUT " + s.kvPath("metadata", "x"), "403",
		"token from secret bao-plan-token key token", "policies [mcpctl-" + s.f.mount + "-" + s.prefix + "-plan]", "ttl "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	assertNoLeak(t, []string{v, s.planToken}, errText(err), s.logs.String())
}

func TestTokenFromEnvironment(t *testing.T) {
	// Not parallel: it sets process environment variables.
	s := newVaultFixture(t).newStore(t)
	for _, env := range []string{"VAULT_TOKEN", "BAO_TOKEN"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("VAULT_TOKEN", "")
			t.Setenv("BAO_TOKEN", "")
			t.Setenv(env, s.applyToken)
			d := s.open(t, func(c map[string]any) { delete(c, "auth") })
			if _, err := d.Stat(context.Background(), "x"); err != nil {
				t.Fatalf("Stat with the token in %s: %v", env, err)
			}
			if !strings.Contains(d.tokenSummary(), "token from "+env) {
				t.Fatalf("token source = %q, want %s", d.tokenSummary(), env)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		t.Setenv("VAULT_TOKEN", "")
		t.Setenv("BAO_TOKEN", "")
		d := s.open(t, func(c map[string]any) { delete(c, "auth") })
		_, err := d.Stat(context.Background(), "x")
		if !errors.Is(err, drivers.ErrAuthFailed) || !strings.Contains(err.Error(), "VAULT_TOKEN") {
			t.Fatalf("Stat without any token: %v", err)
		}
	})
}

func TestAppRoleLoginOnceAndNamespaceOnEveryRequest(t *testing.T) {
	t.Parallel()
	f := newVaultFixture(t)
	s := f.newStore(t)
	roleID, secretID := f.v.NewAppRole(t, "mcpctl-"+f.mount+"-"+s.prefix+"-apply")
	s.resolver.set("approle-secret/secret_id", secretID)
	d := s.open(t, func(c map[string]any) {
		c["namespace"] = "team-a"
		c["auth"] = map[string]any{"method": "approle", "roleId": roleID,
			"secretIdSecretRef": map[string]string{"name": "approle-secret", "key": "secret_id"}}
	})
	ctx := context.Background()
	for i := range 3 {
		v := vals(map[string]string{"K": drivertest.Marker("a")})
		if _, err := d.Put(ctx, "app", v, drivers.PutOptions{CAS: -1, OwnerID: "o"}); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if n := s.proxy.count("PUT", "auth/approle/login"); n != 1 {
		t.Fatalf("%d AppRole logins, want 1", n)
	}
	if n := s.resolver.calls.Load(); n != 1 {
		t.Fatalf("secret id resolved %d times, want 1", n)
	}
	for _, r := range s.proxy.requests("", "") {
		if r.namespace != "team-a" {
			t.Fatalf("%s %s carried namespace %q, want team-a", r.method, r.path, r.namespace)
		}
	}
	if !strings.Contains(d.tokenSummary(), "approle login (auth/approle, role id "+roleID+")") {
		t.Fatalf("token summary %q does not name the AppRole login", d.tokenSummary())
	}
	assertNoLeak(t, []string{secretID}, s.logs.String(), d.tokenSummary())
}

func TestAppRoleBadSecretID(t *testing.T) {
	t.Parallel()
	f := newVaultFixture(t)
	s := f.newStore(t)
	roleID, _ := f.v.NewAppRole(t, "default")
	s.resolver.set("approle-secret/secret_id", "0000-wrong-secret-id")
	d := s.open(t, func(c map[string]any) {
		c["auth"] = map[string]any{"method": "approle", "roleId": roleID,
			"secretIdSecretRef": map[string]string{"name": "approle-secret", "key": "secret_id"}}
	})
	_, err := d.Stat(context.Background(), "x")
	if !errors.Is(err, drivers.ErrAuthFailed) || !strings.Contains(err.Error(), "auth/approle/login") {
		t.Fatalf("AppRole login with a wrong secret id: %v", err)
	}
	assertNoLeak(t, []string{"0000-wrong-secret-id"}, errText(err), s.logs.String())
}

func TestResolverFailureIsAuthFailure(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t, func(c map[string]any) {
		c["auth"] = map[string]any{"tokenSecretRef": map[string]string{"name": "nowhere", "key": "token"}}
	})
	_, err := d.Stat(context.Background(), "x")
	if !errors.Is(err, drivers.ErrAuthFailed) || !strings.Contains(err.Error(), "resolving auth.tokenSecretRef (secret nowhere key token)") {
		t.Fatalf("Stat with an unresolvable token: %v", err)
	}
}

// A renewable token is renewed in the background, and Close stops it.
func TestTokenRenewedUntilClose(t *testing.T) {
	t.Parallel()
	f := newVaultFixture(t)
	s := f.newStore(t)
	sec, err := f.root.Auth().Token().Create(&vault.TokenCreateRequest{
		Policies: []string{"mcpctl-" + f.mount + "-" + s.prefix + "-apply"}, NoDefaultPolicy: true,
		TTL: "3s", ExplicitMaxTTL: "10m", Renewable: new(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := s.open(t, s.withToken("short", sec.Auth.ClientToken))
	if _, err := d.Stat(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	s.proxy.waitCount(t, "PUT", "auth/token/renew-self", 2)
	// Past the original TTL, the token still works.
	if _, err := d.Stat(context.Background(), "x"); err != nil {
		t.Fatalf("Stat after renewals: %v", err)
	}
	// Close returns once the renewer's goroutines have ended (it waits
	// for them), so no renewal can follow: the timer and the watcher are
	// gone, and a timer that fires late finds the driver closed.
	_ = d.Close()
	d.auth.mu.Lock()
	stopped := d.auth.closed && d.auth.watcher == nil && d.auth.timer == nil
	d.auth.mu.Unlock()
	if !stopped {
		t.Fatal("the renewer is still set up after Close")
	}
}

// Stat costs one request when mcpctl wrote the current version, two when
// someone else wrote since; Put is metadata read, data write and metadata
// write (plus an ownership claim when creating).
func TestRequestCounts(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t)
	ctx := context.Background()
	if _, err := d.Stat(ctx, "warm-up"); err != nil {
		t.Fatal(err)
	}
	count := s.requestsDuring
	p := s.prefix + "/obj"
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s made requests %q, want %q", what, got, want)
		}
	}
	check("create", count(func() {
		if _, err := d.Put(ctx, "obj", vals(map[string]string{"K": "v1"}), drivers.PutOptions{OwnerID: "o"}); err != nil {
			t.Fatal(err)
		}
	}), "GET metadata/"+p, "PUT metadata/"+p, "PUT data/"+p) // the claim records the keys of version 1 too
	check("stat after create", count(func() {
		if m, err := d.Stat(ctx, "obj"); err != nil || !slices.Equal(m.Keys, []string{"K"}) || m.Version != 1 {
			t.Fatalf("%+v %v", m, err)
		}
	}), "GET metadata/"+p)
	check("update", count(func() {
		if _, err := d.Put(ctx, "obj", vals(map[string]string{"K": "v2"}), drivers.PutOptions{CAS: 1, OwnerID: "o"}); err != nil {
			t.Fatal(err)
		}
	}), "GET metadata/"+p, "PUT data/"+p, "PUT metadata/"+p)
	check("stat", count(func() {
		if m, err := d.Stat(ctx, "obj"); err != nil || !slices.Equal(m.Keys, []string{"K"}) {
			t.Fatalf("%+v %v", m, err)
		}
	}), "GET metadata/"+p)
	s.writeForeign(t, "obj", map[string]string{"OTHER": "x"})
	check("stat after an outside write", count(func() {
		if m, err := d.Stat(ctx, "obj"); err != nil || !slices.Equal(m.Keys, []string{"OTHER"}) {
			t.Fatalf("%+v %v", m, err)
		}
	}), "GET metadata/"+p, "GET subkeys/"+p)
	check("get", count(func() {
		if _, _, err := d.Get(ctx, "obj"); err != nil {
			t.Fatal(err)
		}
	}), "GET data/"+p)
}

// Vault has no detailed-metadata LIST: StatAll says so once and does not
// ask again; List + Stat is the fallback and sees everything.
func TestStatAllUnsupportedOnVault(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t)
	ctx := context.Background()
	for _, r := range []drivers.Ref{"a", "b/c"} {
		if _, err := d.Put(ctx, r, vals(map[string]string{"K": "v"}), drivers.PutOptions{OwnerID: "o"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		_, err := d.StatAll(ctx)
		if !errors.Is(err, drivers.ErrUnsupported) {
			t.Fatalf("StatAll on Vault: %v, want ErrUnsupported", err)
		}
	}
	if n := s.proxy.count("LIST", "/detailed-metadata/"); n != 1 {
		t.Fatalf("detailed-metadata asked %d times, want once per driver", n)
	}
	got := map[drivers.Ref]drivers.Meta{}
	for r, err := range d.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		m, err := d.Stat(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		got[r] = m
	}
	if len(got) != 2 || !got["a"].Exists() || !got["b/c"].Exists() {
		t.Fatalf("fallback List+Stat = %+v", got)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	f := newVaultFixture(t)
	s := f.newStore(t)
	h := s.open(t).Check(context.Background())
	if !h.Reachable || h.Err != nil || !strings.Contains(h.Auth, "ttl ") ||
		!slices.ContainsFunc(h.Details, func(d string) bool { return strings.Contains(d, "KV version 2") }) {
		t.Fatalf("Check = %+v", h)
	}

	// A KV v1 mount is named as the problem.
	v1 := "t-v1-" + testenv.RandHex(4)
	if err := f.root.Sys().Mount(v1, &vault.MountInput{Type: "kv", Options: map[string]string{"version": "1"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.root.Sys().Unmount(v1) })
	s.f.v.WritePolicy(t, "mounts-"+v1, `path "sys/mounts/`+v1+`" { capabilities = ["read"] }
path "auth/token/lookup-self" { capabilities = ["read"] }`)
	d := s.open(t, s.withToken("v1-token", f.v.NewToken(t, "mounts-"+v1)), func(c map[string]any) { c["mount"] = v1 })
	h = d.Check(context.Background())
	if !errors.Is(h.Err, drivers.ErrInvalidConfig) || !strings.Contains(h.Err.Error(), `KV version "1", want 2`) {
		t.Fatalf("Check of a KV v1 mount = %+v", h)
	}

	// An unreachable server.
	d = s.open(t, func(c map[string]any) { c["url"] = "http://127.0.0.1:1"; c["maxRetries"] = 0 })
	h = d.Check(context.Background())
	if h.Reachable || !errors.Is(h.Err, drivers.ErrUnavailable) || !strings.Contains(h.Err.Error(), "connection refused") {
		t.Fatalf("Check of a closed port = %+v", h)
	}
}

func TestRegisteredAsOpenbaoAndVault(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	for _, typ := range []string{"openbao", "vault"} {
		d, err := drivers.Open(context.Background(), typ, drivers.Config{Name: "bao", Raw: s.config(), Resolver: s.resolver})
		if err != nil {
			t.Fatalf("Open %s: %v", typ, err)
		}
		if _, ok := d.(*Driver); !ok {
			t.Fatalf("Open %s gave %T", typ, d)
		}
		_ = d.(drivers.Closer).Close()
		deps, err := drivers.Validate(typ, s.config())
		if err != nil || len(deps) != 1 || deps[0] != (drivers.SecretRef{Name: "bao-token", Key: "token"}) {
			t.Fatalf("Validate %s = %v, %v", typ, deps, err)
		}
	}
	if drivers.Canonical("vault") != "openbao" {
		t.Fatal("vault is not an alias of openbao")
	}
}

func TestLocation(t *testing.T) {
	t.Parallel()
	d, err := New(context.Background(), drivers.Config{Name: "bao", Raw: []byte(`{"url":"http://127.0.0.1:8200"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Location("team/openai"); got != "secret/data/mcpctl/team/openai" {
		t.Fatalf("Location = %q", got)
	}
}

func TestBadRefsRefused(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t)
	for _, ref := range []drivers.Ref{"", "/abs", "dir/", "a//b", "../escape", "a/./b", "q?x", "pct%2F"} {
		_, err := d.Put(context.Background(), ref, vals(map[string]string{"K": "v"}), drivers.PutOptions{OwnerID: "o"})
		if err == nil {
			t.Errorf("Put %q succeeded", ref)
		}
	}
	if n := s.proxy.count("PUT", ""); n != 0 {
		t.Fatalf("%d writes reached the server for bad refs", n)
	}
}

// With a token broad enough to see it, a wrong mount answers 404 "no
// handler for route"; that must not pass for an empty store.
func TestWrongMountIsAnErrorNotAbsent(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t, s.withToken("root", s.f.v.RootToken), func(c map[string]any) { c["mount"] = "no-such-mount-" + testenv.RandHex(3) })
	ctx := context.Background()
	_, err := d.Stat(ctx, "x")
	if !errors.Is(err, drivers.ErrInvalidConfig) || !strings.Contains(err.Error(), "a KV version 2 mount") {
		t.Fatalf("Stat on a missing mount: %v", err)
	}
	for _, lerr := range d.List(ctx) {
		if !errors.Is(lerr, drivers.ErrInvalidConfig) {
			t.Fatalf("List on a missing mount: %v", lerr)
		}
	}
	if err := d.Delete(ctx, "x", drivers.DeleteOptions{Destroy: true}); !errors.Is(err, drivers.ErrInvalidConfig) {
		t.Fatalf("Delete on a missing mount: %v", err)
	}
}

// Values written by other clients as JSON numbers or objects come back as
// their JSON text rather than disappearing.
func TestNonStringValuesFromOtherWriters(t *testing.T) {
	t.Parallel()
	s := newVaultFixture(t).newStore(t)
	if _, err := s.f.root.Logical().Write(s.kvPath("data", "typed"), map[string]any{"data": map[string]any{
		"port": 5432, "tls": true, "opts": map[string]any{"a": 1}, "none": nil, "s": "str"}}); err != nil {
		t.Fatal(err)
	}
	v, m, err := s.open(t).Get(context.Background(), "typed")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"port": "5432", "tls": "true", "opts": `{"a":1}`, "none": "", "s": "str"}
	if !v.Equal(drivers.NewValues(want)) || m.ManagedBy || !slices.Equal(m.Keys, []string{"none", "opts", "port", "s", "tls"}) {
		t.Fatalf("Get of typed values: keys %q, meta %+v", v.Keys(), m)
	}
}
