package state_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// holderProcess is another mcpctl process holding the schema's lock.
type holderProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startHolder re-executes the test binary as a process that takes the lock
// on schema (see lockHolderProcess in main_test.go) and waits until it has.
func startHolder(t *testing.T, url, schema, operation string) *holderProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHolder+"="+operation, envURL+"="+url, envSchema+"="+schema)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holderProcess{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	if line := h.line(t); line != "locked" {
		t.Fatalf("lock holder process said %q, want \"locked\"", line)
	}
	return h
}

func (h *holderProcess) line(t *testing.T) string {
	t.Helper()
	if !h.out.Scan() {
		t.Fatalf("lock holder process ended without output: %v", h.out.Err())
	}
	return h.out.Text()
}

// release tells the holder to release the lock and exit, and returns what
// it reported.
func (h *holderProcess) release(t *testing.T) string {
	t.Helper()
	_ = h.stdin.Close()
	line := h.line(t)
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("lock holder process: %v", err)
	}
	return line
}

func TestLockContentionBetweenProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, schema := testenv.Schema(t)
	st := openSchema(t, url, schema)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	h := startHolder(t, url, schema, "apply from the other process")
	pid := h.cmd.Process.Pid

	_, err := st.Lock(ctx, state.LockOptions{Operation: "apply", Timeout: 300 * time.Millisecond})
	var locked *state.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("Lock while another process holds it = %v, want *LockedError", err)
	}
	if locked.Holder == nil || locked.Holder.PID != pid || locked.Holder.Operation != "apply from the other process" ||
		locked.Holder.User == "" || locked.Holder.Host == "" || locked.Holder.StartedAt.IsZero() {
		t.Fatalf("LockedError holder = %+v, want the other process (pid %d)", locked.Holder, pid)
	}
	if msg := err.Error(); !containsAll(msg, schema, "pid "+strconv.Itoa(pid), "apply from the other process", "force-unlock") {
		t.Fatalf("lock timeout message %q does not name the holder and the way out", msg)
	}

	held, holder, err := st.LockStatus(ctx)
	if err != nil || !held || holder == nil || holder.PID != pid {
		t.Fatalf("LockStatus = %v, %+v, %v; want held by pid %d", held, holder, err, pid)
	}

	// A waiting Lock gets it once the holder releases.
	got := make(chan error, 1)
	go func() {
		l, err := st.Lock(ctx, state.LockOptions{Operation: "waiter", Timeout: time.Minute})
		if err == nil {
			err = l.Release(ctx)
		}
		got <- err
	}()
	if out := h.release(t); out != "released" {
		t.Fatalf("holder process release: %s", out)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock: %v", err)
	}
	held, _, err = st.LockStatus(ctx)
	if err != nil || held {
		t.Fatalf("LockStatus after release = %v, %v; want free", held, err)
	}
	var rows int
	if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM `+schema+`.lock_holder`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("holder rows after release = %d (%v), want 0", rows, err)
	}
}

func TestForceUnlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, schema := testenv.Schema(t)
	st := openSchema(t, url, schema)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ForceUnlock(ctx); !errors.Is(err, state.ErrNotLocked) {
		t.Fatalf("ForceUnlock with no holder = %v, want ErrNotLocked", err)
	}
	h := startHolder(t, url, schema, "stuck apply")

	holder, err := st.ForceUnlock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if holder == nil || holder.PID != h.cmd.Process.Pid || holder.Operation != "stuck apply" {
		t.Fatalf("ForceUnlock returned holder %+v, want the other process", holder)
	}
	l, err := st.Lock(ctx, state.LockOptions{Operation: "after force-unlock"})
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	_, holder, err = st.LockStatus(ctx)
	if err != nil || holder == nil || holder.PID != os.Getpid() || holder.Operation != "after force-unlock" {
		t.Fatalf("holder after re-locking = %+v, %v", holder, err)
	}
	// The evicted process learns it lost the lock when it releases, and its
	// release does not disturb the new holder.
	out := h.release(t)
	t.Logf("evicted process: %s", out)
	if !strings.HasPrefix(out, "release: ") || !strings.Contains(out, schema) {
		t.Fatalf("evicted process release reported %q, want an error naming the schema", out)
	}
	if err := l.Verify(ctx); err != nil {
		t.Fatalf("new holder lost its lock: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestLockBeforeMigrateOnAFreshSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t)
	l, err := st.Lock(ctx, state.LockOptions{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	// Migrate uses the lock this Store holds instead of waiting on itself.
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, holder, err := st.LockStatus(ctx)
	if err != nil || holder == nil || holder.Operation != "apply" || holder.PID != os.Getpid() {
		t.Fatalf("holder after Migrate under a held lock = %+v, %v; want this process's apply", holder, err)
	}
	if _, err := st.Lock(ctx, state.LockOptions{Operation: "again"}); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("second Lock on one Store = %v, want a refusal", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if err := l.Verify(ctx); !errors.Is(err, state.ErrLockLost) {
		t.Fatalf("Verify after Release = %v, want ErrLockLost", err)
	}
}

func TestLocksArePerSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := openStore(t), openStore(t)
	la, err := a.Lock(ctx, state.LockOptions{Operation: "a"})
	if err != nil {
		t.Fatal(err)
	}
	defer la.Release(ctx)
	lb, err := b.Lock(ctx, state.LockOptions{Operation: "b"})
	if err != nil {
		t.Fatalf("lock on another schema waited for the first: %v", err)
	}
	defer lb.Release(ctx)
}

func TestLockWaitHonoursContext(t *testing.T) {
	t.Parallel()
	url, schema := testenv.Schema(t)
	holder := openSchema(t, url, schema)
	waiter := openSchema(t, url, schema)
	l, err := holder.Lock(context.Background(), state.LockOptions{Operation: "hold"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = waiter.Lock(ctx, state.LockOptions{Operation: "wait", Timeout: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestCloseReleasesTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, schema := testenv.Schema(t)
	first, err := state.Open(ctx, state.Options{URL: url, Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Lock(ctx, state.LockOptions{Operation: "exits without releasing"}); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := openSchema(t, url, schema)
	l, err := second.Lock(ctx, state.LockOptions{Operation: "next"})
	if err != nil {
		t.Fatalf("Lock after the holder closed its store: %v", err)
	}
	_ = l.Release(ctx)
}
