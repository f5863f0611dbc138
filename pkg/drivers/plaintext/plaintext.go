// Package plaintext is the secret backend that keeps values in Postgres, in
// the data column of the secret's own row in mcpctl's state. Writing values
// and moving a secret's row can therefore share one transaction.
//
// The package registers backend type "plaintext". Its config is an empty
// object. Config.Deps must implement RowStore: a *state.Store, or a
// *state.Tx to make driver writes part of that transaction.
//
// Objects are secret rows, named by the secret's name (the Ref):
//   - Stat, Get and Put see the row's data whatever backend the row is on,
//     so a migration can write the destination copy before it flips the row.
//   - Delete and List only touch rows placed on this backend, or on a
//     backend of another type (a copy left by an interrupted migration).
//     Rows on another plaintext backend share the same column, and their
//     values belong to that backend.
//   - The version is the row's data version, which only moves when the
//     values change (metadata updates do not look like value changes).
//   - There is no soft delete: Delete sets data to NULL, with or without
//     Destroy.
//   - A missing row is ErrNotFound for Stat, Get and Put (the row is created
//     with the secret; this driver never creates rows); Delete of a missing
//     row is a no-op.
package plaintext

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// TypeName is the backend type this package registers.
const TypeName = "plaintext"

func init() {
	drivers.Register(drivers.Type{Name: TypeName, Validate: Validate, New: open})
}

// RowStore is the part of the state store the driver uses. *state.Store
// and *state.Tx implement it.
type RowStore interface {
	GetSecret(ctx context.Context, name string, withData bool) (state.Secret, error)
	UpdateSecret(ctx context.Context, sec *state.Secret, withData bool) error
	EachSecret(ctx context.Context, withData bool, fn func(*state.Secret) error) error
}

var (
	_ RowStore = (*state.Store)(nil)
	_ RowStore = (*state.Tx)(nil)
)

// Validate accepts an empty config (absent, null or {}); any key is an error.
func Validate(raw json.RawMessage) ([]drivers.SecretRef, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("plaintext config must be an empty object: %w", drivers.ErrInvalidConfig)
	}
	if len(m) > 0 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, fmt.Sprintf("%q", k))
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("plaintext backends take no config, unknown key %s: %w", strings.Join(keys, ", "), drivers.ErrInvalidConfig)
	}
	return nil, nil
}

func open(_ context.Context, cfg drivers.Config) (drivers.Driver, error) {
	if _, err := Validate(cfg.Raw); err != nil {
		return nil, &drivers.Error{Backend: cfg.Name, Op: "open", Err: err}
	}
	rows, ok := cfg.Deps.(RowStore)
	if !ok {
		return nil, &drivers.Error{Backend: cfg.Name, Op: "open",
			Err: fmt.Errorf("drivers.Config.Deps is %T, want a plaintext.RowStore (*state.Store or *state.Tx)", cfg.Deps)}
	}
	return New(cfg.Name, rows), nil
}

// New returns the driver of plaintext backend name over rows. Callers that
// want a driver bound to a transaction pass a *state.Tx.
func New(name string, rows RowStore) *Driver {
	return &Driver{backend: name, rows: rows}
}

// Driver is one plaintext backend.
type Driver struct {
	backend string
	rows    RowStore
}

var (
	_ drivers.Driver     = (*Driver)(nil)
	_ drivers.BulkStater = (*Driver)(nil)
)

func (d *Driver) fail(op string, ref drivers.Ref, kind, err error) error {
	return &drivers.Error{Backend: d.backend, Ref: ref, Op: op, Kind: kind, Err: err}
}

// rowErr maps a state error: a missing row is ErrNotFound, a row changed
// since it was read a CAS conflict.
func (d *Driver) rowErr(op string, ref drivers.Ref, err error) error {
	switch {
	case errors.Is(err, state.ErrNotFound):
		return d.fail(op, ref, drivers.ErrNotFound, errors.New("no secret row of that name (plaintext values live in the secret's row: create the secret first)"))
	case errors.Is(err, state.ErrConflict):
		return d.fail(op, ref, drivers.ErrCASConflict, errors.New("the secret row changed concurrently"))
	}
	return d.fail(op, ref, nil, err)
}

