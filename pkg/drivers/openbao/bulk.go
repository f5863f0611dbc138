package openbao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"golang.org/x/sync/errgroup"
)

// subkeysParallelism bounds the subkeys reads StatAll makes for objects
// whose key-name record is stale.
const subkeysParallelism = 16

// StatAll returns the metadata of every object under the prefix from
// OpenBao's detailed-metadata LIST (every object's full metadata, paginated
// with after/limit), walking subfolders. Objects whose key names were
// written outside mcpctl cost one subkeys read each. Servers without the
// endpoint (Vault) get ErrUnsupported, decided once per driver; callers
// then List and Stat.
func (d *Driver) StatAll(ctx context.Context) (map[drivers.Ref]drivers.Meta, error) {
	if err := d.login(ctx); err != nil {
		return nil, err
	}
	ok, err := d.bulkSupported(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, d.fail("stat-all", "", drivers.ErrUnsupported,
			errors.New("the server has no detailed-metadata LIST (Vault; OpenBao 2.x has it)"))
	}
	out := map[drivers.Ref]drivers.Meta{}
	var stale []drivers.Ref
	if err := d.bulkWalk(ctx, "", time.Now(), out, &stale); err != nil {
		return nil, err
	}
	if err := d.fillKeys(ctx, out, stale); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *Driver) detailedPath(rel string) string {
	return d.cfg.Mount + "/detailed-metadata/" + d.cfg.PathPrefix + "/" + rel
}

// bulkSupported asks the server once per driver whether it serves
// detailed-metadata LIST. Only definite answers are kept; an outage is
// asked about again next time.
func (d *Driver) bulkSupported(ctx context.Context) (bool, error) {
	d.bulkMu.Lock()
	defer d.bulkMu.Unlock()
	if d.bulk != 0 {
		return d.bulk > 0, nil
	}
	req := request{method: "LIST", path: d.detailedPath(""), query: url.Values{"limit": {"1"}}}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return false, d.callFail("stat-all", "", err)
	}
	switch {
	case resp.status == http.StatusOK:
		d.bulk = 1
	case resp.status == http.StatusNotFound && emptyErrors(resp):
		// OpenBao's answer for an empty folder: {"errors":[]}. Vault's
		// 404 for a path its KV v2 lacks carries warnings ("Invalid path
		// for a versioned K/V secrets engine") and no errors field.
		d.bulk = 1
	case resp.status == http.StatusNotFound, resp.status == http.StatusMethodNotAllowed,
		resp.status == http.StatusBadRequest && unsupportedPath(resp):
		// Vault: no such route in its KV v2 ("unsupported path" or
		// "unsupported operation").
		d.bulk = -1
	default:
		return false, d.statusFail("stat-all", "", req, resp)
	}
	return d.bulk > 0, nil
}

// emptyErrors reports a body of exactly an empty "errors" list.
func emptyErrors(resp *response) bool {
	var e struct {
		Errors   *[]string `json:"errors"`
		Warnings []string  `json:"warnings"`
	}
	return json.Unmarshal(resp.body, &e) == nil && e.Errors != nil && len(*e.Errors) == 0 && len(e.Warnings) == 0
}

func unsupportedPath(resp *response) bool {
	for _, e := range resp.errorsList() {
		if strings.Contains(e, "unsupported") {
			return true
		}
	}
	return false
}

// bulkWalk lists the folder rel with its full metadata, then its subfolders.
func (d *Driver) bulkWalk(ctx context.Context, rel string, now time.Time, out map[drivers.Ref]drivers.Meta, stale *[]drivers.Ref) error {
	var folders []string
	err := d.listPages(ctx, "stat-all", d.detailedPath(rel), func(keys []string, resp *response) error {
		var page struct {
			KeyInfo map[string]json.RawMessage `json:"key_info"`
		}
		if err := resp.decode(&page); err != nil {
			return d.fail("stat-all", "", nil, fmt.Errorf("LIST %s: %w", d.detailedPath(rel), err))
		}
		for _, k := range keys {
			if strings.HasSuffix(k, "/") {
				folders = append(folders, k)
				continue
			}
			ref := drivers.Ref(rel + k)
			var md kvMetadata
			raw, ok := page.KeyInfo[k]
			if !ok {
				return d.fail("stat-all", ref, nil, fmt.Errorf("LIST %s: no key_info for %q", d.detailedPath(rel), k))
			}
			if err := json.Unmarshal(raw, &md); err != nil {
				return d.fail("stat-all", ref, nil, fmt.Errorf("LIST %s: key_info %q: %w", d.detailedPath(rel), k, err))
			}
			m, known := md.meta(now)
			out[ref] = m
			if !known {
				*stale = append(*stale, ref)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range folders {
		if err := d.bulkWalk(ctx, rel+f, now, out, stale); err != nil {
			return err
		}
	}
	return nil
}

// fillKeys asks subkeys, in parallel, for the objects whose key-name record
// does not describe their current version.
func (d *Driver) fillKeys(ctx context.Context, out map[drivers.Ref]drivers.Meta, stale []drivers.Ref) error {
	if len(stale) == 0 {
		return nil
	}
	// The first failure cancels the requests still running and is the
	// one returned.
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(subkeysParallelism)
	var mu sync.Mutex
	for _, ref := range stale {
		mu.Lock()
		m := out[ref]
		mu.Unlock()
		g.Go(func() error {
			keys, err := d.subkeys(ctx, "stat-all", ref, m.Version)
			if errors.Is(err, errVersionGone) {
				// Deleted since the listing: Stat it again.
				m, err = d.Stat(ctx, ref)
				keys = m.Keys
			}
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			m.Keys = keys
			if m.State == drivers.Absent && m.Version == 0 {
				delete(out, ref) // destroyed since the listing
				return nil
			}
			out[ref] = m
			return nil
		})
	}
	return g.Wait()
}
