package openbao

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// defaultPageSize is the LIST page size for servers that paginate
// (OpenBao's after/limit); Vault ignores the parameters and answers whole.
const defaultPageSize = 1000

// List yields every object under the prefix, depth first in key order,
// including soft-deleted and destroyed ones (their metadata is still there,
// and orphan detection must see them). Refs are relative to the prefix.
func (d *Driver) List(ctx context.Context) iter.Seq2[drivers.Ref, error] {
	return func(yield func(drivers.Ref, error) bool) {
		if err := d.login(ctx); err != nil {
			yield("", err)
			return
		}
		d.walk(ctx, "", yield)
	}
}

// walk lists the folder rel ("" or "a/b/") and its subfolders; it returns
// false once the consumer has stopped.
func (d *Driver) walk(ctx context.Context, rel string, yield func(drivers.Ref, error) bool) bool {
	var refs []string
	err := d.listPages(ctx, "list", d.cfg.Mount+"/metadata/"+d.cfg.PathPrefix+"/"+rel, func(keys []string, _ *response) error {
		refs = append(refs, keys...)
		return nil
	})
	if err != nil {
		return yield("", err)
	}
	for _, k := range refs {
		if strings.HasSuffix(k, "/") {
			if !d.walk(ctx, rel+k, yield) {
				return false
			}
			continue
		}
		if !yield(drivers.Ref(rel+k), nil) {
			return false
		}
	}
	return true
}

// listPages LISTs path (a folder) page by page, calling page with the keys
// of each page. A folder with nothing in it (404) has no pages.
func (d *Driver) listPages(ctx context.Context, op, path string, page func(keys []string, resp *response) error) error {
	limit := d.pageSize()
	after := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if after != "" {
			q.Set("after", after)
		}
		req := request{method: "LIST", path: strings.TrimSuffix(path, "/") + "/", query: q}
		resp, err := d.conn.do(ctx, req)
		if err != nil {
			return d.callFail(op, "", err)
		}
		switch resp.status {
		case http.StatusOK:
		case http.StatusNotFound:
			if absent(resp) {
				return nil
			}
			return d.statusFail(op, "", req, resp)
		default:
			return d.statusFail(op, "", req, resp)
		}
		var out struct {
			Keys []string `json:"keys"`
		}
		if err := resp.decode(&out); err != nil {
			return d.fail(op, "", nil, fmt.Errorf("%s: %w", req, err))
		}
		// A server that ignores after/limit answers the whole folder every
		// time; keep only what follows the previous page.
		fresh := out.Keys
		if after != "" {
			fresh = fresh[:0:0]
			for _, k := range out.Keys {
				if k > after {
					fresh = append(fresh, k)
				}
			}
		}
		if err := page(fresh, resp); err != nil {
			return err
		}
		if len(out.Keys) != limit || len(fresh) == 0 {
			return nil
		}
		after = out.Keys[len(out.Keys)-1]
	}
}

func (d *Driver) pageSize() int {
	if d.listPageSize > 0 {
		return d.listPageSize
	}
	return defaultPageSize
}
