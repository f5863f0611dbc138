package openbao

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// kvMetadata is a KV v2 metadata read (GET <mount>/metadata/<path>), and one
// entry of OpenBao's detailed-metadata LIST.
type kvMetadata struct {
	CurrentVersion int64                `json:"current_version"`
	CustomMetadata map[string]string    `json:"custom_metadata"`
	Versions       map[string]kvVersion `json:"versions"`
}

type kvVersion struct {
	CreatedTime  string `json:"created_time"`
	DeletionTime string `json:"deletion_time"`
	Destroyed    bool   `json:"destroyed"`
}

// versionMeta is the per-version metadata a data or subkeys read returns.
type versionMeta struct {
	Version        int64             `json:"version"`
	CreatedTime    string            `json:"created_time"`
	DeletionTime   string            `json:"deletion_time"`
	Destroyed      bool              `json:"destroyed"`
	CustomMetadata map[string]string `json:"custom_metadata"`
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// state is the lifecycle state of one version. A deletion_time in the
// future (delete_version_after) has not happened yet.
func versionState(v kvVersion, now time.Time) drivers.ObjectState {
	switch {
	case v.Destroyed:
		return drivers.Destroyed
	case v.DeletionTime != "" && !parseTime(v.DeletionTime).After(now):
		return drivers.SoftDeleted
	}
	return drivers.Present
}

// meta turns metadata into a Meta. Keys are filled in only when mcpctl's
// record describes the current version; keysKnown says so.
func (m *kvMetadata) meta(now time.Time) (meta drivers.Meta, keysKnown bool) {
	o := ownerOf(m.CustomMetadata)
	meta = drivers.Meta{OwnerID: o.secretID, ManagedBy: o.managed}
	if !o.managed {
		meta.OwnerID = ""
	}
	if m.CurrentVersion == 0 {
		// Metadata without versions: an ownership claim whose data write
		// never happened, or `kv metadata put` by hand.
		meta.State = drivers.Absent
		return meta, true
	}
	meta.Version = m.CurrentVersion
	v, ok := m.Versions[strconv.FormatInt(m.CurrentVersion, 10)]
	if ok {
		meta.State = versionState(v, now)
		meta.Updated = parseTime(v.CreatedTime)
	} else {
		meta.State = drivers.Present
	}
	keys, known := recordedKeys(m.CustomMetadata, m.CurrentVersion)
	if known {
		meta.Keys = keys
	}
	// Deleted and destroyed versions have no keys to ask subkeys for; a
	// record of their names is reported when there is one.
	return meta, known || meta.State != drivers.Present
}

// callFail is the driver error for a call that got no final response.
func (d *Driver) callFail(op string, ref drivers.Ref, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return d.fail(op, ref, nil, err)
	}
	var de *drivers.Error
	if errors.As(err, &de) {
		return err
	}
	return d.fail(op, ref, drivers.ErrUnavailable, err)
}

// statusFail is the driver error for a final response the caller did not
// expect.
func (d *Driver) statusFail(op string, ref drivers.Ref, req request, resp *response) error {
	desc := req.String() + ": " + resp.describe()
	switch resp.status {
	case http.StatusForbidden, http.StatusUnauthorized:
		if t := d.tokenSummary(); t != "" {
			desc += " (" + t + ")"
		}
		return d.fail(op, ref, drivers.ErrAuthFailed, errors.New("permission denied: "+desc))
	case http.StatusNotFound:
		if len(resp.errorsList()) > 0 {
			// "no handler for route": nothing is mounted there.
			return d.fail(op, ref, drivers.ErrInvalidConfig,
				fmt.Errorf("%s (is mount %q a KV version 2 mount%s?)", desc, d.cfg.Mount, d.namespaceHint()))
		}
		return d.fail(op, ref, drivers.ErrNotFound, errors.New(desc))
	case http.StatusBadRequest:
		if isCASMismatch(resp) {
			return d.fail(op, ref, drivers.ErrCASConflict, errors.New(desc))
		}
	}
	return d.fail(op, ref, nil, errors.New(desc))
}

// absent reports a 404 meaning "nothing there": KV v2 answers it with an
// empty error list (or a deleted version's metadata). A 404 with an error
// ("no handler for route") means a wrong mount or namespace, which must not
// pass for an empty store.
func absent(resp *response) bool {
	return resp.status == http.StatusNotFound && len(resp.errorsList()) == 0
}

func (d *Driver) namespaceHint() string {
	if d.cfg.Namespace == "" {
		return ""
	}
	return fmt.Sprintf(" in namespace %q", d.cfg.Namespace)
}

func isCASMismatch(resp *response) bool {
	for _, e := range resp.errorsList() {
		if strings.Contains(e, "check-and-set parameter did not match") {
			return true
		}
	}
	return false
}

