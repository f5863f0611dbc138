package apply_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func TestApplyCreatesThenIsIdempotent(t *testing.T) {
	w := newWorld(t)
	s := w.store()
	w.write("backends.yaml", w.backendYAML())
	w.write("secrets.yaml", w.secretsYAML(5, "")+w.secretsYAML(0, ""))
	w.write("bao-secrets.yaml", strings.ReplaceAll(w.secretsYAML(3, "bao"), "s00", "b00"))
	for i := 0; i < 3; i++ {
		w.env["VAL_B00"+string(rune('0'+i))] = w.env["VAL_S00"+string(rune('0'+i))]
	}

	p, res := w.mustApply(s)
	if got := res.Failed(); got != 0 {
		t.Fatalf("failed actions: %v", res.Err())
	}
	// bao backend, bao-token, 5 plaintext secrets, 3 on bao.
	if got, want := p.Summary.Create, 10; got != want {
		t.Errorf("creates = %d, want %d", got, want)
	}
	got := w.readAll(s)
	want := w.wantValues(5)
	for i := 0; i < 3; i++ {
		want["b00"+string(rune('0'+i))] = w.env["VAL_S00"+string(rune('0'+i))]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}

	p2, res2 := w.mustApply(s)
	if p2.HasChanges() {
		t.Errorf("second apply planned changes: %+v", p2.Actions)
	}
	if len(res2.Outcomes) != 0 {
		t.Errorf("second apply executed %d actions", len(res2.Outcomes))
	}
	audit, err := s.ListAudit(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 10 {
		t.Errorf("audit entries = %d, want one per executed action (10)", len(audit))
	}
}

func TestApplyMigratesBothWays(t *testing.T) {
	const n = 20
	w, s := seededWorld(t, n, "default")

	// plaintext -> openbao
	w.write("secrets.yaml", w.secretsYAML(n, "bao"))
	p, res := w.mustApply(s)
	if p.Summary.Migrate != n || res.Count(plan.Migrate) != n {
		t.Fatalf("planned %d migrations, executed %d; want %d (%v)", p.Summary.Migrate, res.Count(plan.Migrate), n, res.Err())
	}
	if diff := cmp.Diff(w.wantValues(n), w.readAll(s)); diff != "" {
		t.Errorf("values after moving to bao (-want +got):\n%s", diff)
	}
	rows, _ := s.ListSecrets(context.Background(), true)
	for _, r := range rows {
		if r.Name != "bao-token" && (r.BackendName != "bao" || r.Data != nil) {
			t.Errorf("secret %s: backend %s, data kept: %v", r.Name, r.BackendName, r.Data != nil)
		}
	}
	if p2, _ := w.mustApply(s); p2.HasChanges() {
		t.Errorf("apply after migration planned: %+v", p2.Actions)
	}

	// openbao -> plaintext: the KV copies are soft-deleted afterwards.
	w.write("secrets.yaml", w.secretsYAML(n, "default"))
	p, res = w.mustApply(s)
	if res.Count(plan.Migrate) != n {
		t.Fatalf("executed %d migrations back, want %d (%v)", res.Count(plan.Migrate), n, res.Err())
	}
	if diff := cmp.Diff(w.wantValues(n), w.readAll(s)); diff != "" {
		t.Errorf("values after moving back (-want +got):\n%s", diff)
	}
	md, err := w.vault.Client(t).KVv2(w.mount).GetMetadata(context.Background(), "app/s000")
	if err != nil {
		t.Fatal(err)
	}
	if v := md.Versions[itoa(md.CurrentVersion)]; v.DeletionTime.IsZero() {
		t.Errorf("source copy on bao not soft-deleted: %+v", v)
	}
	open, _ := s.OpenMigrations(context.Background())
	if len(open) != 0 {
		t.Errorf("open journal entries: %+v", open)
	}
	if p2, _ := w.mustApply(s); p2.HasChanges() {
		t.Errorf("apply after migrating back planned: %+v", p2.Actions)
	}
	_ = state.MigrationDone
}

func itoa(i int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + func() string { return fmtInt(i) }())
}

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for i > 0 {
		s = string(rune('0'+i%10)) + s
		i /= 10
	}
	return s
}
