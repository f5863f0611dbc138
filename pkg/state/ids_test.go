package state_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// CreateSecret inserts the row under an ID chosen beforehand (NewID), as
// apply does for an object written before its row.
func TestCreateSecretWithAChosenID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	id := state.NewID()
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("NewID = %q, not a version 4 UUID", id)
	}
	s := state.Secret{ID: id, Name: "chosen", BackendName: "default"}
	if err := st.CreateSecret(ctx, &s); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "chosen", false)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != id || s.ID != id {
		t.Fatalf("row ID %q (returned %q), want %q", got.ID, s.ID, id)
	}
	dup := state.Secret{ID: id, Name: "other", BackendName: "default"}
	if err := st.CreateSecret(ctx, &dup); !errors.Is(err, state.ErrExists) {
		t.Fatalf("second row with the same ID: %v, want ErrExists", err)
	}
}
