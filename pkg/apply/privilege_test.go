package apply_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/drivers/openbao"
)

// TestViewerPlansButCannotApply connects the real binary as a login role
// granted only mcpctl_viewer, with a Vault token holding only the plan
// policy: plan and drift see the pending migration and the drift; apply
// fails with Postgres's "permission denied" and changes nothing.
func TestViewerPlansButCannotApply(t *testing.T) {
	t.Parallel()
	w, s := seededWorld(t, 10, "default")
	ctx := context.Background()
	if err := s.EnsureRoles(ctx); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	role, password := w.schema+"_viewer", hex.EncodeToString(b)
	for _, q := range []string{`CREATE ROLE ` + role + ` LOGIN PASSWORD '` + password + `'`, `GRANT mcpctl_viewer TO ` + role} {
		if _, err := s.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	t.Cleanup(func() { _, _ = s.Pool().Exec(context.Background(), `DROP ROLE IF EXISTS `+role) })
	u, _ := url.Parse(w.url)
	u.User = url.UserPassword(role, password)

	cfg, err := openbao.ParseConfig(json.RawMessage(`{"url":"` + w.vault.Addr + `","mount":"` + w.mount + `","pathPrefix":"app"}`))
	if err != nil {
		t.Fatal(err)
	}
	w.vault.WritePolicy(t, w.schema+"-plan", openbao.PlanPolicy(cfg))
	planToken := w.vault.NewToken(t, w.schema+"-plan")
	viewerEnv := []string{"MCPCTL_DATABASE_URL=" + u.String(), openbao.TokenOverrideEnv("bao") + "=" + planToken}

	w.write("secrets.yaml", w.secretsYAML(10, "bao"))
	before := w.readAll(s)

	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		cmd := w.mcpctl(ctx, viewerEnv, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		return exitCode(cmd.Run()), out.String()
	}
	code, out := run("plan", "-f", w.dir, "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "10 to migrate") {
		t.Fatalf("plan as viewer: exit %d, want 2 with 10 migrations\n%s", code, out)
	}
	if !strings.Contains(out, "unknown") {
		t.Errorf("plan as viewer should say managed values cannot be compared (unknown):\n%s", out)
	}
	if code, out := run("drift", "-f", w.dir); code != 2 {
		t.Errorf("drift as viewer: exit %d, want 2\n%s", code, out)
	}
	code, out = run("apply", "-f", w.dir, "--auto-approve")
	if code != 1 || !strings.Contains(out, "permission denied") {
		t.Fatalf("apply as viewer: exit %d, want 1 with a permission error\n%s", code, out)
	}
	rows, _ := s.ListSecrets(ctx, false)
	for _, r := range rows {
		if r.BackendName != "default" {
			t.Errorf("secret %s moved to %s although apply was refused", r.Name, r.BackendName)
		}
	}
	if after := w.readAll(s); !equalMaps(before, after) {
		t.Errorf("values changed although apply was refused")
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
