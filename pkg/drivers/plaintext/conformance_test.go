package plaintext_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sync"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/drivers/drivertest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// The plaintext driver runs the conformance suite on the real Postgres, each
// case in its own schema, with the bootstrap backend "default" as the
// backend under test.
func TestConformance(t *testing.T) {
	drivertest.Run(t, drivertest.Harness{
		NewStore: newConformanceStore,
		Caps:     drivertest.Caps{Ownership: true, Foreign: true, Outside: true, ReadOnly: true},
	})
}

func newConformanceStore(t *testing.T) drivertest.Store {
	dbURL, schema := testenv.Schema(t)
	st := openState(t, dbURL, schema)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	var elsewhere sync.Once
	return drivertest.Store{
		// Each driver gets its own pool, as another process would.
		Open: func(t *testing.T) drivers.Driver {
			return openDriver(t, openState(t, dbURL, schema), "default")
		},
		Prepare: func(t *testing.T, refs ...drivers.Ref) {
			for _, r := range refs {
				err := st.CreateSecret(context.Background(), &state.Secret{Name: string(r), BackendName: "default"})
				if err != nil && !errors.Is(err, state.ErrExists) {
					t.Fatalf("prepare %s: %v", r, err)
				}
			}
		},
		// An outside write: psql setting the values, owner metadata untouched.
		WriteForeign: func(t *testing.T, ref drivers.Ref, v map[string]string) {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := st.Pool().Exec(context.Background(), `UPDATE `+schema+`.secrets SET data = $2 WHERE name = $1`, string(ref), string(b))
			if err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("foreign write of %s: %v (%d rows)", ref, err, tag.RowsAffected())
			}
		},
		// Outside this backend: a row on another plaintext backend.
		WriteOutside: func(t *testing.T, name string) {
			ctx := context.Background()
			elsewhere.Do(func() {
				if err := st.CreateBackend(ctx, &state.Backend{Name: "elsewhere", Type: "plaintext"}); err != nil {
					t.Fatal(err)
				}
			})
			sec := &state.Secret{Name: name, BackendName: "elsewhere", Data: map[string]string{"K": drivertest.Marker("out")}}
			if err := st.CreateSecret(ctx, sec); err != nil {
				t.Fatal(err)
			}
		},
		OpenReadOnly: func(t *testing.T) drivers.Driver {
			return openDriver(t, viewerState(t, st, dbURL, schema), "default")
		},
	}
}

func openState(t *testing.T, dbURL, schema string) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), state.Options{URL: dbURL, Schema: schema, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func openDriver(t *testing.T, st *state.Store, backend string) drivers.Driver {
	t.Helper()
	d, err := drivers.Open(context.Background(), "plaintext", drivers.Config{Name: backend, Raw: json.RawMessage(`{}`), Deps: st})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// viewerState connects as a role that may read everything but secret
// values (column privileges), the way plan runs with least privilege.
func viewerState(t *testing.T, admin *state.Store, dbURL, schema string) *state.Store {
	t.Helper()
	ctx := context.Background()
	role := schema + "_viewer"
	for _, q := range []string{
		`CREATE ROLE ` + role + ` NOLOGIN`,
		`GRANT USAGE ON SCHEMA ` + schema + ` TO ` + role,
		`GRANT SELECT ON ` + schema + `.backends TO ` + role,
		`GRANT SELECT (id, name, backend_id, external_ref, has_data, data_version, data_owner, keys, backend_version,
			fingerprint, managed, labels, annotations, protected, generation, created_at, updated_at) ON ` + schema + `.secrets TO ` + role,
	} {
		if _, err := admin.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		// Roles are cluster-wide; drop it before the schema goes.
		_, _ = admin.Pool().Exec(context.Background(), `DROP OWNED BY `+role)
		_, _ = admin.Pool().Exec(context.Background(), `DROP ROLE `+role)
	})
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("role", role) // a run-time parameter of the session: SET ROLE at connect
	u.RawQuery = q.Encode()
	return openState(t, u.String(), schema)
}
