package openbao

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/drivers/drivertest"
)

// These tests prove the plan/apply split is enforced by Vault, with tokens
// holding exactly the policies docs/security.md and docs/policies/ ship.
// They build their own mount, prefix, tokens and drivers from testenv so
// they do not depend on the other tests' fixtures.

// The shipped policy files are what PlanPolicy/ApplyPolicy render for the
// default config, and docs/security.md shows them.
func TestLeastPrivilegePolicyFilesMatchCode(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, hcl := range map[string]string{"plan": PlanPolicy(Config{}), "apply": ApplyPolicy(Config{})} {
		file, err := os.ReadFile("../../../docs/policies/" + name + ".hcl")
		if err != nil {
			t.Fatal(err)
		}
		if string(file) != hcl {
			t.Errorf("docs/policies/%s.hcl differs from what %sPolicy(Config{}) renders:\n%s", name, strings.ToUpper(name[:1])+name[1:], hcl)
		}
		if !strings.Contains(string(doc), "```hcl\n"+hcl+"```") {
			t.Errorf("docs/security.md does not show the %s policy", name)
		}
	}
	// The plan policy grants nothing on data/ (values), in any form.
	if strings.Contains(PlanPolicy(Config{}), "/data/") {
		t.Errorf("the plan policy mentions data/:\n%s", PlanPolicy(Config{}))
	}
}

// leastPrivEnv is one test's mount and prefix, with a token per policy.
type leastPrivEnv struct {
	v      *testenv.VaultServer
	root   *vault.Client
	mount  string
	prefix string
	cfg    Config
}

func newLeastPrivEnv(t *testing.T) *leastPrivEnv {
	t.Helper()
	v := testenv.Vault(t)
	e := &leastPrivEnv{v: v, root: v.Client(t), mount: v.NewMount(t), prefix: drivertest.Marker("lp")}
	e.cfg = Config{Mount: e.mount, PathPrefix: e.prefix}
	return e
}

// token creates a token holding only the named policy (plan or apply),
// rendered for this mount and prefix.
func (e *leastPrivEnv) token(t *testing.T, policy string) string {
	t.Helper()
	name := "lp-" + e.mount + "-" + e.prefix + "-" + policy
	hcl := map[string]string{"plan": PlanPolicy(e.cfg), "apply": ApplyPolicy(e.cfg)}[policy]
	e.v.WritePolicy(t, name, hcl)
	return e.v.NewToken(t, name)
}

// leastPrivResolver hands the driver its token as the Secret bao-token.
type leastPrivResolver string

func (r leastPrivResolver) ResolveSecret(_ context.Context, name, key string) (string, error) {
	if name != "bao-token" || key != "token" {
		return "", errors.New("unknown secret")
	}
	return string(r), nil
}

