package apply_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpctl/mcpctl/internal/failpoint"
	"github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/state"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// mcpctlBinary builds the real command once per test process: crash tests
// kill a real `mcpctl apply`, not an in-process imitation of it.
func mcpctlBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcpctl-crash-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "mcpctl")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/mcpctl/mcpctl/cmd/mcpctl")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/mcpctl: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// mcpctl runs the real binary against the world's schema with its env.
func (w *world) mcpctl(ctx context.Context, extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, mcpctlBinary(w.t), args...)
	env := append(os.Environ(), "MCPCTL_DATABASE_URL="+w.url, "MCPCTL_SCHEMA="+w.schema, "NO_COLOR=1")
	for k, v := range w.env {
		env = append(env, k+"="+v)
	}
	cmd.Env = append(env, extraEnv...)
	return cmd
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// converge reruns `mcpctl apply` until it reports no changes.
func (w *world) converge(ctx context.Context) {
	w.t.Helper()
	for i := 0; i < 4; i++ {
		code, out := w.runApply()
		if code != 0 {
			w.t.Fatalf("rerun %d of apply: exit %d\n%s", i+1, code, out)
		}
		if strings.Contains(out, "No changes.") {
			return
		}
	}
	w.t.Fatalf("apply did not converge after 4 reruns")
}

// checkReadable asserts the promise that matters most: every secret is
// readable, with its original values, from the backend its row names.
func (w *world) checkReadable(s *state.Store, n int, when string) {
	w.t.Helper()
	if diff := cmp.Diff(w.wantValues(n), w.readAll(s)); diff != "" {
		w.t.Fatalf("%s: values read through the recorded placement differ (-want +got):\n%s", when, diff)
	}
}

// checkSettled asserts that every secret lives on want, the journal is
// closed, and no readable copy is left on the other backend.
func (w *world) checkSettled(s *state.Store, n int, want string) {
	w.t.Helper()
	ctx := context.Background()
	rows, err := s.ListSecrets(ctx, true)
	if err != nil {
		w.t.Fatal(err)
	}
	kv := w.vault.Client(w.t).KVv2(w.mount)
	for _, r := range rows {
		if r.Name == "bao-token" {
			continue
		}
		if r.BackendName != want {
			w.t.Errorf("secret %s is on %s, want %s", r.Name, r.BackendName, want)
		}
		switch want {
		case "bao":
			if r.Data != nil {
				w.t.Errorf("secret %s: plaintext copy left in the row after moving to bao", r.Name)
			}
		case "default":
			sec, err := kv.Get(ctx, "app/"+r.Name)
			if err == nil && sec != nil && sec.Data != nil {
				w.t.Errorf("secret %s: a readable copy is left on bao after moving to plaintext", r.Name)
			}
		}
	}
	open, err := s.OpenMigrations(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if len(open) != 0 {
		w.t.Errorf("%d journal entries still open: %+v", len(open), open[0])
	}
}

const crashSecrets = 200

// TestCrashAtEveryProtocolStep kills a real `mcpctl apply` migrating 200
// secrets right after each of the seven protocol steps (in the middle of the
// run: at the 60th secret to reach that step), in both directions, then
// reruns apply until it reports no changes. At the moment of the crash and
// after convergence, every secret reads back with its original values from
// its recorded backend, and nothing is left behind.
func TestCrashAtEveryProtocolStep(t *testing.T) {
	for _, dir := range []struct{ name, from, to string }{
		{"plaintext-to-openbao", "default", "bao"},
		{"openbao-to-plaintext", "bao", "default"},
	} {
		for _, step := range apply.ProtocolSteps {
			t.Run(dir.name+"/"+step, func(t *testing.T) {
				t.Parallel()
				w, s := seededWorld(t, crashSecrets, dir.from)
				w.write("secrets.yaml", w.secretsYAML(crashSecrets, dir.to))

				ctx := context.Background()
				if code, out := w.runApply("MCPCTL_FAILPOINT=" + step + ":60"); code != failpoint.ExitCode {
					t.Fatalf("apply with failpoint %s: exit %d, want %d (the failpoint was not reached?)\n%s", step, code, failpoint.ExitCode, out)
				}
				w.checkReadable(s, crashSecrets, "right after the crash")
				w.converge(ctx)
				w.checkReadable(s, crashSecrets, "after convergence")
				w.checkSettled(s, crashSecrets, dir.to)
			})
		}
	}
}

// TestSIGKILLAtARandomMoment kills apply with SIGKILL at a random point of
// a 200-secret migration, in both directions.
func TestSIGKILLAtARandomMoment(t *testing.T) {
	for _, dir := range []struct{ name, from, to string }{
		{"plaintext-to-openbao", "default", "bao"},
		{"openbao-to-plaintext", "bao", "default"},
	} {
		t.Run(dir.name, func(t *testing.T) {
			t.Parallel()
			w, s := seededWorld(t, crashSecrets, dir.from)
			w.write("secrets.yaml", w.secretsYAML(crashSecrets, dir.to))
			ctx := context.Background()
			cmd, _ := w.startApply()
			delay := time.Duration(150+rand.IntN(600)) * time.Millisecond
			time.Sleep(delay)
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			t.Logf("killed after %s", delay)
			w.checkReadable(s, crashSecrets, "right after SIGKILL")
			w.converge(ctx)
			w.checkReadable(s, crashSecrets, "after convergence")
			w.checkSettled(s, crashSecrets, dir.to)
		})
	}
}

// seededWorld is a world with n managed secrets applied on backend.
func seededWorld(t *testing.T, n int, backend string) (*world, *state.Store) {
	t.Helper()
	w := newWorld(t)
	return w, w.seed(n, backend)
}

// seed applies the bao backend and n managed secrets on backend, and
// returns the world's store.
func (w *world) seed(n int, backend string) *state.Store {
	w.t.Helper()
	s := w.store()
	w.write("backends.yaml", w.backendYAML())
	w.write("secrets.yaml", w.secretsYAML(n, backend))
	_, res := w.mustApply(s)
	if res.Failed() != 0 {
		w.t.Fatalf("seeding: %v", res.Err())
	}
	return s
}

// startApply starts the real `mcpctl apply -f <dir> --auto-approve` with
// extraEnv; its combined output goes to the returned buffer.
func (w *world) startApply(extraEnv ...string) (*exec.Cmd, *bytes.Buffer) {
	w.t.Helper()
	out := &bytes.Buffer{}
	cmd := w.mcpctl(context.Background(), extraEnv, "apply", "-f", w.dir, "--auto-approve")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	return cmd, out
}

// runApply runs `mcpctl apply` to the end: its exit code and output.
func (w *world) runApply(extraEnv ...string) (int, string) {
	w.t.Helper()
	cmd, out := w.startApply(extraEnv...)
	return exitCode(cmd.Wait()), out.String()
}
