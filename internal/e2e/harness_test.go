package e2e

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// commandTimeout bounds one mcpctl run so a hang fails the test with the
// command line instead of stalling the package until the global timeout.
const commandTimeout = 2 * time.Minute

// commandsRun counts mcpctl processes started by the whole package, for the
// figures the tests log.
var commandsRun atomic.Int64

// world is one installation under test: its own Postgres schema and its own
// KV v2 mount on the real servers, a folder for manifests and inputs, and a
// HOME/TMPDIR of its own for the mcpctl processes, so every file they write
// is somewhere the tests can look.
type world struct {
	t      *testing.T
	pgURL  string // as the tests connect (snapshots, direct edits)
	dbURL  string // as mcpctl connects (may carry a password canary)
	schema string
	vault  *testenv.VaultServer
	mount  string
	dir    string // manifests and input files
	home   string // HOME and TMPDIR of the subprocesses

	mu  sync.Mutex
	env map[string]string

	// quiet is held for reading by every running command and for writing by
	// snapshots, so a snapshot never sees a writer's transient lock row.
	quiet sync.RWMutex
}

func newWorld(t *testing.T) *world {
	t.Helper()
	pgURL, schema := testenv.Schema(t)
	v := testenv.Vault(t)
	w := &world{
		t: t, pgURL: pgURL, dbURL: pgURL, schema: schema,
		vault: v, mount: v.NewMount(t),
		dir: t.TempDir(), home: t.TempDir(),
		env: map[string]string{},
	}
	if err := os.MkdirAll(filepath.Join(w.home, "tmp"), 0o700); err != nil {
		t.Fatal(err)
	}
	return w
}

// setEnv sets a variable in the environment of later mcpctl runs.
func (w *world) setEnv(k, v string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.env[k] = v
}

func (w *world) unsetEnv(k string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.env, k)
}

// write creates a file under the world's folder (parents included).
func (w *world) write(rel, content string) string {
	w.t.Helper()
	p := filepath.Join(w.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// result is one finished mcpctl run.
type result struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r result) String() string {
	return "mcpctl " + strings.Join(r.args, " ")
}

// invocation is one mcpctl run to make: arguments plus what differs from
// the world's environment.
type invocation struct {
	args    []string
	env     map[string]string // added to (or, with "", removing from) the world's
	stdin   string
	dir     string        // working directory; the world's folder when empty
	timeout time.Duration // commandTimeout when zero
}

// run runs mcpctl with args in the world's environment.
func (w *world) run(args ...string) result {
	w.t.Helper()
	return w.runWith(invocation{args: args})
}

func (w *world) runWith(inv invocation) result {
	w.t.Helper()
	return w.exec(w.t, inv)
}

// exec runs one mcpctl for test t (the world's test or one of its
// subtests), failing t if it cannot run or does not end in time.
func (w *world) exec(t testing.TB, inv invocation) result {
	t.Helper()
	w.quiet.RLock()
	defer w.quiet.RUnlock()
	timeout := inv.timeout
	if timeout == 0 {
		timeout = commandTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.McpctlBinary(t), inv.args...)
	cmd.Dir = inv.dir
	if cmd.Dir == "" {
		cmd.Dir = w.dir
	}
	cmd.Env = w.environ(inv.env)
	cmd.Stdin = strings.NewReader(inv.stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	commandsRun.Add(1)
	res := result{args: inv.args, stdout: out.String(), stderr: errOut.String(), code: testenv.ExitCode(err)}
	if ctx.Err() != nil {
		t.Fatalf("%s: no answer within %s (killed)\nstdout:\n%s\nstderr:\n%s", res, timeout, res.stdout, res.stderr)
	}
	if res.code < 0 {
		t.Fatalf("%s: %v", res, err)
	}
	return res
}

// environ is the subprocess environment: the test process's own, minus
// anything that could point mcpctl at another database, server or home,
// plus the world's settings.
func (w *world) environ(extra map[string]string) []string {
	vars := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MCPCTL_") || strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "VAULT_") ||
			strings.HasPrefix(k, "BAO_") || strings.HasPrefix(k, "XDG_") ||
			k == "DATABASE_URL" || k == "HOME" || k == "TMPDIR" || k == "CI" {
			continue
		}
		vars[k] = v
	}
	vars["HOME"] = w.home
	vars["TMPDIR"] = filepath.Join(w.home, "tmp")
	vars["NO_COLOR"] = "1"
	vars["MCPCTL_DATABASE_URL"] = w.dbURL
	vars["MCPCTL_SCHEMA"] = w.schema
	w.mu.Lock()
	for k, v := range w.env {
		vars[k] = v
	}
	w.mu.Unlock()
	for k, v := range extra {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

// withPassword returns u with password set, for URLs the tests build to
// check that a password is never printed.
func withPassword(u, password string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	p.User = url.UserPassword(p.User.Username(), password)
	return p.String()
}
