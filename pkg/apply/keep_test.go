package apply_test

import (
	"context"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// TestAbandonedMoveIntoPlaintextLeavesTheKeptCopy: a secret moved off the
// plaintext default with --keep-source keeps its values in the row; a later
// move back that was interrupted before the flip, then abandoned by apply,
// must not clear them (a move into plaintext writes nothing before the
// flip, so the row's values are the kept copy, not a leftover of that move).
func TestAbandonedMoveIntoPlaintextLeavesTheKeptCopy(t *testing.T) {
	ctx := context.Background()
	w, s := seededWorld(t, 1, "default")
	if code, out := w.runMcpctl(nil, "migrate", "secrets", "--from", "default", "--to", "bao", "--names", "s000", "--keep-source", "--auto-approve"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	row, err := s.GetSecret(ctx, "s000", false)
	if err != nil {
		t.Fatal(err)
	}
	def, err := s.GetBackend(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	// The move back, interrupted right after its journal row.
	m := &state.Migration{SecretID: row.ID, SecretName: "s000", FromBackendID: row.BackendID, FromBackend: "bao", ToBackendID: def.ID, ToBackend: "default"}
	if err := s.StartMigration(ctx, m); err != nil {
		t.Fatal(err)
	}
	// The manifests keep it on bao: apply abandons that move.
	w.write("secrets.yaml", w.secretsYAML(1, "bao"))
	w.converge(ctx)

	full, err := s.GetSecret(ctx, "s000", true)
	if err != nil {
		t.Fatal(err)
	}
	if full.BackendName != "bao" || full.Data["KEY"] != w.wantValues(1)["s000"] {
		t.Errorf("row on %s with kept values %v; want bao with the original values still kept", full.BackendName, full.Data != nil)
	}
	kept, err := s.KeptCopies(ctx)
	if err != nil || len(kept) != 1 {
		t.Errorf("kept entries %d (err %v), want 1", len(kept), err)
	}
	w.checkReadable(s, 1, "after the abandoned move")
}
