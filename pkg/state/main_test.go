package state_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Environment of the lock-holder helper process (see lockHolderProcess).
const (
	envHolder = "MCPCTL_STATE_TEST_LOCK_HOLDER"
	envURL    = "MCPCTL_STATE_TEST_URL"
	envSchema = "MCPCTL_STATE_TEST_SCHEMA"
)

func TestMain(m *testing.M) {
	if os.Getenv(envHolder) != "" {
		os.Exit(lockHolderProcess())
	}
	os.Exit(testenv.Main(m))
}

// lockHolderProcess is the test binary re-executed as a second mcpctl: it
// takes the lock, says "locked", holds it until stdin closes, then releases
// it and reports how that went.
func lockHolderProcess() int {
	ctx := context.Background()
	st, err := state.Open(ctx, state.Options{URL: os.Getenv(envURL), Schema: os.Getenv(envSchema), MaxConns: 2})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer st.Close()
	l, err := st.Lock(ctx, state.LockOptions{Operation: os.Getenv(envHolder), Timeout: time.Minute})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	if err := l.Release(ctx); err != nil {
		fmt.Println("release:", err)
		return 0
	}
	fmt.Println("released")
	return 0
}

// openStore opens a store on a fresh schema (not migrated).
func openStore(t *testing.T) *state.Store {
	t.Helper()
	url, schema := testenv.Schema(t)
	return openSchema(t, url, schema)
}

func openSchema(t *testing.T, url, schema string) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), state.Options{URL: url, Schema: schema})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// migratedStore opens a store on a fresh, migrated schema.
func migratedStore(t *testing.T) *state.Store {
	t.Helper()
	st := openStore(t)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st
}
