package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"
)

// The server is a real Vault with file storage, not a dev server or a fake.
func TestVaultIsARealServer(t *testing.T) {
	t.Parallel()
	v := Vault(t)
	client := v.Client(t)
	ctx := context.Background()
	seal, err := client.Sys().SealStatusWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !seal.Initialized || seal.Sealed || seal.N != 1 || seal.T != 1 {
		t.Fatalf("seal status %+v, want initialised and unsealed with one key share", seal)
	}
	if v.proc != nil && seal.StorageType != "file" {
		t.Fatalf("storage %q, want file (a -dev server uses inmem)", seal.StorageType)
	}
	mounts, err := client.Sys().ListMountsWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m := mounts["secret/"]; m == nil || m.Type != "kv" || m.Options["version"] != "2" {
		t.Fatalf("secret/ mount %+v, want kv version 2", m)
	}
	auths, err := client.Sys().ListAuthWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a := auths["approle/"]; a == nil || a.Type != "approle" {
		t.Fatalf("approle/ auth %+v, want approle", a)
	}
}

func TestVaultKV2VersionsAndSoftDelete(t *testing.T) {
	t.Parallel()
	v := Vault(t)
	mount := v.NewMount(t)
	kv := v.Client(t).KVv2(mount)
	ctx := context.Background()
	for _, val := range []string{"first", "second"} {
		if _, err := kv.Put(ctx, "app/db", map[string]any{"password": val}); err != nil {
			t.Fatalf("put %s/app/db: %v", mount, err)
		}
	}
	meta, err := kv.GetMetadata(ctx, "app/db")
	if err != nil {
		t.Fatal(err)
	}
	if meta.CurrentVersion != 2 || len(meta.Versions) != 2 {
		t.Fatalf("metadata: current version %d with %d versions, want 2 and 2", meta.CurrentVersion, len(meta.Versions))
	}
	first, err := kv.GetVersion(ctx, "app/db", 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Data["password"] != "first" {
		t.Fatalf("version 1 holds a different value than was written")
	}

	if err := kv.Delete(ctx, "app/db"); err != nil {
		t.Fatal(err)
	}
	meta, err = kv.GetMetadata(ctx, "app/db")
	if err != nil {
		t.Fatal(err)
	}
	if meta.Versions["2"].DeletionTime.IsZero() || !meta.Versions["1"].DeletionTime.IsZero() {
		t.Fatalf("after soft delete: version 2 deletion_time %v, version 1 %v; want only version 2 deleted",
			meta.Versions["2"].DeletionTime, meta.Versions["1"].DeletionTime)
	}
	latest, err := kv.Get(ctx, "app/db")
	if err != nil {
		t.Fatal(err)
	}
	if latest.Data != nil {
		t.Fatalf("soft-deleted latest version still returns data")
	}
}

// AppRole login gives a token whose policy Vault really enforces.
func TestVaultAppRoleLogin(t *testing.T) {
	t.Parallel()
	v := Vault(t)
	mount := v.NewMount(t)
	ctx := context.Background()
	if _, err := v.Client(t).KVv2(mount).Put(ctx, "app", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	policy := "t-read-" + mount
	v.WritePolicy(t, policy, fmt.Sprintf(`path "%s/data/*" { capabilities = ["read"] }`, mount))
	roleID, secretID := v.NewAppRole(t, policy)

	client := v.Client(t)
	client.ClearToken()
	login, err := client.Logical().WriteWithContext(ctx, "auth/approle/login", map[string]any{"role_id": roleID, "secret_id": secretID})
	if err != nil {
		t.Fatalf("approle login: %v", err)
	}
	if !slices.Contains(login.Auth.Policies, policy) {
		t.Fatalf("login token policies %v, want %s", login.Auth.Policies, policy)
	}
	client.SetToken(login.Auth.ClientToken)
	kv := client.KVv2(mount)
	if _, err := kv.Get(ctx, "app"); err != nil {
		t.Fatalf("read with the approle token: %v", err)
	}
	_, err = kv.Put(ctx, "app", map[string]any{"k": "w"})
	var rerr *vaultapi.ResponseError
	if !errors.As(err, &rerr) || rerr.StatusCode != http.StatusForbidden {
		t.Fatalf("write with a read-only token: %v, want 403", err)
	}

	if _, err := client.Logical().WriteWithContext(ctx, "auth/approle/login", map[string]any{"role_id": roleID, "secret_id": "wrong"}); err == nil {
		t.Fatalf("approle login with a wrong secret id succeeded")
	}
}

func TestVaultNewTokenHasOnlyItsPolicies(t *testing.T) {
	t.Parallel()
	v := Vault(t)
	policy := "t-tok-" + RandHex(4)
	v.WritePolicy(t, policy, `path "sys/health" { capabilities = ["read"] }`)
	token := v.NewToken(t, policy)
	self, err := v.Client(t).Auth().Token().LookupWithContext(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	got, err := self.TokenPolicies()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{policy}) {
		t.Fatalf("token policies %v, want [%s]", got, policy)
	}
	client := v.Client(t)
	client.SetToken(token)
	if _, err := client.Sys().ListMountsWithContext(context.Background()); err == nil {
		t.Fatalf("a token without a sys/mounts policy listed mounts")
	}
}

func TestVaultNewMountIsRemovedWhenTheTestEnds(t *testing.T) {
	t.Parallel()
	v := Vault(t)
	var mount string
	t.Run("uses", func(t *testing.T) { mount = v.NewMount(t) })
	mounts, err := v.Client(t).Sys().ListMountsWithContext(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mounts[mount+"/"]; ok || mount == "" {
		t.Fatalf("mount %q still there after its test ended", mount)
	}
}

// attachVault is the MCPCTL_TEST_VAULT_ADDR path; pointed at our own
// server, which is already prepared, it must accept it as is.
func TestAttachVault(t *testing.T) {
	t.Parallel()
	v := Vault(t)
	ext, err := attachVault(v.Addr, v.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	if ext.proc != nil || ext.Addr != v.Addr {
		t.Fatalf("attached server %+v", ext)
	}
	if _, err := attachVault(v.Addr, ""); err == nil {
		t.Fatalf("attach with an address and no token succeeded")
	}
}

// On a private server, so it works with MCPCTL_TEST_VAULT_ADDR set and
// runs in parallel with the tests sharing Vault(t).
func TestVaultRestartKeepsData(t *testing.T) {
	t.Parallel()
	v, err := startPrivateVault()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.stop)
	mount := v.NewMount(t)
	ctx := context.Background()
	if _, err := v.Client(t).KVv2(mount).Put(ctx, "kept", map[string]any{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	oldPID := v.proc.PID
	v.Restart(t)
	if v.proc.PID == oldPID || pidAlive(oldPID) {
		t.Fatalf("restart kept pid %d running", oldPID)
	}
	s, err := v.Client(t).KVv2(mount).Get(ctx, "kept")
	if err != nil {
		t.Fatalf("read after restart: %v", err)
	}
	if s.Data["k"] != "v" {
		t.Fatalf("after restart the secret holds another value")
	}
}
