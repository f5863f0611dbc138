package openbao

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// Put writes v as a new version with check-and-set and records ownership
// and key names in custom_metadata.
//
// Order, for crash safety:
//  1. read metadata: current version, owner (refuse NotOwned unless Adopt);
//  2. if the object is new or being adopted, write custom_metadata claiming
//     it first, so a crash before the data write leaves an object mcpctl
//     owns (a retry of the same Put succeeds) and never an unowned version
//     mcpctl wrote but would then refuse to touch;
//  3. write the data with cas = the version read (0 for a new object; a
//     soft-deleted or destroyed object's current version). A retry after a
//     lost response first re-reads metadata and subkeys: if the version
//     moved by one to an object we own with our key names, that was our
//     write and it is not repeated;
//  4. write custom_metadata with the new version's key names. A crash (or
//     a failure) here costs nothing but speed: the record names an older
//     version, so Stat asks subkeys.
func (d *Driver) Put(ctx context.Context, ref drivers.Ref, v drivers.Values, opts drivers.PutOptions) (drivers.Meta, error) {
	if err := d.begin(ctx, "put", ref); err != nil {
		return drivers.Meta{}, err
	}
	if err := checkValues(v); err != nil {
		return drivers.Meta{}, d.fail("put", ref, nil, err)
	}
	md, err := d.readMetadata(ctx, "put", ref)
	if err != nil {
		return drivers.Meta{}, err
	}
	var (
		cur   int64
		state = drivers.Absent
		cm    map[string]string
	)
	if md != nil {
		cur, cm = md.CurrentVersion, md.CustomMetadata
		m, _ := md.meta(time.Now())
		state = m.State
		if !opts.Adopt {
			if err := d.checkOwner("put", ref, md, opts.OwnerID); err != nil {
				return drivers.Meta{}, err
			}
		}
	}
	cas := cur
	switch {
	case opts.CAS == 0 && state == drivers.Present:
		return drivers.Meta{}, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("create expected no object, found version %d", cur))
	case opts.CAS > 0 && opts.CAS != cur:
		return drivers.Meta{}, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("expected version %d, found %d", opts.CAS, cur))
	}

	want := owner{managed: true, secretID: opts.OwnerID, secretName: opts.SecretName, backend: opts.BackendName}
	keys := v.Keys()
	claimed := false
	if o := ownerOf(cm); md == nil || !o.managed || o.secretID != opts.OwnerID {
		// The claim also records the key names of the version about to be
		// written: the write uses cas = cur, so if it succeeds it is version
		// cur+1, and a new object costs one metadata write, not two. Until
		// then the record names a version that does not exist yet, and
		// Stat, seeing it differ from the current one, asks subkeys.
		cm = buildCustomMetadata(cm, want, keys, cur+1)
		if err := d.writeCustomMetadata(ctx, ref, cm); err != nil {
			return drivers.Meta{}, err
		}
		claimed = true
	}

	newVersion, created, err := d.writeData(ctx, ref, v, cas, opts.OwnerID, keys)
	if err != nil {
		return drivers.Meta{}, err
	}
	if claimed && newVersion == cur+1 {
		return drivers.Meta{State: drivers.Present, Version: newVersion, Keys: keys, OwnerID: opts.OwnerID, ManagedBy: true, Updated: created}, nil
	}
	if err := d.writeCustomMetadata(ctx, ref, buildCustomMetadata(cm, want, keys, newVersion)); err != nil {
		// The data is written; only the key-name record is stale.
		d.log.Warn("version written but its key names not recorded; stat will use subkeys",
			"object", string(ref), "version", newVersion, "error", err.Error())
	}
	return drivers.Meta{
		State:     drivers.Present,
		Version:   newVersion,
		Keys:      keys,
		OwnerID:   opts.OwnerID,
		ManagedBy: true,
		Updated:   created,
	}, nil
}

// checkValues refuses what KV v2 cannot store exactly: its data is JSON, so
// invalid UTF-8 would come back altered.
func checkValues(v drivers.Values) error {
	for _, k := range v.Keys() {
		if !utf8.ValidString(k) {
			return fmt.Errorf("key %q is not valid UTF-8; KV v2 stores JSON strings", k)
		}
		if s, _ := v.Get(k); !utf8.ValidString(s) {
			return fmt.Errorf("the value of key %q is not valid UTF-8 (binary?); KV v2 stores JSON strings: encode it (base64) first", k)
		}
	}
	return nil
}

