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

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/drivers/openbao"
	"github.com/mcpctl/mcpctl/pkg/state"
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
		return testenv.ExitCode(cmd.Run()), out.String()
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

// loginURL creates a LOGIN role unique to the test granted only granted
// and returns the world's database URL connecting as it.
func (w *world) loginURL(s *state.Store, granted string) string {
	w.t.Helper()
	ctx := context.Background()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	role, password := w.schema+"_"+strings.TrimPrefix(granted, "mcpctl_"), hex.EncodeToString(b)
	for _, q := range []string{`CREATE ROLE ` + role + ` LOGIN PASSWORD '` + password + `'`, `GRANT ` + granted + ` TO ` + role} {
		if _, err := s.Pool().Exec(ctx, q); err != nil {
			w.t.Fatalf("%s: %v", q, err)
		}
	}
	w.t.Cleanup(func() { _, _ = s.Pool().Exec(context.Background(), `DROP ROLE IF EXISTS `+role) })
	u, _ := url.Parse(w.url)
	u.User = url.UserPassword(role, password)
	return u.String()
}

// TestSplitEditorRolesThroughTheBinary runs the real `mcpctl apply` as a
// secret editor and as a backend admin: each applies its own kind of
// change, and Postgres refuses the other kind, changing nothing.
func TestSplitEditorRolesThroughTheBinary(t *testing.T) {
	t.Parallel()
	w, s := seededWorld(t, 3, "default")
	ctx := context.Background()
	if err := s.EnsureRoles(ctx); err != nil {
		t.Fatal(err)
	}
	editorEnv := []string{"MCPCTL_DATABASE_URL=" + w.loginURL(s, state.RoleSecretEditor)}
	adminEnv := []string{"MCPCTL_DATABASE_URL=" + w.loginURL(s, state.RoleBackendAdmin)}
	backendNames := func() []string {
		bs, err := s.ListBackends(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range bs {
			out = append(out, b.Name)
		}
		return out
	}

	// A changed value: the secret editor's job.
	w.env["VAL_S000"] = "changed-by-the-secret-editor"
	if code, out := w.runApply(editorEnv...); code != 0 {
		t.Fatalf("apply of a value change as secret editor: exit %d\n%s", code, out)
	}
	if got := w.readAll(s)["s000"]; got != "changed-by-the-secret-editor" {
		t.Errorf("s000 after the secret editor's apply = %q", got)
	}

	// A new backend: refused to the secret editor...
	w.write("kv.yaml", "apiVersion: mcpctl/v1\nkind: SecretBackend\nmetadata: {name: kv}\nspec: {type: plaintext}\n")
	before := backendNames()
	code, out := w.runApply(editorEnv...)
	if code != 1 || !strings.Contains(out, "permission denied for table backends") {
		t.Fatalf("apply of a new backend as secret editor: exit %d, want 1 with permission denied for table backends\n%s", code, out)
	}
	if got := backendNames(); strings.Join(got, ",") != strings.Join(before, ",") {
		t.Errorf("backends after the refused apply = %v, want %v", got, before)
	}
	// ...and the backend admin's job.
	if code, out := w.runApply(adminEnv...); code != 0 {
		t.Fatalf("apply of a new backend as backend admin: exit %d\n%s", code, out)
	}
	if got := backendNames(); !strings.Contains(strings.Join(got, ","), "kv") {
		t.Errorf("backends after the backend admin's apply = %v, want kv among them", got)
	}

	// A new secret: refused to the backend admin, nothing is written.
	w.write("new.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: fresh}\nspec:\n  backend: kv\n  data: {KEY: {value: canary-admin}}\n")
	values := w.readAll(s)
	code, out = w.runApply(adminEnv...)
	if code != 1 || !strings.Contains(out, "permission denied for table secrets") {
		t.Fatalf("apply of a new secret as backend admin: exit %d, want 1 with permission denied for table secrets\n%s", code, out)
	}
	if _, err := s.GetSecret(ctx, "fresh", false); err == nil {
		t.Error("secret fresh exists although the backend admin's apply was refused")
	}
	if after := w.readAll(s); !equalMaps(values, after) {
		t.Errorf("values changed although the backend admin's apply was refused")
	}
}
