package apply_test

import (
	"context"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/plan"
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

// TestKeepSourceMoveRecordsTheDestinationVersion: a move off plaintext
// with --keep-source leaves the values in the row as the kept copy, and the
// row must record the version of the object written on the destination,
// not the row's data version: a secret whose values changed twice on
// plaintext (data version 3) moved onto a fresh Vault object (version 1)
// used to keep 3, and the next plan reported the object as changed outside
// mcpctl and wrote it again.
func TestKeepSourceMoveRecordsTheDestinationVersion(t *testing.T) {
	ctx := context.Background()
	w, s := seededWorld(t, 1, "default")
	for _, v := range []string{"second", "third"} {
		w.env["VAL_S000"] = v
		w.mustApply(s)
	}
	before, err := s.GetSecret(ctx, "s000", false)
	if err != nil || before.DataVersion != 3 {
		t.Fatalf("on default: data version %d (%v), want 3", before.DataVersion, err)
	}
	if code, out := w.runMcpctl(nil, "migrate", "secrets", "--from", "default", "--to", "bao", "--names", "s000", "--keep-source", "--auto-approve"); code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, out)
	}
	row, err := s.GetSecret(ctx, "s000", false)
	if err != nil {
		t.Fatal(err)
	}
	if row.BackendName != "bao" || row.BackendVersion != 1 || !row.HasData {
		t.Fatalf("after the move: on %s at backend version %d, kept copy %v; want bao at version 1 (the new object's), kept copy",
			row.BackendName, row.BackendVersion, row.HasData)
	}
	w.write("secrets.yaml", w.secretsYAML(1, "bao"))
	w.env["VAL_S000"] = "third"
	p, _ := w.mustApply(s)
	for _, f := range p.Findings {
		if f.Type != plan.Kept {
			t.Errorf("the plan after the move finds %s: %s", f.Type, f.Reason)
		}
	}
	if p.HasChanges() {
		t.Errorf("the plan after the move has %d actions, want none: %+v", len(p.Actions), p.Actions)
	}
}
