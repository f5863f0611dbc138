package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// mcpctl runs the built binary against one schema.
type mcpctl struct {
	bin string
	env []string
}

func newMcpctl(bin, dbURL, schema, vaultToken string) *mcpctl {
	var env []string
	for _, kv := range os.Environ() {
		// The caller's own mcpctl, Vault and libpq settings must not leak
		// into what is measured.
		if strings.HasPrefix(kv, "MCPCTL_") || strings.HasPrefix(kv, "VAULT_") || strings.HasPrefix(kv, "BAO_") ||
			strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"MCPCTL_DATABASE_URL="+dbURL,
		"MCPCTL_SCHEMA="+schema,
		"NO_COLOR=1",
		// The bao-token Secret reads it (fromEnv), as in examples/basic.
		"VAULT_TOKEN="+vaultToken,
		valueEnvUser+"=bench-user",
		valueEnvPassword+"=bench-password-0123456789abcdef",
	)
	return &mcpctl{bin: bin, env: env}
}

// result is one measured mcpctl process.
type result struct {
	wall     time.Duration
	cpu      time.Duration // user + system
	maxRSSKB int64
	exit     int
	outBytes int64
}

// run executes mcpctl with args, discarding stdout (counted) and keeping
// the tail of stderr for the error message. want lists the exit codes that
// mean success for this figure.
func (m *mcpctl) run(ctx context.Context, extraEnv []string, want []int, args ...string) (result, error) {
	cmd := exec.CommandContext(ctx, m.bin, args...)
	cmd.Env = append(append([]string(nil), m.env...), extraEnv...)
	var out countWriter
	var errBuf tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &errBuf
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	r := result{wall: wall, outBytes: out.n}
	if cmd.ProcessState != nil {
		r.exit = cmd.ProcessState.ExitCode()
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSSKB = ru.Maxrss // KiB on Linux
		}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return r, fmt.Errorf("mcpctl %s: %w", strings.Join(args, " "), err)
	}
	for _, w := range want {
		if r.exit == w {
			return r, nil
		}
	}
	return r, fmt.Errorf("mcpctl %s: exit %d, want %v; stderr ends:\n%s", strings.Join(args, " "), r.exit, want, errBuf.String())
}

// hasCommand reports whether the binary knows a top-level command (the
// reconcile commands land separately from the rest of the CLI).
func (m *mcpctl) hasCommand(ctx context.Context, name string) bool {
	cmd := exec.CommandContext(ctx, m.bin, name, "--help")
	cmd.Env = m.env
	out, err := cmd.CombinedOutput()
	return err == nil && !bytes.Contains(out, []byte("unknown command"))
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8<<10 {
		t.b = append([]byte(nil), t.b[len(t.b)-8<<10:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }

var _ io.Writer = (*tailBuffer)(nil)

// repoRoot is the module root: `go run ./internal/bench` runs from it, and
// the build needs it.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/mcpctl/mcpctl\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run from inside the mcpctl checkout (no go.mod of github.com/mcpctl/mcpctl above %s)", wd)
		}
	}
}
