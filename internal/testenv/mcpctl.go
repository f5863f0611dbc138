package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// BuildMcpctl builds ./cmd/mcpctl of the module in dir into out with the
// given go command: the one build recipe the tests and the benchmark share.
func BuildMcpctl(ctx context.Context, goBin, dir, out string) error {
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "./cmd/mcpctl")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/mcpctl: %w\n%s", err, b)
	}
	return nil
}

var bin struct {
	once sync.Once
	path string
	err  error
}

// McpctlBinary builds the real command once per test process and returns
// its path: crash and end-to-end tests check the shipped binary's output,
// exit codes and files, not an in-process imitation of them. The binary is
// removed when Main returns.
func McpctlBinary(t testing.TB) string {
	t.Helper()
	bin.once.Do(func() {
		dir, err := os.MkdirTemp("", "mcpctl-test-bin-")
		if err != nil {
			bin.err = err
			return
		}
		atExit(func() { _ = os.RemoveAll(dir) })
		root, err := moduleRoot()
		if err != nil {
			bin.err = err
			return
		}
		bin.path = filepath.Join(dir, "mcpctl")
		bin.err = BuildMcpctl(context.Background(), "go", root, bin.path)
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// moduleRoot is the directory of the go.mod above the working directory
// (a test runs in its package's directory).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the mcpctl module")
	}
	return filepath.Dir(mod), nil
}

// ExitCode is the exit status of a finished command: 0 for a nil error,
// the process's code for an *exec.ExitError, -1 when it did not run or was
// killed by a signal.
func ExitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// RandHex returns 2n random hex digits, for names that must not collide
// between tests and runs (schemas, mounts, prefixes).
func RandHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