func (d *Driver) writeCustomMetadata(ctx context.Context, ref drivers.Ref, cm map[string]string) error {
	req := request{method: http.MethodPut, path: d.metadataPath(ref), body: map[string]any{"custom_metadata": cm}}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return d.callFail("put", ref, err)
	}
	if resp.status != http.StatusOK && resp.status != http.StatusNoContent {
		return d.statusFail("put", ref, req, resp)
	}
	return nil
}

// writeData writes one version with check-and-set. Its retries are
// reconciled: before sending again it reads what the server has, so a write
// that took effect but whose response was lost is recognised, not repeated.
func (d *Driver) writeData(ctx context.Context, ref drivers.Ref, v drivers.Values, cas int64, ownerID string, keys []string) (int64, time.Time, error) {
	req := request{
		method: http.MethodPut,
		path:   d.dataPath(ref),
		body: map[string]any{
			"options": map[string]any{"cas": cas},
			"data":    v.Map(),
		},
	}
	req.reconcile = func(ctx context.Context) (*response, error) {
		return d.reconcileWrite(ctx, ref, cas, ownerID, keys)
	}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return 0, time.Time{}, d.callFail("put", ref, err)
	}
	if resp.status != http.StatusOK {
		err := d.statusFail("put", ref, req, resp)
		if errors.Is(err, drivers.ErrCASConflict) {
			err = d.fail("put", ref, drivers.ErrCASConflict,
				fmt.Errorf("another writer changed the object after version %d was read (%s: %s)", cas, req, resp.describe()))
		}
		return 0, time.Time{}, err
	}
	var out versionMeta
	if err := resp.decode(&out); err != nil {
		return 0, time.Time{}, d.fail("put", ref, nil, fmt.Errorf("%s: %w", req, err))
	}
	return out.Version, parseTime(out.CreatedTime), nil
}

// reconcileWrite decides, before a retry of a data write with cas, whether
// an earlier attempt took effect. One attempt per read: failing reads count
// as a failed attempt of the write.
func (d *Driver) reconcileWrite(ctx context.Context, ref drivers.Ref, cas int64, ownerID string, keys []string) (*response, error) {
	mreq := request{method: http.MethodGet, path: d.metadataPath(ref)}
	resp, err := d.readOnce(ctx, mreq)
	if err != nil {
		return nil, err
	}
	md, err := d.metadataResult("put", ref, mreq, resp)
	if err != nil {
		return nil, err
	}
	var cur int64
	if md != nil {
		cur = md.CurrentVersion
	}
	switch {
	case cur == cas:
		return nil, nil // nothing landed: send again
	case cur != cas+1:
		return nil, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("while retrying the write of version %d the object moved to version %d", cas+1, cur))
	}
	o := ownerOf(md.CustomMetadata)
	if !o.managed || o.secretID != ownerID {
		return nil, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("while retrying, version %d appeared under another owner", cur))
	}
	sreq := d.subkeysRequest(ref, cur)
	resp, err = d.readOnce(ctx, sreq)
	if err != nil {
		return nil, err
	}
	got, err := d.subkeysResult("put", ref, sreq, resp)
	if err != nil {
		if errors.Is(err, errVersionGone) {
			return nil, d.fail("put", ref, drivers.ErrCASConflict,
				fmt.Errorf("while retrying, version %d appeared and was deleted", cur))
		}
		return nil, err
	}
	if !slices.Equal(got, keys) && !(len(got) == 0 && len(keys) == 0) {
		return nil, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("while retrying, version %d appeared with other key names", cur))
	}
	d.log.Info("write retried after a lost response had already succeeded; not writing it again",
		"object", string(ref), "version", cur)
	created := ""
	if v, ok := md.Versions[fmt.Sprint(cur)]; ok {
		created = v.CreatedTime
	}
	body, _ := json.Marshal(map[string]any{"data": versionMeta{Version: cur, CreatedTime: created}})
	return &response{status: http.StatusOK, body: body}, nil
}

// readOnce is one attempt of a read inside a reconciliation; a failure that
// may pass is reported as retryable so the outer loop backs off and tries
// the whole step again.
func (d *Driver) readOnce(ctx context.Context, req request) (*response, error) {
	resp, err := d.conn.once(ctx, req)
	if err == nil {
		if outcome, retry, _ := d.conn.classify(ctx, resp, nil); retry {
			return nil, &retryableError{outcome, fmt.Errorf("reconciling: %s: %s", req, resp.describe())}
		}
		return resp, nil
	}
	if ctx.Err() == nil && retryableTransport(err) {
		return nil, &retryableError{shortErr(err), fmt.Errorf("reconciling: %s: %w", req, err)}
	}
	return nil, d.callFail("put", "", err)
}
