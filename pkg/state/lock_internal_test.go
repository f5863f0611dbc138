package state

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// A transaction-mode pooler runs consecutive statements of one client
// connection on different server sessions. Simulate it by verifying the
// lock from a second session: the check must fail and say what to do.
func TestLockVerificationDetectsASwitchedSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, schema := testenv.Schema(t)
	st, err := Open(ctx, Options{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := st.Lock(ctx, LockOptions{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	other, err := st.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	err = verifyHeld(ctx, other, schema, l.key, l.pid)
	if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "transaction mode") || !strings.Contains(err.Error(), "session-mode") {
		t.Fatalf("verify from another session = %v, want ErrLockLost explaining the pooler", err)
	}
	if err := verifyHeld(ctx, l.conn, schema, l.key, l.pid); err != nil {
		t.Fatalf("verify on the holding session: %v", err)
	}
}

func TestLockKeyDependsOnSchemaOnly(t *testing.T) {
	if lockKey("a") == lockKey("b") || lockKey("mcpctl") != lockKey("mcpctl") {
		t.Fatal("lock keys must be per schema and stable")
	}
}
