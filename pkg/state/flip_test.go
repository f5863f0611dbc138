package state_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// FlipSecret writes the row and the journal entry together, or neither.
func TestFlipSecretIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	if err := st.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}); err != nil {
		t.Fatal(err)
	}
	sec := &state.Secret{Name: "s", BackendName: "default", Data: map[string]string{"K": "v"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	j := &state.Migration{SecretID: sec.ID, SecretName: "s", FromBackendID: sec.BackendID, FromBackend: "default",
		ToBackend: "bao", State: state.MigrationStarted}
	bao, _ := st.GetBackend(ctx, "bao")
	j.ToBackendID = bao.ID
	if err := st.StartMigration(ctx, j); err != nil {
		t.Fatal(err)
	}

	// A stale generation: nothing changes, and the error says why.
	stale := *sec
	stale.Generation--
	stale.BackendID, stale.BackendName, stale.Data, stale.BackendVersion = bao.ID, "bao", nil, 4
	if err := st.FlipSecret(ctx, &stale, j.ID, 4, state.MigrationFlipped); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("flip at a stale generation: %v, want ErrConflict", err)
	}
	if got, _ := st.GetSecret(ctx, "s", true); got.BackendName != "default" || got.Data["K"] != "v" {
		t.Fatalf("row changed by a refused flip: %+v", got)
	}
	if open, _ := st.OpenMigrations(ctx); len(open) != 1 || open[0].State != state.MigrationStarted {
		t.Fatalf("journal changed by a refused flip: %+v", open)
	}

	flip := *sec
	flip.BackendID, flip.BackendName, flip.Data, flip.BackendVersion = bao.ID, "bao", nil, 4
	if err := st.FlipSecret(ctx, &flip, j.ID, 4, state.MigrationFlipped); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "s", true)
	if err != nil || got.BackendName != "bao" || got.Data != nil || got.BackendVersion != 4 || got.Generation != flip.Generation {
		t.Fatalf("after the flip: %+v %v (flip generation %d)", got, err, flip.Generation)
	}
	open, _ := st.OpenMigrations(ctx)
	if len(open) != 1 || open[0].State != state.MigrationFlipped || open[0].DestVersion != 4 {
		t.Fatalf("journal after the flip: %+v", open)
	}
}
