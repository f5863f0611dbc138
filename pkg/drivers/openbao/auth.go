package openbao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// authState is the driver's login: done once, shared by every call.
type authState struct {
	mu sync.Mutex
	ok bool
	// err is a permanent failure (bad token, missing secret); later calls
	// return it without asking again. Transient failures are not kept.
	err     error
	info    tokenInfo
	timer   *time.Timer // starts the watcher at half the TTL
	watcher *vault.LifetimeWatcher
	// renewers counts the goroutines of the watchers started; Close waits
	// for them, so no renewal request leaves after it returns.
	renewers sync.WaitGroup
	closed   bool
	// expired is set by the renewer when the token can no longer be
	// renewed; the next call logs in again.
	expired bool
}

// tokenInfo is what lookup-self tells about the token; never the token.
type tokenInfo struct {
	source    string // "secret bao-token key token", "VAULT_TOKEN", "approle role ..."
	policies  []string
	ttl       time.Duration // 0 with no expiry
	expires   time.Time
	renewable bool
	lookedUp  time.Time
}

func (t tokenInfo) String() string {
	s := "token from " + t.source
	if len(t.policies) > 0 {
		s += ", policies [" + strings.Join(t.policies, " ") + "]"
	}
	switch {
	case t.expires.IsZero():
		s += ", no expiry"
	default:
		left := time.Until(t.expires).Round(time.Second)
		if left <= 0 {
			s += fmt.Sprintf(", expired %s ago", (-left).String())
		} else {
			s += ", ttl " + left.String()
		}
	}
	return s
}

// login makes sure the client carries a checked token. It is cheap after
// the first success.
func (d *Driver) login(ctx context.Context) error {
	a := &d.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ok && !a.expired {
		return nil
	}
	if a.err != nil {
		return a.err
	}
	token, source, err := d.obtainToken(ctx)
	if err != nil {
		if isPermanent(err) {
			a.err = err
		}
		return err
	}
	d.conn.api.SetToken(token)
	info, err := d.lookupSelf(ctx, source)
	if err != nil {
		d.conn.api.ClearToken()
		if isPermanent(err) {
			a.err = err
		}
		return err
	}
	a.info, a.ok, a.expired = info, true, false
	d.startRenewer(token, info)
	return nil
}

func isPermanent(err error) bool {
	return errors.Is(err, drivers.ErrAuthFailed) || errors.Is(err, drivers.ErrInvalidConfig)
}

// obtainToken resolves the configured credentials into a token: the
// tokenSecretRef through the resolver, VAULT_TOKEN/BAO_TOKEN, or an AppRole
// login.
//
// MCPCTL_BACKEND_TOKEN_<NAME> (the backend name upper-cased, '-' as '_')
// overrides all of them: a read-only job (plan, drift) connected as
// mcpctl_viewer cannot read a token Secret's values, so it brings a token
// with the plan policy this way instead.
func (d *Driver) obtainToken(ctx context.Context) (token, source string, err error) {
	if env := TokenOverrideEnv(d.name); env != "" {
		if tok := strings.TrimSpace(os.Getenv(env)); tok != "" {
			return tok, env, nil
		}
	}
	a := d.cfg.Auth
	switch a.Method {
	case AuthAppRole:
		return d.appRoleLogin(ctx)
	default:
		if r := a.TokenSecretRef; r != nil {
			tok, err := d.resolve(ctx, *r, "auth.tokenSecretRef")
			if err != nil {
				return "", "", err
			}
			return tok, fmt.Sprintf("secret %s key %s", r.Name, r.Key), nil
		}
		for _, env := range []string{"VAULT_TOKEN", "BAO_TOKEN"} {
			if tok := strings.TrimSpace(os.Getenv(env)); tok != "" {
				return tok, env, nil
			}
		}
		return "", "", d.fail("login", "", drivers.ErrAuthFailed,
			errors.New("no token: set auth.tokenSecretRef in the backend config, or VAULT_TOKEN / BAO_TOKEN"))
	}
}

// resolve reads one credential through the injected resolver. The value is
// never part of an error.
func (d *Driver) resolve(ctx context.Context, r drivers.SecretRef, field string) (string, error) {
	if d.resolver == nil {
		return "", d.fail("login", "", drivers.ErrAuthFailed,
			fmt.Errorf("%s names secret %s but no secret resolver was given", field, r.Name))
	}
	v, err := d.resolver.ResolveSecret(ctx, r.Name, r.Key)
	if err != nil {
		if ctx.Err() != nil {
			return "", d.fail("login", "", nil, fmt.Errorf("resolving %s (secret %s key %s): %w", field, r.Name, r.Key, err))
		}
		return "", d.fail("login", "", drivers.ErrAuthFailed,
			fmt.Errorf("resolving %s (secret %s key %s): %w", field, r.Name, r.Key, err))
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", d.fail("login", "", drivers.ErrAuthFailed,
			fmt.Errorf("%s: secret %s key %s is empty", field, r.Name, r.Key))
	}
	return v, nil
}