func (e *leastPrivEnv) driver(t *testing.T, token string) *Driver {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"url": e.v.Addr, "mount": e.mount, "pathPrefix": e.prefix,
		"auth": map[string]any{"method": "token", "tokenSecretRef": map[string]string{"name": "bao-token", "key": "token"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(context.Background(), drivers.Config{Name: "bao", Raw: raw, Resolver: leastPrivResolver(token),
		Deps: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// rawClient talks to Vault directly with token, bypassing the driver, to
// show the refusal is the server's.
func (e *leastPrivEnv) rawClient(t *testing.T, token string) *vault.Client {
	t.Helper()
	c := e.v.Client(t)
	c.SetToken(token)
	return c
}

func wantForbidden(t *testing.T, what string, err error) {
	t.Helper()
	var re *vault.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 403 {
		t.Errorf("%s: %v, want 403 permission denied from Vault", what, err)
	}
}

func wantDriverDenied(t *testing.T, what string, err error, canary string) {
	t.Helper()
	if !errors.Is(err, drivers.ErrAuthFailed) || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("%s: %v, want drivers.ErrAuthFailed saying permission denied", what, err)
	}
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Errorf("%s: the error carries the value", what)
	}
}

// A plan token sees existence, versions, key names and owners, and lists;
// Vault refuses it every value read and every write, and nothing changes.
func TestLeastPrivilegePlanToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLeastPrivEnv(t)
	canary := drivertest.Marker("plan-policy")
	writer := e.driver(t, e.token(t, "apply"))
	for _, ref := range []drivers.Ref{"app", "team/db"} {
		if _, err := writer.Put(ctx, ref, drivers.NewValues(map[string]string{"API_KEY": canary}), drivers.PutOptions{OwnerID: "id-" + string(ref)}); err != nil {
			t.Fatalf("seed %s: %v", ref, err)
		}
	}
	planToken := e.token(t, "plan")
	d := e.driver(t, planToken)

	m, err := d.Stat(ctx, "app")
	if err != nil || m.State != drivers.Present || m.Version != 1 || !slices.Equal(m.Keys, []string{"API_KEY"}) || m.OwnerID != "id-app" {
		t.Errorf("Stat with the plan token = %+v, %v", m, err)
	}
	if m, err := d.Stat(ctx, "missing"); err != nil || m.State != drivers.Absent {
		t.Errorf("Stat of a missing object with the plan token = %+v, %v", m, err)
	}
	var listed []string
	for ref, err := range d.List(ctx) {
		if err != nil {
			t.Fatalf("List with the plan token: %v", err)
		}
		listed = append(listed, string(ref))
	}
	slices.Sort(listed)
	if !slices.Equal(listed, []string{"app", "team/db"}) {
		t.Errorf("List with the plan token = %v", listed)
	}
	// Vault has no detailed-metadata LIST (OpenBao does): unsupported is a
	// fine answer, a permission error is not.
	all, err := d.StatAll(ctx)
	switch {
	case errors.Is(err, drivers.ErrUnsupported):
	case err != nil:
		t.Errorf("StatAll with the plan token: %v", err)
	case len(all) != 2 || !slices.Equal(all["app"].Keys, []string{"API_KEY"}):
		t.Errorf("StatAll with the plan token = %+v", all)
	}

	_, _, err = d.Get(ctx, "app")
	wantDriverDenied(t, "Get with the plan token", err, canary)
	_, err = d.Put(ctx, "app", drivers.NewValues(map[string]string{"API_KEY": "other"}), drivers.PutOptions{OwnerID: "id-app", CAS: 1})
	wantDriverDenied(t, "Put (update) with the plan token", err, canary)
	_, err = d.Put(ctx, "new", drivers.NewValues(map[string]string{"K": "v"}), drivers.PutOptions{OwnerID: "id-new"})
	wantDriverDenied(t, "Put (create) with the plan token", err, canary)
	wantDriverDenied(t, "Delete with the plan token", d.Delete(ctx, "app", drivers.DeleteOptions{OwnerID: "id-app"}), canary)
	wantDriverDenied(t, "Destroy with the plan token", d.Delete(ctx, "app", drivers.DeleteOptions{OwnerID: "id-app", Destroy: true}), canary)

	// The server itself refuses the value, whichever way it is asked for.
	raw := e.rawClient(t, planToken)
	_, err = raw.Logical().Read(e.mount + "/data/" + e.prefix + "/app")
	wantForbidden(t, "GET data/ with the plan token", err)
	_, err = raw.Logical().Read(e.mount + "/data/" + e.prefix + "/app?version=1")
	wantForbidden(t, "GET data/?version=1 with the plan token", err)
	_, err = raw.Logical().Write(e.mount+"/undelete/"+e.prefix+"/app", map[string]any{"versions": []int{1}})
	wantForbidden(t, "undelete with the plan token", err)
	_, err = raw.Logical().Read(e.mount + "/metadata/other")
	wantForbidden(t, "metadata outside the prefix with the plan token", err)

	// Nothing changed: still version 1 with the seeded value.
	v, m, err := writer.Get(ctx, "app")
	if got, _ := v.Get("API_KEY"); err != nil || got != canary || m.Version != 1 || m.State != drivers.Present {
		t.Errorf("after the refused writes: version %d, state %s, same value %v, %v", m.Version, m.State, got == canary, err)
	}
	if m, err := writer.Stat(ctx, "new"); err != nil || m.State != drivers.Absent {
		t.Errorf("the refused create left %+v, %v", m, err)
	}
}

// An apply token writes, reads (migrations copy values away), soft-deletes
// and destroys under its prefix, and nothing outside it.
func TestLeastPrivilegeApplyToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLeastPrivEnv(t)
	applyToken := e.token(t, "apply")
	d := e.driver(t, applyToken)
	canary := drivertest.Marker("apply-policy")

	m, err := d.Put(ctx, "app", drivers.NewValues(map[string]string{"API_KEY": canary}), drivers.PutOptions{OwnerID: "id-app"})
	if err != nil || m.Version != 1 {
		t.Fatalf("Put (create) with the apply token = %+v, %v", m, err)
	}
	m, err = d.Put(ctx, "app", drivers.NewValues(map[string]string{"API_KEY": canary + "-2"}), drivers.PutOptions{OwnerID: "id-app", CAS: 1})
	if err != nil || m.Version != 2 {
		t.Fatalf("Put (update) with the apply token = %+v, %v", m, err)
	}
	v, m, err := d.Get(ctx, "app")
	if got, _ := v.Get("API_KEY"); err != nil || got != canary+"-2" || m.Version != 2 {
		t.Errorf("Get with the apply token: version %d, value as written %v, %v", m.Version, got == canary+"-2", err)
	}
	var listed []string
	for ref, err := range d.List(ctx) {
		if err != nil {
			t.Fatalf("List with the apply token: %v", err)
		}
		listed = append(listed, string(ref))
	}
	if !slices.Equal(listed, []string{"app"}) {
		t.Errorf("List with the apply token = %v", listed)
	}
	if err := d.Delete(ctx, "app", drivers.DeleteOptions{OwnerID: "id-app"}); err != nil {
		t.Fatalf("Delete (soft) with the apply token: %v", err)
	}
	if m, err := d.Stat(ctx, "app"); err != nil || m.State != drivers.SoftDeleted {
		t.Errorf("after the soft delete: %+v, %v", m, err)
	}
	if err := d.Delete(ctx, "app", drivers.DeleteOptions{OwnerID: "id-app", Destroy: true}); err != nil {
		t.Fatalf("Delete (destroy) with the apply token: %v", err)
	}
	if m, err := d.Stat(ctx, "app"); err != nil || m.State != drivers.Absent {
		t.Errorf("after the destroy: %+v, %v", m, err)
	}

	// Confined to its prefix and to KV: the rest of the mount, other
	// mounts' policies and tokens are out of reach.
	raw := e.rawClient(t, applyToken)
	_, err = raw.Logical().Write(e.mount+"/data/other/x", map[string]any{"data": map[string]string{"k": "v"}})
	wantForbidden(t, "write outside the prefix with the apply token", err)
	_, err = raw.Logical().Read(e.mount + "/data/" + e.prefix + "-sibling/x")
	wantForbidden(t, "read in a sibling prefix with the apply token", err)
	_, err = raw.Logical().Write("sys/policies/acl/lp-escalate", map[string]any{"policy": `path "*" { capabilities = ["sudo"] }`})
	wantForbidden(t, "write a policy with the apply token", err)
	_, err = raw.Logical().Write("auth/token/create", map[string]any{"policies": []string{"root"}})
	wantForbidden(t, "create a token with the apply token", err)
}
