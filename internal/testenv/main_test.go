package testenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// The cleanup tests re-run this binary as a helper that starts servers
	// the way a test package would, to watch what happens when it ends.
	if mode := os.Getenv("MCPCTL_TESTENV_HELPER"); mode != "" {
		os.Exit(run(func() int { return helperProcess(mode) }))
	}
	os.Exit(Main(m))
}

type helperServers struct {
	PostgresDir string
	PostgresPID int
	VaultDir    string
	VaultPID    int
}

func helperProcess(mode string) int {
	pg, err := startThrowawayPostgres()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 3
	}
	v, err := startTestVault()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 3
	}
	_ = json.NewEncoder(os.Stdout).Encode(helperServers{pg.Dir, pg.PID, v.proc.Dir, v.proc.PID})
	if mode == "hang" {
		select {} // until the parent kills us
	}
	return 0
}

// startHelper runs this test binary as a helper and returns the servers it
// reports having started.
func startHelper(t *testing.T, mode string) (*exec.Cmd, helperServers) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(withoutTestenvVars(), "MCPCTL_TESTENV_HELPER="+mode)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var s helperServers
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper started no servers (read: %v); its stderr is above", err)
	}
	if err := json.Unmarshal(line, &s); err != nil {
		t.Fatalf("helper output %q: %v", line, err)
	}
	if !pidAlive(s.PostgresPID) || !pidAlive(s.VaultPID) || !dirExists(s.PostgresDir) || !dirExists(s.VaultDir) {
		t.Fatalf("helper reported servers that are not running: %+v", s)
	}
	return cmd, s
}

func withoutTestenvVars() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MCPCTL_TEST") {
			env = append(env, kv)
		}
	}
	return env
}

// A package whose tests end normally leaves no server and no folder.
func TestMainStopsServersAndRemovesFolders(t *testing.T) {
	t.Parallel()
	cmd, s := startHelper(t, "exit")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	for _, pid := range []int{s.PostgresPID, s.VaultPID} {
		if pidAlive(pid) {
			t.Errorf("pid %d still running after Main returned", pid)
		}
	}
	for _, dir := range []string{s.PostgresDir, s.VaultDir} {
		if dirExists(dir) {
			t.Errorf("%s still exists after Main returned", dir)
		}
	}
}

// A test binary killed outright (timeout, SIGKILL) takes its servers with
// it, and the next run removes the folders it left.
func TestKilledPackageLeavesNoServers(t *testing.T) {
	t.Parallel()
	cmd, s := startHelper(t, "hang")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// A generous bound only so a broken parent-death signal fails instead
	// of hanging; it is not a speed assertion.
	if !waitUntil(time.Minute, func() bool { return !pidAlive(s.PostgresPID) && !pidAlive(s.VaultPID) }) {
		t.Fatalf("servers outlived their killed test process: postgres pid %d alive=%v, vault pid %d alive=%v",
			s.PostgresPID, pidAlive(s.PostgresPID), s.VaultPID, pidAlive(s.VaultPID))
	}
	if !dirExists(s.PostgresDir) {
		t.Fatalf("%s vanished although nobody cleaned up; the sweep below would prove nothing", s.PostgresDir)
	}
	sweepStale()
	for _, dir := range []string{s.PostgresDir, s.VaultDir} {
		if dirExists(dir) {
			t.Errorf("%s left behind by a dead process was not swept", dir)
		}
	}
}
