package plaintext_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/drivers/plaintext"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func migrated(t *testing.T) *state.Store {
	t.Helper()
	dbURL, schema := testenv.Schema(t)
	st := openState(t, dbURL, schema)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConfigIsAnEmptyObject(t *testing.T) {
	t.Parallel()
	if typ, ok := drivers.Lookup("plaintext"); !ok || typ.Name != plaintext.TypeName {
		t.Fatal("plaintext is not registered")
	}
	for _, ok := range []string{"", "null", "{}", " { } "} {
		if _, err := drivers.Validate("plaintext", json.RawMessage(ok)); err != nil {
			t.Errorf("config %q: %v", ok, err)
		}
	}
	for raw, want := range map[string]string{
		`{"url":"x","mount":"m"}`: `"mount", "url"`,
		`[]`:                      "empty object",
		`"x"`:                     "empty object",
	} {
		_, err := drivers.Validate("plaintext", json.RawMessage(raw))
		if !errors.Is(err, drivers.ErrInvalidConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("config %s: %v, want ErrInvalidConfig mentioning %s", raw, err, want)
		}
	}
	_, err := drivers.Open(context.Background(), "plaintext", drivers.Config{Name: "pt", Raw: json.RawMessage(`{"x":1}`), Deps: migrated(t)})
	if !errors.Is(err, drivers.ErrInvalidConfig) || !strings.Contains(err.Error(), "backend pt") {
		t.Fatalf("Open with a bad config = %v, want ErrInvalidConfig naming the backend", err)
	}
	_, err = drivers.Open(context.Background(), "plaintext", drivers.Config{Name: "pt"})
	if err == nil || !strings.Contains(err.Error(), "RowStore") {
		t.Fatalf("Open without Deps = %v, want an error saying what Deps must be", err)
	}
}

func TestMissingRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := plaintext.New("default", migrated(t))
	if _, err := d.Stat(ctx, "nope"); !errors.Is(err, drivers.ErrNotFound) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("Stat of a missing row = %v, want ErrNotFound naming it", err)
	}
	if _, err := d.Put(ctx, "nope", drivers.NewValues(map[string]string{"K": "v"}), drivers.PutOptions{}); !errors.Is(err, drivers.ErrNotFound) {
		t.Fatalf("Put to a missing row = %v, want ErrNotFound", err)
	}
	if err := d.Delete(ctx, "nope", drivers.DeleteOptions{Destroy: true}); err != nil {
		t.Fatalf("Delete of a missing row = %v, want nil", err)
	}
}

// Values of a row placed on another plaintext backend share the column but
// are that backend's: this backend can see them (a migration writes the
// destination before the flip) but never lists or deletes them.
func TestRowsOnAnotherPlaintextBackend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migrated(t)
	if err := st.CreateBackend(ctx, &state.Backend{Name: "other", Type: "plaintext"}); err != nil {
		t.Fatal(err)
	}
	sec := &state.Secret{Name: "s", BackendName: "other", Data: map[string]string{"K": "v"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	def, other := plaintext.New("default", st), plaintext.New("other", st)

	if m, err := def.Stat(ctx, "s"); err != nil || !m.Exists() || m.OwnerID != sec.ID {
		t.Fatalf("Stat from the default backend = %+v, %v; want present, owned by the row", m, err)
	}
	if refs := listRefs(t, def); len(refs) != 0 {
		t.Fatalf("default lists %q, want nothing", refs)
	}
	if err := def.Delete(ctx, "s", drivers.DeleteOptions{Destroy: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.GetSecret(ctx, "s", true); err != nil || got.Data["K"] != "v" {
		t.Fatalf("default's Delete touched values of another backend's row (err %v)", err)
	}
	if refs := listRefs(t, other); !slices.Equal(refs, []drivers.Ref{"s"}) {
		t.Fatalf("other lists %q, want [s]", refs)
	}
	if err := other.Delete(ctx, "s", drivers.DeleteOptions{OwnerID: sec.ID}); err != nil {
		t.Fatal(err)
	}
	if m, err := other.Stat(ctx, "s"); err != nil || m.State != drivers.Absent {
		t.Fatalf("after its own Delete = %+v, %v; want absent", m, err)
	}
}

// A copy written before a flip to a backend of another type, left behind by
// an interrupted migration, is this backend's to list and clean up; the key
// names stay, since they describe the other backend's object.
func TestLeftoverCopyOnARowOfAnotherType(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migrated(t)
	if err := st.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}); err != nil {
		t.Fatal(err)
	}
	sec := &state.Secret{Name: "s", BackendName: "bao", Keys: []string{"K"}, BackendVersion: 3}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	d := plaintext.New("default", st)
	if _, err := d.Put(ctx, "s", drivers.NewValues(map[string]string{"K": "v"}), drivers.PutOptions{CAS: 0, OwnerID: sec.ID}); err != nil {
		t.Fatal(err)
	}
	if refs := listRefs(t, d); !slices.Equal(refs, []drivers.Ref{"s"}) {
		t.Fatalf("List = %q, want the leftover copy", refs)
	}
	if err := d.Delete(ctx, "s", drivers.DeleteOptions{OwnerID: sec.ID}); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "s", true)
	if err != nil || got.HasData || !slices.Equal(got.Keys, []string{"K"}) || got.BackendName != "bao" || got.BackendVersion != 3 {
		t.Fatalf("after cleanup: %+v, %v; want no data, keys and placement kept", got, err)
	}
}