// meta describes the row's values. Never reads them: HasData, DataVersion,
// DataOwner and Keys are readable without the data privilege.
func meta(sec state.Secret) drivers.Meta {
	m := sharedMeta(&sec)
	m.Keys = slices.Clone(m.Keys)
	return m
}

// sharedMeta is meta with Keys shared with the row.
func sharedMeta(sec *state.Secret) drivers.Meta {
	if !sec.HasData {
		return drivers.Meta{State: drivers.Absent}
	}
	return drivers.Meta{
		State:     drivers.Present,
		Version:   sec.DataVersion,
		Keys:      sec.Keys,
		OwnerID:   sec.DataOwner,
		ManagedBy: sec.DataOwner != "",
		Updated:   sec.UpdatedAt,
	}
}

// Stat reports the row's values without reading them.
func (d *Driver) Stat(ctx context.Context, ref drivers.Ref) (drivers.Meta, error) {
	sec, err := d.rows.GetSecret(ctx, string(ref), false)
	if err != nil {
		return drivers.Meta{}, d.rowErr("stat", ref, err)
	}
	return meta(sec), nil
}

// Get reads the row's values; ErrNotFound when it has none.
func (d *Driver) Get(ctx context.Context, ref drivers.Ref) (drivers.Values, drivers.Meta, error) {
	sec, err := d.rows.GetSecret(ctx, string(ref), true)
	if err != nil {
		return drivers.Values{}, drivers.Meta{}, d.rowErr("get", ref, err)
	}
	if !sec.HasData {
		return drivers.Values{}, meta(sec), d.fail("get", ref, drivers.ErrNotFound, errors.New("the secret row holds no values"))
	}
	return drivers.NewValues(sec.Data), meta(sec), nil
}

// Put writes the values into the row. CAS 0 requires the row to hold no
// values, n > 0 that its data version is n, < 0 the version just read. A
// row holding values written for another owner (or outside mcpctl) is
// refused with ErrNotOwned unless opts.Adopt. The write itself is
// conditional on the row's generation, so a concurrent writer loses with a
// CAS conflict rather than overwriting.
func (d *Driver) Put(ctx context.Context, ref drivers.Ref, v drivers.Values, opts drivers.PutOptions) (drivers.Meta, error) {
	sec, err := d.rows.GetSecret(ctx, string(ref), false)
	if err != nil {
		return drivers.Meta{}, d.rowErr("put", ref, err)
	}
	if sec.HasData && sec.DataOwner != opts.OwnerID && !opts.Adopt {
		who := "was not written by mcpctl"
		if sec.DataOwner != "" {
			who = "is owned by " + sec.DataOwner
		}
		return drivers.Meta{}, d.fail("put", ref, drivers.ErrNotOwned, fmt.Errorf("the stored values %s", who))
	}
	switch {
	case opts.CAS == 0 && sec.HasData:
		return drivers.Meta{}, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("values exist (version %d) and CAS 0 only creates", sec.DataVersion))
	case opts.CAS > 0 && !sec.HasData:
		return drivers.Meta{}, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("no values to update (expected version %d)", opts.CAS))
	case opts.CAS > 0 && sec.DataVersion != opts.CAS:
		return drivers.Meta{}, d.fail("put", ref, drivers.ErrCASConflict,
			fmt.Errorf("version is %d, expected %d", sec.DataVersion, opts.CAS))
	}
	sec.Data = v.Map()
	if sec.Data == nil {
		sec.Data = map[string]string{} // values with no keys, not "no values"
	}
	sec.DataOwner = opts.OwnerID
	if err := d.rows.UpdateSecret(ctx, &sec, true); err != nil {
		return drivers.Meta{}, d.rowErr("put", ref, err)
	}
	return meta(sec), nil
}

