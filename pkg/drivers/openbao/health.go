package openbao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// Check is the live health check behind `describe`: the server answers and
// is unsealed, the token is valid (its TTL and policies), and the mount is
// KV version 2.
func (d *Driver) Check(ctx context.Context) drivers.Health {
	var h drivers.Health
	req := request{method: http.MethodGet, path: "sys/health",
		query: url.Values{"standbyok": {"true"}, "perfstandbyok": {"true"}}}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		h.Err = d.callFail("check", "", err)
		return h
	}
	var health struct {
		Sealed  bool   `json:"sealed"`
		Version string `json:"version"`
	}
	_ = json.Unmarshal(resp.body, &health)
	h.Reachable = true
	if health.Version != "" {
		h.Details = append(h.Details, "server version "+health.Version)
	}
	if health.Sealed {
		h.Err = d.fail("check", "", drivers.ErrUnavailable, errors.New("the server is sealed"))
		return h
	}
	if d.cfg.Namespace != "" {
		h.Details = append(h.Details, "namespace "+d.cfg.Namespace)
	}
	if err := d.login(ctx); err != nil {
		h.Auth = "login failed"
		h.Err = err
		return h
	}
	h.Auth = "token valid: " + d.tokenSummary()
	detail, err := d.checkMount(ctx)
	if detail != "" {
		h.Details = append(h.Details, detail)
	}
	h.Err = err
	return h
}

// checkMount makes sure the mount is KV v2: sys/mounts/<mount>, or the
// mount's tune settings for tokens that may read only those.
func (d *Driver) checkMount(ctx context.Context) (string, error) {
	var lastDenied string
	for _, path := range []string{"sys/mounts/" + d.cfg.Mount, "sys/mounts/" + d.cfg.Mount + "/tune"} {
		req := request{method: http.MethodGet, path: path}
		resp, err := d.conn.do(ctx, req)
		if err != nil {
			return "", d.callFail("check", "", err)
		}
		switch resp.status {
		case http.StatusOK:
		case http.StatusForbidden:
			lastDenied = req.String()
			continue
		case http.StatusBadRequest, http.StatusNotFound:
			return "", d.fail("check", "", drivers.ErrInvalidConfig,
				fmt.Errorf("mount %q: no secrets engine mounted there (%s)", d.cfg.Mount, resp.describe()))
		default:
			return "", d.statusFail("check", "", req, resp)
		}
		var m struct {
			Type    string            `json:"type"`
			Options map[string]string `json:"options"`
		}
		if err := resp.decode(&m); err != nil {
			return "", d.fail("check", "", nil, fmt.Errorf("%s: %w", req, err))
		}
		if m.Type != "" && m.Type != "kv" && m.Type != "generic" {
			return "", d.fail("check", "", drivers.ErrInvalidConfig,
				fmt.Errorf("mount %q is a %s engine, not KV version 2", d.cfg.Mount, m.Type))
		}
		if v := m.Options["version"]; v != "2" {
			return "", d.fail("check", "", drivers.ErrInvalidConfig,
				fmt.Errorf("mount %q is KV version %q, want 2 (vault kv enable-versioning %s)", d.cfg.Mount, v, d.cfg.Mount))
		}
		return fmt.Sprintf("mount %s: KV version 2", d.cfg.Mount), nil
	}
	return fmt.Sprintf("mount %s: type not checked (the token may not read %s)", d.cfg.Mount, lastDenied), nil
}
