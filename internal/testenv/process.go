package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// freePort asks the kernel for an unused 127.0.0.1 port. Another process can
// take it before the server binds it, so callers retry on "address in use".
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sysProcAttr puts a server in its own process group (so a terminal's Ctrl-C
// reaches the test binary, which stops it in order) and, unless it must
// outlive us (scripts/devenv), has the kernel kill it if this process dies
// without running Main's cleanup (test timeout panic, SIGKILL).
func sysProcAttr(detach bool, cred *syscall.Credential) *syscall.SysProcAttr {
	if detach {
		return &syscall.SysProcAttr{Setsid: true, Credential: cred}
	}
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: cred}
}

// pidAlive reports whether a process with this pid runs (EPERM means it
// exists but belongs to another user). A zombie counts as gone: in a
// container whose init does not reap, it would otherwise never die.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return !os.IsNotExist(err) || !dirExists("/proc/self")
	}
	// "pid (comm) S ...": the state follows the last ')'.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// pidRuns reports whether pid is alive and its command line mentions needle,
// so a recycled pid is never signalled by mistake. Where /proc is missing it
// trusts the pid.
func pidRuns(pid int, needle string) bool {
	if !pidAlive(pid) {
		return false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return !dirExists("/proc/self")
	}
	return bytes.Contains(cmdline, []byte(needle))
}

// terminate sends SIGTERM, then SIGKILL if the process is still there after
// grace. exited reports when it is gone (a closed channel for our own child,
// or a pid poll for one started by another process).
func terminate(pid int, grace time.Duration, exited func() bool) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("signal pid %d: %w", pid, err)
	}
	if waitUntil(grace, exited) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitUntil(10*time.Second, exited) {
		return nil
	}
	return fmt.Errorf("pid %d did not exit after SIGKILL", pid)
}

func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// closed reports whether ch is closed, for "has the child exited" checks.
func closed(ch <-chan struct{}) func() bool {
	return func() bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
}

// logTail returns the last lines of a server log for error messages.
func logTail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log at %s: %v)", path, err)
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return "last lines of " + path + ":\n  " + strings.Join(all, "\n  ")
}

func dirExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