// owns reports whether the row's values are this backend's to delete or
// list: the row is placed here, or on a backend of another type (a copy
// left by a migration). Values of a row on another plaintext backend are
// that backend's.
func (d *Driver) owns(sec state.Secret) bool {
	return sec.BackendName == d.backend || sec.BackendType != TypeName
}

// Delete sets the row's data to NULL (there is no soft delete: Destroy
// changes nothing). A missing row, a row without values, or a row placed on
// another plaintext backend is left alone. opts.OwnerID, when set, must be
// the owner the values were written for. opts.Version, when > 0 without
// Destroy, clears the values only while their data version is still that
// one: values written since are left alone, as KV v2 leaves a later version
// alone (there is no history to delete one version from, so this is the
// safe reading of "delete exactly this version"). The clear itself is
// conditional on the row's generation, so a concurrent writer makes it a
// CAS conflict rather than a lost write.
func (d *Driver) Delete(ctx context.Context, ref drivers.Ref, opts drivers.DeleteOptions) error {
	sec, err := d.rows.GetSecret(ctx, string(ref), false)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return d.rowErr("delete", ref, err)
	}
	if !sec.HasData || !d.owns(sec) {
		return nil
	}
	if opts.Version > 0 && !opts.Destroy && sec.DataVersion != opts.Version {
		return nil // values written since the version asked for: not that version's to clear
	}
	if opts.OwnerID != "" && opts.OwnerID != sec.DataOwner {
		return d.fail("delete", ref, drivers.ErrNotOwned, errors.New("the stored values were written for another owner"))
	}
	sec.Data = nil
	if sec.BackendName == d.backend {
		sec.Keys = nil // the secret has no values left; on another backend its keys describe that copy
	}
	if err := d.rows.UpdateSecret(ctx, &sec, true); err != nil {
		return d.rowErr("delete", ref, err)
	}
	return nil
}

// List yields, in name order, the rows holding values that are this
// backend's (see Delete). One query.
func (d *Driver) List(ctx context.Context) iter.Seq2[drivers.Ref, error] {
	return func(yield func(drivers.Ref, error) bool) {
		// The names are collected first: the caller may call the driver
		// (Stat, Get) between two names, and the query holds its
		// connection until it has read every row.
		var refs []drivers.Ref
		err := d.rows.EachSecret(ctx, false, func(sec *state.Secret) error {
			if sec.HasData && d.owns(*sec) {
				refs = append(refs, drivers.Ref(sec.Name))
			}
			return nil
		})
		if err != nil {
			yield("", d.fail("list", "", nil, err))
			return
		}
		for _, ref := range refs {
			if !yield(ref, nil) {
				return
			}
		}
	}
}

// StatAll answers Stat for every row holding values, in one query. Like
// Stat, and unlike List, it includes rows placed on other plaintext
// backends, so callers can use it in place of Stat.
func (d *Driver) StatAll(ctx context.Context) (map[drivers.Ref]drivers.Meta, error) {
	out := map[drivers.Ref]drivers.Meta{}
	err := d.StatEach(ctx, func(ref drivers.Ref, m drivers.Meta) {
		m.Keys = slices.Clone(m.Keys)
		out[ref] = m
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// StatEach is StatAll one row at a time (drivers.BulkStreamer), streamed
// from the database: nothing of the table is kept but what fn keeps. Rows
// with equal key names share one Keys slice.
func (d *Driver) StatEach(ctx context.Context, fn func(drivers.Ref, drivers.Meta)) error {
	err := d.rows.EachSecret(ctx, false, func(sec *state.Secret) error {
		if sec.HasData {
			fn(drivers.Ref(sec.Name), sharedMeta(sec))
		}
		return nil
	})
	if err != nil {
		return d.fail("stat all", "", nil, err)
	}
	return nil
}
