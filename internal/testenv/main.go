package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The servers one test process started, stopped by Main in reverse order.
// This is the package's only process-wide state besides the sync.Onces that
// start each server once.
var (
	mainActive atomic.Bool
	cleanupMu  sync.Mutex
	cleanups   []func()
	sweepOnce  sync.Once
)

// Main runs the package's tests and then stops every server this process
// started and removes their folders. Every test package that uses testenv
// calls it:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// If the process dies before Main returns (timeout panic, SIGKILL) the
// kernel kills the servers (parent-death signal) and the next run removes
// the folders left behind.
func Main(m *testing.M) int {
	return run(m.Run)
}

func run(tests func() int) int {
	mainActive.Store(true)
	defer stopAll()
	return tests()
}

func stopAll() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// requireMain refuses to start a server nobody would stop.
func requireMain() error {
	if mainActive.Load() {
		return nil
	}
	return fmt.Errorf("this test package has no TestMain calling testenv.Main, so the servers it starts would never be stopped; add\n" +
		"\tfunc TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }")
}

const tempPrefix = "mcpctl-testenv-"

// tempDir makes a folder for one server, named after this pid so a later
// run can tell it was left behind by a dead process.
func tempDir(kind string) (string, error) {
	sweepOnce.Do(sweepStale)
	dir, err := os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-"+kind+"-")
	if err != nil {
		return "", fmt.Errorf("temp folder for %s: %w", kind, err)
	}
	return dir, nil
}

// sweepStale removes server folders whose test process is gone.
func sweepStale() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range matches {
		rest := strings.TrimPrefix(filepath.Base(dir), tempPrefix)
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid == os.Getpid() || pidAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}