// begin checks the ref and logs in; every operation starts with it.
func (d *Driver) begin(ctx context.Context, op string, ref drivers.Ref) error {
	if err := checkRef(ref); err != nil {
		return d.fail(op, ref, nil, err)
	}
	return d.login(ctx)
}

// readMetadata returns the object's metadata, nil when there is none.
func (d *Driver) readMetadata(ctx context.Context, op string, ref drivers.Ref) (*kvMetadata, error) {
	req := request{method: http.MethodGet, path: d.metadataPath(ref)}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return nil, d.callFail(op, ref, err)
	}
	return d.metadataResult(op, ref, req, resp)
}

func (d *Driver) metadataResult(op string, ref drivers.Ref, req request, resp *response) (*kvMetadata, error) {
	switch resp.status {
	case http.StatusOK:
		var md kvMetadata
		if err := resp.decode(&md); err != nil {
			return nil, d.fail(op, ref, nil, fmt.Errorf("%s: %w", req, err))
		}
		return &md, nil
	case http.StatusNotFound:
		if absent(resp) {
			return nil, nil
		}
	}
	return nil, d.statusFail(op, ref, req, resp)
}

// errVersionGone: the version asked for was deleted between two reads.
var errVersionGone = errors.New("version no longer readable")

// subkeys returns the key names of one version without its values.
func (d *Driver) subkeys(ctx context.Context, op string, ref drivers.Ref, version int64) ([]string, error) {
	req := d.subkeysRequest(ref, version)
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return nil, d.callFail(op, ref, err)
	}
	return d.subkeysResult(op, ref, req, resp)
}

func (d *Driver) subkeysRequest(ref drivers.Ref, version int64) request {
	return request{method: http.MethodGet, path: d.subkeysPath(ref),
		query: url.Values{"version": {strconv.FormatInt(version, 10)}, "depth": {"1"}}}
}

func (d *Driver) subkeysResult(op string, ref drivers.Ref, req request, resp *response) ([]string, error) {
	switch resp.status {
	case http.StatusOK:
		var out struct {
			Subkeys map[string]json.RawMessage `json:"subkeys"`
		}
		if err := resp.decode(&out); err != nil {
			return nil, d.fail(op, ref, nil, fmt.Errorf("%s: %w", req, err))
		}
		keys := make([]string, 0, len(out.Subkeys))
		for k := range out.Subkeys {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return keys, nil
	case http.StatusNotFound:
		if absent(resp) {
			return nil, errVersionGone
		}
	}
	return nil, d.statusFail(op, ref, req, resp)
}

// Stat reports the object's state, version, owner and key names with one
// metadata read, plus a subkeys read when the version moved since mcpctl
// last wrote it. It never reads values.
func (d *Driver) Stat(ctx context.Context, ref drivers.Ref) (drivers.Meta, error) {
	if err := d.begin(ctx, "stat", ref); err != nil {
		return drivers.Meta{}, err
	}
	for range 3 {
		md, err := d.readMetadata(ctx, "stat", ref)
		if err != nil || md == nil {
			return drivers.Meta{}, err
		}
		m, known := md.meta(time.Now())
		if known {
			return m, nil
		}
		m.Keys, err = d.subkeys(ctx, "stat", ref, m.Version)
		if errors.Is(err, errVersionGone) {
			continue // deleted or replaced under us: read again
		}
		if err != nil {
			return drivers.Meta{}, err
		}
		return m, nil
	}
	return drivers.Meta{}, d.fail("stat", ref, drivers.ErrUnavailable,
		errors.New("the object kept changing between metadata and subkeys reads"))
}

// Get reads the current version's values; the data read also returns its
// metadata (version, time, custom_metadata), so it is one request.
func (d *Driver) Get(ctx context.Context, ref drivers.Ref) (drivers.Values, drivers.Meta, error) {
	if err := d.begin(ctx, "get", ref); err != nil {
		return drivers.Values{}, drivers.Meta{}, err
	}
	req := request{method: http.MethodGet, path: d.dataPath(ref)}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return drivers.Values{}, drivers.Meta{}, d.callFail("get", ref, err)
	}
	var out struct {
		Data     map[string]json.RawMessage `json:"data"`
		Metadata *versionMeta               `json:"metadata"`
	}
	switch resp.status {
	case http.StatusOK:
		if err := resp.decode(&out); err != nil {
			return drivers.Values{}, drivers.Meta{}, d.fail("get", ref, nil, fmt.Errorf("%s: %w", req, err))
		}
	case http.StatusNotFound:
		// A deleted or destroyed version answers 404 with its metadata.
		what := "no such object"
		if !absent(resp) {
			return drivers.Values{}, drivers.Meta{}, d.statusFail("get", ref, req, resp)
		}
		if resp.decode(&out) == nil && out.Metadata != nil {
			if out.Metadata.Destroyed {
				what = fmt.Sprintf("version %d is destroyed", out.Metadata.Version)
			} else {
				what = fmt.Sprintf("version %d is soft-deleted (undelete it, or write a new version)", out.Metadata.Version)
			}
		}
		return drivers.Values{}, drivers.Meta{}, d.fail("get", ref, drivers.ErrNotFound, errors.New(what))
	default:
		return drivers.Values{}, drivers.Meta{}, d.statusFail("get", ref, req, resp)
	}
	values := make(map[string]string, len(out.Data))
	for k, raw := range out.Data {
		values[k] = valueString(raw)
	}
	v := drivers.NewValues(values)
	m := drivers.Meta{State: drivers.Present, Keys: v.Keys()}
	if md := out.Metadata; md != nil {
		o := ownerOf(md.CustomMetadata)
		m.Version, m.Updated, m.ManagedBy = md.Version, parseTime(md.CreatedTime), o.managed
		if o.managed {
			m.OwnerID = o.secretID
		}
	}
	return v, m, nil
}