func (d *Driver) appRoleLogin(ctx context.Context) (string, string, error) {
	a := d.cfg.Auth
	secretID, err := d.resolve(ctx, *a.SecretIDSecretRef, "auth.secretIdSecretRef")
	if err != nil {
		return "", "", err
	}
	source := fmt.Sprintf("approle login (auth/%s, role id %s)", a.MountPath, a.RoleID)
	req := request{
		method: http.MethodPut,
		path:   "auth/" + a.MountPath + "/login",
		body:   map[string]string{"role_id": a.RoleID, "secret_id": secretID},
	}
	d.conn.api.ClearToken()
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return "", "", d.callFail("login", "", err)
	}
	if resp.status != http.StatusOK {
		kind := error(nil)
		if resp.status == http.StatusBadRequest || resp.status == http.StatusForbidden {
			kind = drivers.ErrAuthFailed
		}
		return "", "", d.fail("login", "", kind, fmt.Errorf("%s: %s: %s", source, req, resp.describe()))
	}
	var out struct {
		Auth *struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(resp.body, &out); err != nil || out.Auth == nil || out.Auth.ClientToken == "" {
		return "", "", d.fail("login", "", drivers.ErrAuthFailed, fmt.Errorf("%s: response carries no token", source))
	}
	return out.Auth.ClientToken, source, nil
}

// lookupSelf checks the token before any real call, so a bad or expired
// token fails fast with what is known about it.
func (d *Driver) lookupSelf(ctx context.Context, source string) (tokenInfo, error) {
	req := request{method: http.MethodGet, path: "auth/token/lookup-self"}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return tokenInfo{}, d.callFail("login", "", err)
	}
	switch resp.status {
	case http.StatusOK:
	case http.StatusForbidden, http.StatusUnauthorized, http.StatusBadRequest:
		return tokenInfo{}, d.fail("login", "", drivers.ErrAuthFailed,
			fmt.Errorf("token from %s rejected by %s (%s): it is invalid, expired or revoked, or may not look itself up",
				source, req.path, resp.describe()))
	default:
		return tokenInfo{}, d.fail("login", "", drivers.ErrUnavailable, fmt.Errorf("%s: %s", req, resp.describe()))
	}
	var data struct {
		Policies   []string `json:"policies"`
		TTL        int64    `json:"ttl"`
		ExpireTime *string  `json:"expire_time"`
		Renewable  bool     `json:"renewable"`
	}
	if err := resp.decode(&data); err != nil {
		return tokenInfo{}, d.fail("login", "", drivers.ErrUnavailable, fmt.Errorf("%s: %w", req, err))
	}
	info := tokenInfo{source: source, policies: data.Policies, renewable: data.Renewable, lookedUp: time.Now()}
	slices.Sort(info.policies)
	if data.TTL > 0 {
		info.ttl = time.Duration(data.TTL) * time.Second
		info.expires = info.lookedUp.Add(info.ttl)
	}
	return info, nil
}

// startRenewer renews a renewable token in the background so long runs
// (a big migration) outlive its TTL. Nothing happens before half the TTL
// has passed, so a short run makes no renewal request at all. Close stops
// it and waits for it.
func (d *Driver) startRenewer(token string, info tokenInfo) {
	a := &d.auth
	a.stopRenewerLocked()
	if !info.renewable || info.ttl <= 0 {
		return
	}
	a.timer = time.AfterFunc(info.ttl/2, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.closed || a.timer == nil {
			return
		}
		w, err := d.conn.api.NewLifetimeWatcher(&vault.LifetimeWatcherInput{
			Secret: &vault.Secret{Auth: &vault.SecretAuth{
				ClientToken:   token,
				Renewable:     true,
				LeaseDuration: int(time.Until(a.info.expires) / time.Second),
			}},
		})
		if err != nil {
			d.log.Warn("token renewal not started", "error", err.Error())
			return
		}
		a.watcher = w
		a.renewers.Go(w.Start)
		a.renewers.Go(func() { d.watchRenewals(w) })
	})
}

// watchRenewals follows one watcher until it ends.
func (d *Driver) watchRenewals(w *vault.LifetimeWatcher) {
	a := &d.auth
	for {
		select {
		case err := <-w.DoneCh():
			if err != nil {
				d.log.Warn("token renewal stopped", "error", err.Error())
			}
			a.mu.Lock()
			if a.watcher == w {
				// Near its max TTL or no longer renewable: log in again
				// on the next call rather than fail half-way.
				a.expired = true
			}
			a.mu.Unlock()
			return
		case r := <-w.RenewCh():
			if r != nil && r.Secret != nil && r.Secret.Auth != nil {
				ttl := time.Duration(r.Secret.Auth.LeaseDuration) * time.Second
				a.mu.Lock()
				a.info.ttl, a.info.expires = ttl, r.RenewedAt.Add(ttl)
				a.mu.Unlock()
				d.log.Debug("token renewed", "ttl", ttl)
			}
		}
	}
}

func (a *authState) stopRenewerLocked() {
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	if a.watcher != nil {
		a.watcher.Stop()
		a.watcher = nil
	}
}

// stop stops the renewer for good and waits until its goroutines have
// ended (a renewal request in flight completes first).
func (a *authState) stop() {
	a.mu.Lock()
	a.closed = true
	a.stopRenewerLocked()
	a.mu.Unlock()
	// Outside the lock: watchRenewals takes it on its way out. The timer
	// callback adds goroutines only under the lock and before closed is
	// set, so nothing is added once Wait starts.
	a.renewers.Wait()
}

// tokenSummary describes the current token for permission errors.
func (d *Driver) tokenSummary() string {
	a := &d.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ok {
		return ""
	}
	return a.info.String()
}

// TokenOverrideEnv is the environment variable that overrides the
// credentials of the backend named name.
func TokenOverrideEnv(name string) string {
	if name == "" {
		return ""
	}
	return "MCPCTL_BACKEND_TOKEN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
