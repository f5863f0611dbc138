package testenv

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// VaultServer is the real Vault server shared by one test process: KV v2 at
// secret/, AppRole at approle/. Tests that write keep to their own mount
// (NewMount) so they can run in parallel.
type VaultServer struct {
	Addr      string
	RootToken string

	mu   sync.Mutex    // serialises Restart
	proc *VaultProcess // nil for an external server (MCPCTL_TEST_VAULT_ADDR)
}

var (
	vaultOnce sync.Once
	vaultSrv  *VaultServer
	vaultErr  error
)

// Vault returns the process's Vault server, starting it on first use:
// MCPCTL_TEST_VAULT_ADDR + MCPCTL_TEST_VAULT_TOKEN if set, else a server
// built by tools/vaultdev/build.sh, with file storage in a temp folder,
// stopped by Main. It fails the test, saying how to fix it, when it cannot.
func Vault(t testing.TB) *VaultServer {
	t.Helper()
	vaultOnce.Do(func() {
		start := time.Now()
		vaultSrv, vaultErr = startTestVault()
		if vaultErr == nil && vaultSrv.proc != nil {
			t.Logf("testenv: Vault at %s ready in %s", vaultSrv.Addr, time.Since(start).Round(time.Millisecond))
		}
	})
	if vaultErr != nil {
		t.Fatalf("testenv: no Vault server: %v\n"+
			"Fix: run tools/vaultdev/build.sh to see the build's own error (it needs the Go module proxy once), "+
			"or set MCPCTL_TEST_VAULT_ADDR and MCPCTL_TEST_VAULT_TOKEN to a running Vault.", vaultErr)
	}
	return vaultSrv
}

func startTestVault() (*VaultServer, error) {
	addr, token := os.Getenv("MCPCTL_TEST_VAULT_ADDR"), os.Getenv("MCPCTL_TEST_VAULT_TOKEN")
	if addr != "" || token != "" {
		return attachVault(addr, token)
	}
	return startPrivateVault()
}

// startPrivateVault runs a server of this process's own, stopped by Main.
func startPrivateVault() (*VaultServer, error) {
	if err := requireMain(); err != nil {
		return nil, err
	}
	// A cold build takes ~10 minutes; only the server start has a deadline.
	bin, err := VaultBinary(context.Background(), os.Stderr)
	if err != nil {
		return nil, err
	}
	dir, err := tempDir("vault")
	if err != nil {
		return nil, err
	}
	p := &VaultProcess{Bin: bin, Dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := p.Start(ctx, false); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	v := &VaultServer{Addr: p.Addr(), RootToken: p.RootToken, proc: p}
	atExit(v.stop)
	return v, nil
}

// stop ends a private server and removes its folder; a second call is a
// no-op.
func (v *VaultServer) stop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.proc.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
	}
	_ = os.RemoveAll(v.proc.Dir)
}

// attachVault uses a server someone else runs, readying secret/ and approle/
// on it if needed.
func attachVault(addr, token string) (*VaultServer, error) {
	if addr == "" || token == "" {
		return nil, fmt.Errorf("set both MCPCTL_TEST_VAULT_ADDR and MCPCTL_TEST_VAULT_TOKEN (only one is set)")
	}
	client, err := newVaultClient(addr, token)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := prepareVault(ctx, client); err != nil {
		return nil, fmt.Errorf("MCPCTL_TEST_VAULT_ADDR=%s: %w", addr, err)
	}
	return &VaultServer{Addr: addr, RootToken: token}, nil
}

// Client returns a new root client for the server; tests may change it.
func (v *VaultServer) Client(t testing.TB) *vaultapi.Client {
	t.Helper()
	c, err := newVaultClient(v.Addr, v.RootToken)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return c
}

// NewMount mounts a fresh KV v2 engine at a unique path for one test and
// unmounts it when the test ends. It returns the mount path (no slashes).
func (v *VaultServer) NewMount(t testing.TB) string {
	t.Helper()
	client := v.Client(t)
	path := "t-" + RandHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := mountKV2(ctx, client, path); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := client.Sys().UnmountWithContext(context.Background(), path); err != nil {
			t.Logf("testenv: unmount %s: %v", path, err)
		}
	})
	return path
}

