package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/plan"
)

// TestRepairRestoresObjectsDeletedOutsideMcpctl: one managed secret's KV
// object is soft-deleted and another's destroyed (metadata and all) behind
// mcpctl's back; the plan shows both as repair and apply writes the values
// back from their sources.
func TestRepairRestoresObjectsDeletedOutsideMcpctl(t *testing.T) {
	t.Parallel()
	w, s := seededWorld(t, 3, "bao")
	ctx := context.Background()
	kv := w.vault.Client(t).KVv2(w.mount)
	if err := kv.Delete(ctx, "app/s000"); err != nil {
		t.Fatal(err)
	}
	if err := kv.DeleteMetadata(ctx, "app/s001"); err != nil {
		t.Fatal(err)
	}
	p, res := w.mustApply(s)
	if p.Summary.Repair != 2 || res.Count(plan.Repair) != 2 {
		t.Fatalf("planned %d repairs, executed %d; want 2 (%v)", p.Summary.Repair, res.Count(plan.Repair), res.Err())
	}
	if diff := cmp.Diff(w.wantValues(3), w.readAll(s)); diff != "" {
		t.Errorf("values after repair (-want +got):\n%s", diff)
	}
	if p2, _ := w.mustApply(s); p2.HasChanges() {
		t.Errorf("apply after repair planned: %+v", p2.Actions)
	}
}

// TestPruneDeletesWithTheObject: a secret removed from the manifests is only
// reported as unmanaged; with --prune it is deleted, row and (soft-deleted)
// KV object, and a protected one is refused.
func TestPruneDeletesWithTheObject(t *testing.T) {
	t.Parallel()
	w, s := seededWorld(t, 3, "bao")
	ctx := context.Background()
	w.write("secrets.yaml", w.secretsYAML(2, "bao")) // s002 is gone from the manifests

	p, _ := w.mustApply(s)
	if p.HasChanges() {
		t.Fatalf("without --prune nothing should change: %+v", p.Actions)
	}
	if p.Summary.Unmanaged != 1 {
		t.Errorf("unmanaged findings = %d, want 1", p.Summary.Unmanaged)
	}

	pool := backends.New(s, s)
	defer pool.Close()
	p, res, err := apply.Run(ctx, apply.RunOptions{
		Store: s, Pool: pool, Manifests: w.load(),
		PlanOptions: plan.Options{LookupEnv: w.lookupEnv, Prune: true},
		Engine:      apply.Engine{Actor: "test", LookupEnv: w.lookupEnv},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Delete != 1 || res.Count(plan.Delete) != 1 {
		t.Fatalf("planned %d deletes, executed %d; want 1", p.Summary.Delete, res.Count(plan.Delete))
	}
	if _, err := s.GetSecret(ctx, "s002", false); err == nil {
		t.Errorf("row of the pruned secret still there")
	}
	md, err := w.vault.Client(t).KVv2(w.mount).GetMetadata(ctx, "app/s002")
	if err != nil {
		t.Fatal(err)
	}
	if v := md.Versions[itoa(md.CurrentVersion)]; v.DeletionTime.IsZero() {
		t.Errorf("KV object of the pruned secret not soft-deleted")
	}

	// Protection lives in the row: removing the YAML is not enough.
	row, err := s.GetSecret(ctx, "s001", false)
	if err != nil {
		t.Fatal(err)
	}
	row.Protected = true
	if err := s.UpdateSecret(ctx, &row, false); err != nil {
		t.Fatal(err)
	}
	w.write("secrets.yaml", w.secretsYAML(1, "bao"))
	_, _, err = apply.Run(ctx, apply.RunOptions{
		Store: s, Pool: pool, Manifests: w.load(),
		PlanOptions: plan.Options{LookupEnv: w.lookupEnv, Prune: true},
		Engine:      apply.Engine{Actor: "test", LookupEnv: w.lookupEnv},
	})
	if err == nil || !strings.Contains(err.Error(), "protected") || !strings.Contains(err.Error(), "s001") {
		t.Fatalf("pruning a protected secret: err = %v, want a refusal naming secret s001 as protected", err)
	}
	if _, err := s.GetSecret(ctx, "s001", false); err != nil {
		t.Errorf("protected secret deleted: %v", err)
	}
}
