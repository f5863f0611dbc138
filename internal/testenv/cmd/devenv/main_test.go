package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// up, env, status, up again (idempotent) and down, with a private Postgres
// cluster forced so both servers are ours to start and stop.
func TestUpEnvStatusDown(t *testing.T) {
	t.Setenv("MCPCTL_DEVENV_POSTGRES", "cluster")
	dir := t.TempDir()
	ctx := context.Background()
	var out bytes.Buffer
	t.Cleanup(func() { _ = runCommand(ctx, "down", dir, &out) })

	if err := runCommand(ctx, "env", dir, &out); err == nil {
		t.Fatalf("env before up succeeded: %s", out.String())
	}
	if err := runCommand(ctx, "up", dir, &out); err != nil {
		t.Fatalf("up: %v", err)
	}
	st, err := load(dir)
	if err != nil || st == nil || st.Postgres == nil || st.Vault == nil {
		t.Fatalf("state after up: %+v, %v", st, err)
	}
	out.Reset()
	if err := runCommand(ctx, "env", dir, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"export MCPCTL_DATABASE_URL='" + st.DatabaseURL + "'\n",
		"export VAULT_ADDR='" + st.Vault.Addr() + "'\n",
		"export VAULT_TOKEN='" + st.Vault.RootToken + "'\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("env output lacks %q", want)
		}
	}
	if err := testenv.PingPostgres(st.DatabaseURL); err != nil {
		t.Fatalf("postgres from env: %v", err)
	}
	if !st.Vault.Healthy(ctx) {
		t.Fatalf("vault from env is not unsealed and active")
	}

	if err := runCommand(ctx, "up", dir, &out); err != nil {
		t.Fatalf("second up: %v", err)
	}
	again, _ := load(dir)
	if again.Vault.PID != st.Vault.PID || again.Postgres.PID != st.Postgres.PID {
		t.Fatalf("second up restarted running servers: %+v then %+v", st, again)
	}
	out.Reset()
	if err := runCommand(ctx, "status", dir, &out); err != nil {
		t.Fatalf("status: %v\n%s", err, out.String())
	}

	if err := runCommand(ctx, "down", dir, &out); err != nil {
		t.Fatalf("down: %v", err)
	}
	if st.Vault.Running() || testenv.PingPostgres(st.DatabaseURL) == nil {
		t.Fatalf("servers still running after down")
	}
	for _, d := range []string{dir, st.Postgres.Dir} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists after down", d)
		}
	}
	if err := runCommand(ctx, "status", dir, &out); err == nil {
		t.Fatalf("status after down reported up")
	}
}
