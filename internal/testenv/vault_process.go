package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// VaultProcess is a real Vault server with file storage: not `-dev`, whose
// in-memory store copies itself on every request and slows down as it
// fills. Its fields are what scripts/devenv keeps on disk to find it again.
type VaultProcess struct {
	Bin         string `json:"bin"`
	Dir         string `json:"dir"` // vault.hcl, storage/ and vault.log
	Port        int    `json:"port"`
	ClusterPort int    `json:"cluster_port"`
	PID         int    `json:"pid"`
	RootToken   string `json:"root_token"`
	UnsealKey   string `json:"unseal_key"`

	done chan struct{} // closed when our child exits; nil if started elsewhere
}

// Addr is the server's HTTP address.
func (p *VaultProcess) Addr() string { return fmt.Sprintf("http://127.0.0.1:%d", p.Port) }

func (p *VaultProcess) configPath() string { return filepath.Join(p.Dir, "vault.hcl") }
func (p *VaultProcess) logPath() string    { return filepath.Join(p.Dir, "vault.log") }

// Start runs the server on p.Port (0 picks a free port), initialises it on
// first start (one key share, saved in p), unseals it and makes sure KV v2
// is mounted at secret/ and AppRole enabled at approle/.
func (p *VaultProcess) Start(ctx context.Context, detach bool) error {
	if err := os.MkdirAll(filepath.Join(p.Dir, "storage"), 0o700); err != nil {
		return fmt.Errorf("vault folder %s: %w", p.Dir, err)
	}
	pickPorts := p.Port == 0
	for attempt := 0; ; attempt++ {
		if pickPorts {
			var err error
			if p.Port, err = freePort(); err != nil {
				return err
			}
			if p.ClusterPort, err = freePort(); err != nil {
				return err
			}
		}
		err := p.launch(ctx, detach)
		if err == nil {
			break
		}
		if !pickPorts || attempt == 4 || !errors.Is(err, errPortTaken) {
			return err
		}
	}
	if err := p.unseal(ctx); err != nil {
		_ = p.Stop()
		return err
	}
	return nil
}

func (p *VaultProcess) writeConfig() error {
	if p.ClusterPort == 0 {
		p.ClusterPort = p.Port + 1
	}
	cfg := fmt.Sprintf(`# Written by internal/testenv: a real Vault server for tests and scripts/devenv.
storage "file" {
  path = %q
}

listener "tcp" {
  address         = "127.0.0.1:%d"
  cluster_address = "127.0.0.1:%d"
  tls_disable     = true
}

api_addr      = "http://127.0.0.1:%d"
cluster_addr  = "http://127.0.0.1:%d"
disable_mlock = true
ui            = false
`, filepath.Join(p.Dir, "storage"), p.Port, p.ClusterPort, p.Port, p.ClusterPort)
	if err := os.WriteFile(p.configPath(), []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("vault config: %w", err)
	}
	return nil
}

func (p *VaultProcess) launch(ctx context.Context, detach bool) error {
	if err := p.writeConfig(); err != nil {
		return err
	}
	logf, err := os.OpenFile(p.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("vault log: %w", err)
	}
	defer logf.Close()
	logStart, _ := logf.Seek(0, 2)

	cmd := exec.Command(p.Bin, "server", "-config="+p.configPath(), "-log-level=warn")
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(detach, nil)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start vault %s: %w", p.Bin, err)
	}
	p.PID = cmd.Process.Pid
	p.done = make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(p.done)

	client, err := newVaultClient(p.Addr(), "")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		if closed(p.done)() {
			b, _ := os.ReadFile(p.logPath())
			if len(b) > int(logStart) && strings.Contains(string(b[logStart:]), "address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("vault server exited at start; %s", logTail(p.logPath(), 20))
		}
		hctx, hcancel := context.WithTimeout(ctx, time.Second)
		_, herr := client.Sys().HealthWithContext(hctx)
		hcancel()
		if herr == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			_ = p.Stop()
			return fmt.Errorf("vault server at %s not answering: %w; %s", p.Addr(), ctx.Err(), logTail(p.logPath(), 20))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// serverEnv drops VAULT_* variables (a developer's VAULT_ADDR, or the ones
// `scripts/devenv env` exports) so they cannot reconfigure the server.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "VAULT_") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *VaultProcess) unseal(ctx context.Context) error {
	client, err := newVaultClient(p.Addr(), "")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	inited, err := client.Sys().InitStatusWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault at %s: init status: %w", p.Addr(), err)
	}
	if !inited {
		resp, err := client.Sys().InitWithContext(ctx, &vaultapi.InitRequest{SecretShares: 1, SecretThreshold: 1})
		if err != nil {
			return fmt.Errorf("vault at %s: init: %w", p.Addr(), err)
		}
		p.UnsealKey, p.RootToken = resp.KeysB64[0], resp.RootToken
	}
	if p.UnsealKey == "" {
		return fmt.Errorf("vault storage in %s is initialised but its unseal key is lost; remove the folder", p.Dir)
	}
	if _, err := client.Sys().UnsealWithContext(ctx, p.UnsealKey); err != nil {
		return fmt.Errorf("vault at %s: unseal: %w", p.Addr(), err)
	}
	client.SetToken(p.RootToken)
	return prepareVault(ctx, client)
}

