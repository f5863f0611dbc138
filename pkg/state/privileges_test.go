package state_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// A viewer role has no privilege on secrets.data (Postgres column
// privileges); the reads plan needs must still work for it.
func TestViewerWithoutDataPrivilege(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL, schema := testenv.Schema(t)
	st := openSchema(t, dbURL, schema)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSecret(ctx, &state.Secret{Name: "openai", BackendName: "default", Data: map[string]string{"K": "v"}}); err != nil {
		t.Fatal(err)
	}

	role := schema + "_viewer"
	s := schema
	for _, q := range []string{
		`CREATE ROLE ` + role + ` NOLOGIN`,
		`GRANT USAGE ON SCHEMA ` + s + ` TO ` + role,
		`GRANT SELECT ON ` + s + `.backends, ` + s + `.schema_migrations, ` + s + `.lock_holder, ` + s + `.secret_migrations, ` + s + `.audit_log TO ` + role,
		`GRANT SELECT (id, name, backend_id, external_ref, has_data, data_version, data_owner, keys, backend_version, fingerprint, managed,
			labels, annotations, protected, generation, created_at, updated_at) ON ` + s + `.secrets TO ` + role,
	} {
		if _, err := st.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() {
		// Roles are cluster-wide: drop it before the schema goes.
		_, _ = st.Pool().Exec(context.Background(), `DROP OWNED BY `+role)
		_, _ = st.Pool().Exec(context.Background(), `DROP ROLE `+role)
	})

	// Connect as the superuser but SET ROLE at session start (no password
	// needed for a login role).
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("role", role) // sent as a run-time parameter in the startup packet
	u.RawQuery = q.Encode()
	viewer := openSchema(t, u.String(), schema)
	var current string
	if err := viewer.Pool().QueryRow(ctx, `SELECT current_user`).Scan(&current); err != nil || current != role {
		t.Fatalf("viewer session runs as %q (%v), want %q", current, err, role)
	}

	ss, err := viewer.ListSecrets(ctx, false)
	if err != nil {
		t.Fatalf("ListSecrets without data as viewer: %v", err)
	}
	if len(ss) != 1 || !ss[0].HasData || ss[0].Keys[0] != "K" || ss[0].DataVersion != 1 {
		t.Fatalf("viewer's secrets = %+v", ss)
	}
	if _, err := viewer.GetSecret(ctx, "openai", false); err != nil {
		t.Fatalf("GetSecret without data as viewer: %v", err)
	}
	if _, err := viewer.ListSecrets(ctx, true); !errors.Is(err, state.ErrPermissionDenied) {
		t.Fatalf("ListSecrets with data as viewer = %v, want ErrPermissionDenied", err)
	}
	if _, err := viewer.FingerprintKey(ctx); !errors.Is(err, state.ErrPermissionDenied) {
		t.Fatalf("FingerprintKey as viewer = %v, want ErrPermissionDenied", err)
	}
	err = viewer.CreateSecret(ctx, &state.Secret{Name: "x", BackendName: "default"})
	if !errors.Is(err, state.ErrPermissionDenied) || !containsAll(err.Error(), `secret "x"`, "permission denied") {
		t.Fatalf("CreateSecret as viewer = %v, want a permission denied error naming the secret", err)
	}
	status, err := viewer.Status(ctx)
	if err != nil || !status.Initialized || status.Secrets != 1 {
		t.Fatalf("Status as viewer = %+v, %v", status, err)
	}
	if held, _, err := viewer.LockStatus(ctx); err != nil || held {
		t.Fatalf("LockStatus as viewer = %v, %v", held, err)
	}
}