// valueString maps one KV value to a string: strings as they are, null as
// "", and anything else a non-mcpctl writer stored (numbers, objects) as its
// JSON text, so nothing is silently dropped.
func valueString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return string(raw)
}

// Delete soft-deletes the current version (recoverable with undelete) or,
// with Destroy, removes every version and the metadata. With OwnerID set it
// refuses objects owned by someone else (one metadata read first).
//
// With Version (and no Destroy) it soft-deletes exactly that version in one
// request (PUT <mount>/delete/<path> {"versions":[v]}, Vault's POST), with
// no metadata read: the caller checked ownership when it read that version.
// A later version written since is left alone; an absent object or version
// is no error (KV v2 answers 204 either way). A token whose policy predates
// the rule on <mount>/delete/ is refused it (403): the driver then falls
// back to the owner-checked delete of the current version, only while the
// current version is still Version, and stops trying the versioned request.
func (d *Driver) Delete(ctx context.Context, ref drivers.Ref, opts drivers.DeleteOptions) error {
	op := "delete"
	if opts.Destroy {
		op = "destroy"
	}
	if err := d.begin(ctx, op, ref); err != nil {
		return err
	}
	exact := opts.Version > 0 && !opts.Destroy
	if exact && !d.noVersionDelete.Load() {
		req := request{method: http.MethodPut, path: d.deletePath(ref), body: map[string]any{"versions": []int64{opts.Version}}}
		resp, err := d.conn.do(ctx, req)
		if err != nil {
			return d.callFail(op, ref, err)
		}
		switch {
		case resp.status == http.StatusOK || resp.status == http.StatusNoContent || absent(resp):
			return nil
		case resp.status != http.StatusForbidden:
			return d.statusFail(op, ref, req, resp)
		}
		d.noVersionDelete.Store(true)
		d.log.Warn("the token may not soft-delete a given version (no update on <mount>/delete/ in its policy; see the apply policy in docs/security.md): deleting the current version after a metadata read instead",
			"request", req.String())
	}
	if opts.OwnerID != "" || exact {
		md, err := d.readMetadata(ctx, op, ref)
		if err != nil {
			return err
		}
		if md == nil {
			return nil
		}
		if opts.OwnerID != "" {
			if err := d.checkOwner(op, ref, md, opts.OwnerID); err != nil {
				return err
			}
		}
		if exact && md.CurrentVersion != opts.Version {
			// The version asked for is no longer current: someone wrote a
			// later one, which is not ours to delete.
			return nil
		}
	}
	req := request{method: http.MethodDelete, path: d.dataPath(ref)}
	if opts.Destroy {
		req.path = d.metadataPath(ref)
	}
	resp, err := d.conn.do(ctx, req)
	if err != nil {
		return d.callFail(op, ref, err)
	}
	if resp.status == http.StatusOK || resp.status == http.StatusNoContent || absent(resp) {
		return nil
	}
	return d.statusFail(op, ref, req, resp)
}

// checkOwner refuses an object not owned by id.
func (d *Driver) checkOwner(op string, ref drivers.Ref, md *kvMetadata, id string) error {
	o := ownerOf(md.CustomMetadata)
	switch {
	case !o.managed:
		return d.fail(op, ref, drivers.ErrNotOwned,
			errors.New("the object exists and is not managed by mcpctl (no managed-by=mcpctl custom_metadata); adopt it explicitly"))
	case o.secretID != id:
		who := "secret id " + o.secretID
		if o.secretName != "" {
			who = fmt.Sprintf("secret %s (id %s)", o.secretName, o.secretID)
		}
		return d.fail(op, ref, drivers.ErrNotOwned, fmt.Errorf("the object belongs to %s", who))
	}
	return nil
}