// prepareVault waits until the server is active and makes sure KV v2 is
// mounted at secret/ and AppRole is enabled at approle/ (idempotent, so it
// also readies an external server).
func prepareVault(ctx context.Context, client *vaultapi.Client) error {
	for {
		h, err := client.Sys().HealthWithContext(ctx)
		if err == nil && h.Initialized && !h.Sealed && !h.Standby {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("vault at %s never became active (health %+v, %v): %w", client.Address(), h, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	mounts, err := client.Sys().ListMountsWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault at %s: list mounts: %w", client.Address(), err)
	}
	if m, ok := mounts["secret/"]; !ok {
		if err := mountKV2(ctx, client, "secret"); err != nil {
			return err
		}
	} else if m.Type != "kv" || m.Options["version"] != "2" {
		return fmt.Errorf("vault at %s: secret/ is mounted as %s version %q, want kv version 2", client.Address(), m.Type, m.Options["version"])
	} else if err := waitKV2(ctx, client, "secret"); err != nil {
		return err
	}
	auths, err := client.Sys().ListAuthWithContext(ctx)
	if err != nil {
		return fmt.Errorf("vault at %s: list auth methods: %w", client.Address(), err)
	}
	if _, ok := auths["approle/"]; !ok {
		if err := client.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
			return fmt.Errorf("vault at %s: enable approle: %w", client.Address(), err)
		}
	}
	return nil
}

func mountKV2(ctx context.Context, client *vaultapi.Client, path string) error {
	err := client.Sys().MountWithContext(ctx, path, &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}})
	if err != nil {
		return fmt.Errorf("vault at %s: mount kv v2 at %s: %w", client.Address(), path, err)
	}
	return waitKV2(ctx, client, path)
}

// waitKV2 waits out the upgrade step a KV v2 mount runs after mounting or
// unsealing, during which it answers every request with an error.
func waitKV2(ctx context.Context, client *vaultapi.Client, path string) error {
	for {
		_, err := client.Logical().ReadWithContext(ctx, path+"/config")
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("vault at %s: kv mount %s not ready: %v: %w", client.Address(), path, err, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the server by pid (SIGTERM, then SIGKILL) and waits until it is
// gone. It leaves Dir in place.
func (p *VaultProcess) Stop() error {
	exited := func() bool { return !pidRuns(p.PID, p.configPath()) }
	if p.done != nil {
		exited = closed(p.done)
	}
	if p.PID == 0 || exited() {
		return nil
	}
	if err := terminate(p.PID, 15*time.Second, exited); err != nil {
		return fmt.Errorf("stop vault at %s: %w", p.Addr(), err)
	}
	return nil
}

// Running reports whether the server recorded in p is still up.
func (p *VaultProcess) Running() bool {
	if p.done != nil {
		return !closed(p.done)()
	}
	return pidRuns(p.PID, p.configPath())
}

// Healthy reports whether the server answers, unsealed and active.
func (p *VaultProcess) Healthy(ctx context.Context) bool {
	client, err := newVaultClient(p.Addr(), "")
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	h, err := client.Sys().HealthWithContext(ctx)
	return err == nil && h.Initialized && !h.Sealed && !h.Standby
}

// newVaultClient makes a client for addr that ignores the VAULT_* variables
// of whoever runs the tests.
func newVaultClient(addr, token string) (*vaultapi.Client, error) {
	cfg := vaultapi.DefaultConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("vault client config: %w", cfg.Error)
	}
	cfg.Address = addr
	cfg.MaxRetries = 0
	client, err := vaultapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("vault client for %s: %w", addr, err)
	}
	client.ClearNamespace()
	if token == "" {
		client.ClearToken()
	} else {
		client.SetToken(token)
	}
	return client, nil
}

// VaultBinary returns a Vault server binary: $MCPCTL_VAULT_BIN, or the one
// tools/vaultdev/build.sh builds once into a cache outside the repository.
// The build's progress goes to progress (it takes ~10 minutes cold).
func VaultBinary(ctx context.Context, progress *os.File) (string, error) {
	if bin := os.Getenv("MCPCTL_VAULT_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("MCPCTL_VAULT_BIN: %w", err)
		}
		return bin, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	script := filepath.Join(root, "tools", "vaultdev", "build.sh")
	cmd := exec.CommandContext(ctx, script)
	cmd.Stderr = progress
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s failed: %w (its output is above; the first build downloads Vault through the Go module proxy; "+
			"or point MCPCTL_VAULT_BIN at a Vault binary)", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	bin := lines[len(lines)-1]
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s printed %q, which is not a binary: %w", script, bin, err)
	}
	return bin, nil
}

// repoRoot finds the mcpctl checkout: from this source file when the build
// kept paths, else upwards from the working directory.
func repoRoot() (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "tools", "vaultdev", "build.sh")); err == nil {
				return d, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", errors.New("cannot find the mcpctl checkout (tools/vaultdev/build.sh) from the source path or working directory; " +
		"run from inside the repository or set MCPCTL_VAULT_BIN")
}