// WritePolicy writes an ACL policy and deletes it when the test ends. Use
// names unique to the test; parallel tests share the server.
func (v *VaultServer) WritePolicy(t testing.TB, name, hcl string) {
	t.Helper()
	client := v.Client(t)
	if err := client.Sys().PutPolicyWithContext(context.Background(), name, hcl); err != nil {
		t.Fatalf("testenv: write policy %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := client.Sys().DeletePolicyWithContext(context.Background(), name); err != nil {
			t.Logf("testenv: delete policy %s: %v", name, err)
		}
	})
}

// NewToken creates a token with exactly these policies (no default policy),
// revoked when the test ends.
func (v *VaultServer) NewToken(t testing.TB, policies ...string) string {
	t.Helper()
	client := v.Client(t)
	secret, err := client.Auth().Token().CreateWithContext(context.Background(), &vaultapi.TokenCreateRequest{
		Policies:        policies,
		NoDefaultPolicy: true,
		TTL:             "1h",
		DisplayName:     "testenv",
	})
	if err != nil {
		t.Fatalf("testenv: create token with policies %v: %v", policies, err)
	}
	token := secret.Auth.ClientToken
	t.Cleanup(func() {
		if err := client.Auth().Token().RevokeTreeWithContext(context.Background(), token); err != nil {
			t.Logf("testenv: revoke token: %v", err)
		}
	})
	return token
}

// NewAppRole creates an AppRole role with these token policies and one
// secret ID; the role is deleted when the test ends. Log in with
// auth/approle/login {role_id, secret_id}.
func (v *VaultServer) NewAppRole(t testing.TB, policies ...string) (roleID, secretID string) {
	t.Helper()
	client := v.Client(t)
	ctx := context.Background()
	role := "auth/approle/role/t-" + RandHex(6)
	if _, err := client.Logical().WriteWithContext(ctx, role, map[string]any{
		"token_policies": strings.Join(policies, ","),
		"token_ttl":      "1h",
	}); err != nil {
		t.Fatalf("testenv: create approle %s: %v", role, err)
	}
	t.Cleanup(func() {
		if _, err := client.Logical().DeleteWithContext(context.Background(), role); err != nil {
			t.Logf("testenv: delete approle %s: %v", role, err)
		}
	})
	r, err := client.Logical().ReadWithContext(ctx, role+"/role-id")
	if err != nil || r == nil {
		t.Fatalf("testenv: read role id of %s: %v", role, err)
	}
	s, err := client.Logical().WriteWithContext(ctx, role+"/secret-id", nil)
	if err != nil || s == nil {
		t.Fatalf("testenv: create secret id for %s: %v", role, err)
	}
	roleID, _ = r.Data["role_id"].(string)
	secretID, _ = s.Data["secret_id"].(string)
	if roleID == "" || secretID == "" {
		t.Fatalf("testenv: approle %s: empty role id or secret id in the response", role)
	}
	return roleID, secretID
}

// Restart stops the server and starts it again on the same port and
// storage, unsealed, as a crash-and-recover fault would. Every test using
// the server sees the outage, so a test that restarts the shared server
// must not be parallel (sequential tests run while parallel ones wait).
func (v *VaultServer) Restart(t testing.TB) {
	t.Helper()
	if v.proc == nil {
		t.Fatalf("testenv: cannot restart the external Vault at %s (MCPCTL_TEST_VAULT_ADDR); unset it to use a private server", v.Addr)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.proc.Stop(); err != nil {
		t.Fatalf("testenv: restart: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := v.proc.Start(ctx, false); err != nil {
		t.Fatalf("testenv: restart: %v", err)
	}
}

// PrivateVault starts a Vault server for one test alone (a fault test that
// kills and restarts it must not disturb the tests sharing Vault(t)). It is
// stopped when the test ends. It always builds and runs a local server, even
// when MCPCTL_TEST_VAULT_ADDR points the shared one elsewhere.
func PrivateVault(t testing.TB) *VaultServer {
	t.Helper()
	v, err := startPrivateVault()
	if err != nil {
		t.Fatalf("testenv: cannot start a private Vault server: %v\n"+
			"Fix: run tools/vaultdev/build.sh to see the build's own error (it needs the Go module proxy once).", err)
	}
	t.Cleanup(v.stop)
	return v
}
