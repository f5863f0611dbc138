package apply_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/mcpctl/mcpctl/internal/failpoint"
	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// mcpctl runs the real binary against the world's schema with its env.
func (w *world) mcpctl(ctx context.Context, extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, testenv.McpctlBinary(w.t), args...)
	env := append(os.Environ(), "MCPCTL_DATABASE_URL="+w.url, "MCPCTL_SCHEMA="+w.schema, "NO_COLOR=1")
	for k, v := range w.env {
		env = append(env, k+"="+v)
	}
	cmd.Env = append(env, extraEnv...)
	return cmd
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
			switch {
			case errors.Is(err, vaultapi.ErrSecretNotFound):
				// No copy left.
			case err != nil:
				// Not knowing is not "no copy left".
				w.t.Errorf("secret %s: checking that no copy is left on bao: %v", r.Name, err)
			case sec != nil && sec.Data != nil:
				w.t.Errorf("secret %s: a readable copy is left on bao after moving to plaintext", r.Name)
			}
		}
	}
	w.checkJournalClosed(s)
}

// checkJournalClosed asserts that no migration journal entry is open.
func (w *world) checkJournalClosed(s *state.Store) {
	w.t.Helper()
	open, err := s.OpenMigrations(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	if len(open) != 0 {
		w.t.Errorf("%d journal entries still open: %+v", len(open), open[0])
	}
}

// directions are the two ways a secret moves in the crash tests.
var directions = []struct{ name, from, to string }{
	{"plaintext-to-openbao", "default", "bao"},
	{"openbao-to-plaintext", "bao", "default"},
}

const crashSecrets = 200

// TestCrashAtEveryProtocolStep kills a real `mcpctl apply` migrating 200
// secrets right after each of the seven protocol steps (in the middle of the
// run: at the 60th secret to reach that step), in both directions, then
// reruns apply until it reports no changes. At the moment of the crash and
// after convergence, every secret reads back with its original values from
// its recorded backend, and nothing is left behind.
func TestCrashAtEveryProtocolStep(t *testing.T) {
	for _, dir := range directions {
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

// testSeed is the seed of a test's random choices: MCPCTL_TEST_SEED when
// set (to replay a failure), else a random one. It is logged either way.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := rand.Uint64()
	if v := os.Getenv("MCPCTL_TEST_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("MCPCTL_TEST_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("random seed %d (replay with MCPCTL_TEST_SEED=%d)", seed, seed)
	return seed
}

// TestSIGKILLAtARandomMoment kills apply with SIGKILL at a random point of
// a 200-secret migration, in both directions. The moment comes from a
// logged seed (MCPCTL_TEST_SEED replays it).
func TestSIGKILLAtARandomMoment(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	for _, dir := range directions {
		// Drawn before the parallel subtests start, in a fixed order.
		delay := time.Duration(150+rng.IntN(600)) * time.Millisecond
		t.Run(dir.name, func(t *testing.T) {
			t.Parallel()
			w, s := seededWorld(t, crashSecrets, dir.from)
			w.write("secrets.yaml", w.secretsYAML(crashSecrets, dir.to))
			ctx := context.Background()
			cmd, _ := w.startApply()
			time.Sleep(delay) // the random moment itself, not a synchronisation
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
	return testenv.ExitCode(cmd.Wait()), out.String()
}

// runMcpctl runs the real binary with args to the end: its exit code and
// combined output.
func (w *world) runMcpctl(extraEnv []string, args ...string) (int, string) {
	w.t.Helper()
	out := &bytes.Buffer{}
	cmd := w.mcpctl(context.Background(), extraEnv, args...)
	cmd.Stdout, cmd.Stderr = out, out
	return testenv.ExitCode(cmd.Run()), out.String()
}

// convergeCmd reruns the real binary with args until it reports no changes.
func (w *world) convergeCmd(args ...string) {
	w.t.Helper()
	for i := 0; i < 4; i++ {
		code, out := w.runMcpctl(nil, args...)
		if code != 0 {
			w.t.Fatalf("rerun %d of %v: exit %d\n%s", i+1, args, code, out)
		}
		if strings.Contains(out, "No changes") {
			return
		}
	}
	w.t.Fatalf("%v did not converge after 4 reruns", args)
}

// checkKept asserts that every secret lives on to, no journal entry is
// open, and each has a kept entry with a readable source copy on from
// holding its original values.
func (w *world) checkKept(s *state.Store, n int, from, to string) {
	w.t.Helper()
	ctx := context.Background()
	rows, err := s.ListSecrets(ctx, true)
	if err != nil {
		w.t.Fatal(err)
	}
	want := w.wantValues(n)
	kv := w.vault.Client(w.t).KVv2(w.mount)
	for _, r := range rows {
		if r.Name == "bao-token" {
			continue
		}
		if r.BackendName != to {
			w.t.Errorf("secret %s is on %s, want %s", r.Name, r.BackendName, to)
		}
		var got string
		switch from {
		case "default":
			got = r.Data["KEY"]
		case "bao":
			sec, err := kv.Get(ctx, "app/"+r.Name)
			if err != nil {
				w.t.Errorf("secret %s: the kept copy on bao is not readable: %v", r.Name, err)
				continue
			}
			got, _ = sec.Data["KEY"].(string)
		}
		if got != want[r.Name] {
			w.t.Errorf("secret %s: the kept copy on %s holds %q, want the original values", r.Name, from, got)
		}
	}
	w.checkJournalClosed(s)
	kept, err := s.KeptCopies(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range kept {
		if m.FromBackend != from || m.ToBackend != to {
			w.t.Errorf("kept entry %+v, want %s → %s", m, from, to)
		}
		names[m.SecretName] = true
	}
	if len(names) != n {
		w.t.Errorf("%d secrets have a kept entry, want %d", len(names), n)
	}
}

const keptSecrets = 40

// TestCrashWithKeepSource kills a real `mcpctl migrate secrets
// --keep-source` after each protocol step (at the 15th secret to reach
// it), in both directions, and reruns it until it reports no changes: at
// every moment each secret reads back from its recorded backend, and at the
// end every source copy is still readable and recorded as kept. Then it
// kills `mcpctl migrate secrets --cleanup` in the middle of removing them
// and reruns it: nothing is left behind and the journal is closed.
func TestCrashWithKeepSource(t *testing.T) {
	for _, dir := range directions {
		for _, step := range apply.ProtocolSteps {
			t.Run(dir.name+"/"+step, func(t *testing.T) {
				t.Parallel()
				w, s := seededWorld(t, keptSecrets, dir.from)
				move := []string{"migrate", "secrets", "--from", dir.from, "--to", dir.to, "--keep-source", "--auto-approve"}
				if code, out := w.runMcpctl([]string{"MCPCTL_FAILPOINT=" + step + ":15"}, move...); code != failpoint.ExitCode {
					t.Fatalf("migrate with failpoint %s: exit %d, want %d (the failpoint was not reached?)\n%s", step, code, failpoint.ExitCode, out)
				}
				w.checkReadable(s, keptSecrets, "right after the crash")
				w.convergeCmd(move...)
				w.checkReadable(s, keptSecrets, "after convergence")
				w.checkKept(s, keptSecrets, dir.from, dir.to)

				cleanup := []string{"migrate", "secrets", "--cleanup", "--auto-approve"}
				if code, out := w.runMcpctl([]string{"MCPCTL_FAILPOINT=" + apply.FPSourceDeleted + ":15"}, cleanup...); code != failpoint.ExitCode {
					t.Fatalf("cleanup with failpoint: exit %d, want %d\n%s", code, failpoint.ExitCode, out)
				}
				w.checkReadable(s, keptSecrets, "right after the cleanup crash")
				w.convergeCmd(cleanup...)
				w.checkReadable(s, keptSecrets, "after the cleanup")
				w.checkSettled(s, keptSecrets, dir.to)
				if kept, err := s.KeptCopies(context.Background()); err != nil || len(kept) != 0 {
					t.Errorf("after the cleanup: %d kept entries (err %v)", len(kept), err)
				}
			})
		}
	}
}