// The driver over a *state.Tx writes in that transaction: writing the
// values and flipping the row commit or roll back together.
func TestPutSharesTheFlipTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migrated(t)
	if err := st.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}); err != nil {
		t.Fatal(err)
	}
	sec := &state.Secret{Name: "s", BackendName: "bao", Keys: []string{"K"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	abort := errors.New("abort")
	for _, commit := range []bool{false, true} {
		err := st.InTx(ctx, func(tx *state.Tx) error {
			d := plaintext.New("default", tx)
			if _, err := d.Put(ctx, "s", drivers.NewValues(map[string]string{"K": "v"}), drivers.PutOptions{CAS: 0, OwnerID: sec.ID}); err != nil {
				return err
			}
			row, err := tx.GetSecret(ctx, "s", false)
			if err != nil {
				return err
			}
			row.BackendID, row.BackendName = "", "default"
			if err := tx.UpdateSecret(ctx, &row, false); err != nil {
				return err
			}
			if !commit {
				return abort
			}
			return nil
		})
		got, gerr := st.GetSecret(ctx, "s", true)
		if gerr != nil {
			t.Fatal(gerr)
		}
		if !commit && (!errors.Is(err, abort) || got.HasData || got.BackendName != "bao") {
			t.Fatalf("rolled back: err %v, row has data %v on %s; want untouched", err, got.HasData, got.BackendName)
		}
		if commit && (err != nil || got.Data["K"] != "v" || got.BackendName != "default") {
			t.Fatalf("committed: err %v, row on %s; want the values on default", err, got.BackendName)
		}
	}
}

// The version is the data version: metadata updates of the row do not look
// like value changes to plan.
func TestVersionIgnoresMetadataUpdates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migrated(t)
	sec := &state.Secret{Name: "s", BackendName: "default"}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	d := plaintext.New("default", st)
	m, err := d.Put(ctx, "s", drivers.NewValues(map[string]string{"K": "v"}), drivers.PutOptions{CAS: 0, OwnerID: sec.ID})
	if err != nil {
		t.Fatal(err)
	}
	row, err := st.GetSecret(ctx, "s", false)
	if err != nil {
		t.Fatal(err)
	}
	row.BackendVersion, row.Fingerprint = m.Version, "fp"
	if err := st.UpdateSecret(ctx, &row, false); err != nil {
		t.Fatal(err)
	}
	after, err := d.Stat(ctx, "s")
	if err != nil || after.Version != m.Version || row.Generation == 1 {
		t.Fatalf("Stat after a metadata update = %+v, %v; want version %d", after, err, m.Version)
	}
	// A CAS write with that version still succeeds: nothing changed the values.
	if _, err := d.Put(ctx, "s", drivers.NewValues(map[string]string{"K": "w"}), drivers.PutOptions{CAS: m.Version, OwnerID: sec.ID}); err != nil {
		t.Fatalf("CAS write after a metadata update: %v", err)
	}
}

func listRefs(t *testing.T, d drivers.Driver) []drivers.Ref {
	t.Helper()
	var out []drivers.Ref
	for r, err := range d.List(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}
