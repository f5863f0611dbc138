// Command devenv starts, for a person, the same Postgres and real Vault the
// tests use, and keeps them running between sessions. scripts/devenv calls
// it; see that script for usage.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

const usage = `usage: scripts/devenv up|down|env|status

  up      start (or keep) a Postgres and a Vault; idempotent
  env     print export lines: eval "$(scripts/devenv env)"
  status  say what runs; exit 1 unless both are up
  down    stop what up started and remove its folder

State lives in ${MCPCTL_DEVENV_DIR:-$HOME/.cache/mcpctl/devenv}.
MCPCTL_DEVENV_POSTGRES=cluster runs a private cluster even if 127.0.0.1:5432 answers.
`

// state is what up leaves on disk for the other commands. It holds the
// Vault root token and unseal key, so the file is private to its owner.
type state struct {
	DatabaseURL string                   `json:"database_url"`
	Postgres    *testenv.PostgresCluster `json:"postgres,omitempty"` // nil when reusing 127.0.0.1:5432
	Vault       *testenv.VaultProcess    `json:"vault,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := devenvDir()
	if err == nil {
		err = runCommand(ctx, os.Args[1], dir, os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "devenv: %v\n", err)
		os.Exit(1)
	}
}

func devenvDir() (string, error) {
	if d := os.Getenv("MCPCTL_DEVENV_DIR"); d != "" {
		return filepath.Abs(d)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the dev environment (set MCPCTL_DEVENV_DIR): %w", err)
	}
	return filepath.Join(cache, "mcpctl", "devenv"), nil
}

func runCommand(ctx context.Context, cmd, dir string, out io.Writer) error {
	switch cmd {
	case "up":
		return up(ctx, dir)
	case "env":
		return env(dir, out)
	case "status":
		return status(ctx, dir, out)
	case "down":
		return down(dir)
	case "-h", "--help", "help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func statePath(dir string) string { return filepath.Join(dir, "state.json") }

func load(dir string) (*state, error) {
	b, err := os.ReadFile(statePath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", statePath(dir), err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s is damaged (%w); stop its servers by hand and remove the folder", statePath(dir), err)
	}
	return &st, nil
}

func save(dir string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := statePath(dir) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, statePath(dir))
}

// lock keeps two concurrent `up`/`down` runs from starting two servers.
func lock(dir string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

func up(ctx context.Context, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	release, err := lock(dir)
	if err != nil {
		return err
	}
	defer release()
	st, err := load(dir)
	if err != nil {
		return err
	}
	if st == nil {
		st = &state{}
	}
	// Saved after each server so a failure of the second leaves the first
	// findable by `down`.
	if err := upPostgres(ctx, dir, st); err != nil {
		return err
	}
	if err := save(dir, st); err != nil {
		return err
	}
	if err := upVault(ctx, dir, st); err != nil {
		return err
	}
	if err := save(dir, st); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "devenv: up (state in %s); now run: eval \"$(scripts/devenv env)\"\n", dir)
	return nil
}

func upPostgres(ctx context.Context, dir string, st *state) error {
	if st.DatabaseURL != "" && testenv.PingPostgres(st.DatabaseURL) == nil {
		fmt.Fprintf(os.Stderr, "devenv: postgres already up at %s\n", redactURL(st.DatabaseURL))
		return nil
	}
	if st.Postgres == nil {
		// MCPCTL_DEVENV_POSTGRES=cluster insists on a private cluster.
		if os.Getenv("MCPCTL_DEVENV_POSTGRES") != "cluster" && testenv.PingPostgres(testenv.LocalPostgresURL) == nil {
			st.DatabaseURL = testenv.LocalPostgresURL
			fmt.Fprintf(os.Stderr, "devenv: postgres: using the server on 127.0.0.1:5432\n")
			return nil
		}
		st.Postgres = &testenv.PostgresCluster{Dir: filepath.Join(dir, "postgres")}
	}
	opts := testenv.ClusterOptions{Dir: st.Postgres.Dir, Port: st.Postgres.Port, Detach: true}
	fmt.Fprintf(os.Stderr, "devenv: postgres: starting a cluster in %s\n", opts.Dir)
	c, err := testenv.StartPostgresCluster(ctx, opts)
	if errors.Is(err, testenv.ErrDirUnreachable) {
		// As root the server runs as the postgres user, which cannot reach
		// a folder under root's home: keep the cluster in the temp folder.
		sum := sha256.Sum256([]byte(dir))
		opts.Dir = filepath.Join(os.TempDir(), "mcpctl-devenv-"+strconv.Itoa(os.Getuid())+"-"+hex.EncodeToString(sum[:4]))
		fmt.Fprintf(os.Stderr, "devenv: postgres: the postgres OS user cannot reach %s; using %s\n", st.Postgres.Dir, opts.Dir)
		c, err = testenv.StartPostgresCluster(ctx, opts)
	}
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	st.Postgres, st.DatabaseURL = c, c.URL()
	return nil
}

func upVault(ctx context.Context, dir string, st *state) error {
	if st.Vault != nil && st.Vault.Running() {
		if st.Vault.Healthy(ctx) {
			fmt.Fprintf(os.Stderr, "devenv: vault already up at %s (pid %d)\n", st.Vault.Addr(), st.Vault.PID)
			return nil
		}
		// Sealed or wedged: restart it on its storage, which unseals it.
		if err := st.Vault.Stop(); err != nil {
			return err
		}
	}
	bin, err := testenv.VaultBinary(ctx, os.Stderr)
	if err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	if st.Vault == nil {
		st.Vault = &testenv.VaultProcess{Dir: filepath.Join(dir, "vault")}
	}
	st.Vault.Bin = bin
	if st.Vault.Port != 0 && !portsFree(st.Vault.Port, st.Vault.ClusterPort) {
		st.Vault.Port, st.Vault.ClusterPort = 0, 0
	}
	// The examples name http://127.0.0.1:18200, so a newcomer's manifests work
	// unchanged; another port only when that one is taken (MCPCTL_DEVENV_VAULT_PORT).
	if st.Vault.Port == 0 {
		want := 18200
		if v, err := strconv.Atoi(os.Getenv("MCPCTL_DEVENV_VAULT_PORT")); err == nil && v > 0 {
			want = v
		}
		if portsFree(want, want+1) {
			st.Vault.Port, st.Vault.ClusterPort = want, want+1
		}
	}
	fmt.Fprintf(os.Stderr, "devenv: vault: starting a server with storage in %s\n", st.Vault.Dir)
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := st.Vault.Start(ctx, true); err != nil {
		return fmt.Errorf("vault: %w", err)
	}
	fmt.Fprintf(os.Stderr, "devenv: vault: up at %s in %s (pid %d)\n", st.Vault.Addr(), time.Since(start).Round(time.Millisecond), st.Vault.PID)
	return nil
}

func portsFree(ports ...int) bool {
	for _, p := range ports {
		if p == 0 {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

func env(dir string, out io.Writer) error {
	st, err := load(dir)
	if err != nil {
		return err
	}
	if st == nil || st.DatabaseURL == "" || st.Vault == nil {
		return fmt.Errorf("the dev environment is not up (no state in %s); run: scripts/devenv up", dir)
	}
	fmt.Fprintf(out, "export MCPCTL_DATABASE_URL=%s\n", shellQuote(st.DatabaseURL))
	fmt.Fprintf(out, "export VAULT_ADDR=%s\n", shellQuote(st.Vault.Addr()))
	fmt.Fprintf(out, "export VAULT_TOKEN=%s\n", shellQuote(st.Vault.RootToken))
	return nil
}

func status(ctx context.Context, dir string, out io.Writer) error {
	st, err := load(dir)
	if err != nil {
		return err
	}
	if st == nil {
		fmt.Fprintf(out, "postgres: down\nvault:    down\n")
		return errors.New("not up; run: scripts/devenv up")
	}
	ok := true
	switch {
	case st.DatabaseURL == "":
		fmt.Fprintf(out, "postgres: down\n")
		ok = false
	case testenv.PingPostgres(st.DatabaseURL) != nil:
		fmt.Fprintf(out, "postgres: not answering at %s\n", redactURL(st.DatabaseURL))
		ok = false
	case st.Postgres == nil:
		fmt.Fprintf(out, "postgres: up at %s (the server on 127.0.0.1:5432)\n", redactURL(st.DatabaseURL))
	default:
		fmt.Fprintf(out, "postgres: up at %s (pid %d, cluster in %s)\n", redactURL(st.DatabaseURL), st.Postgres.PID, st.Postgres.Dir)
	}
	switch {
	case st.Vault == nil || !st.Vault.Running():
		fmt.Fprintf(out, "vault:    down\n")
		ok = false
	case !st.Vault.Healthy(ctx):
		fmt.Fprintf(out, "vault:    running but sealed or not answering at %s (pid %d); run: scripts/devenv up\n", st.Vault.Addr(), st.Vault.PID)
		ok = false
	default:
		fmt.Fprintf(out, "vault:    up at %s (pid %d, storage in %s)\n", st.Vault.Addr(), st.Vault.PID, st.Vault.Dir)
	}
	if !ok {
		return errors.New("not fully up; run: scripts/devenv up")
	}
	return nil
}

func down(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "devenv: nothing to stop (no %s)\n", dir)
		return nil
	}
	release, err := lock(dir)
	if err != nil {
		return err
	}
	defer release()
	st, err := load(dir)
	if err != nil {
		return err
	}
	if st != nil && st.Vault != nil {
		if err := st.Vault.Stop(); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "devenv: vault stopped\n")
	}
	if st != nil && st.Postgres != nil {
		if err := st.Postgres.Stop(); err != nil {
			return err
		}
		if err := os.RemoveAll(st.Postgres.Dir); err != nil {
			return fmt.Errorf("remove %s: %w", st.Postgres.Dir, err)
		}
		fmt.Fprintf(os.Stderr, "devenv: postgres cluster stopped and removed\n")
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	fmt.Fprintf(os.Stderr, "devenv: down; removed %s\n", dir)
	return nil
}

// redactURL hides a password, should the URL carry one.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	if colon := strings.IndexByte(u[scheme+3:at], ':'); colon >= 0 {
		return u[:scheme+3+colon+1] + "xxxxx" + u[at:]
	}
	return u
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
