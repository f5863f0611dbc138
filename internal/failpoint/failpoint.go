// Package failpoint lets crash tests kill a real mcpctl process at a named
// step. It is compiled into the binary but inert unless MCPCTL_FAILPOINT is
// set, so the tested binary is the shipped binary.
//
//	MCPCTL_FAILPOINT=migrate.after-write       exit at the first hit
//	MCPCTL_FAILPOINT=migrate.after-write:17    exit at the 17th hit
//
// The process exits immediately with ExitCode, without running deferred
// functions or releasing anything, as a kill would. The CLI builds the hook
// from its environment and injects it (apply.Engine.Failpoint); the
// packages under pkg/ only call what they are given.
package failpoint

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// ExitCode is the status a failpoint exits with, so tests can tell a
// failpoint exit from a failure.
const ExitCode = 97

// FromEnv returns the hook MCPCTL_FAILPOINT asks for, or nil when it is
// unset: calling the hook with a step marks that the process reached it,
// and the configured hit of the named step exits the process.
func FromEnv(getenv func(string) string) func(step string) {
	if getenv == nil {
		return nil
	}
	name, nth, ok := parse(getenv("MCPCTL_FAILPOINT"))
	if !ok {
		return nil
	}
	return New(name, nth, os.Stderr, os.Exit)
}

// New returns a hook that calls exit(ExitCode), after a line on w, at the
// nth call with step name (counting from 1).
func New(name string, nth int64, w io.Writer, exit func(int)) func(step string) {
	var count atomic.Int64
	return func(step string) {
		if step != name {
			return
		}
		if count.Add(1) == nth {
			io.WriteString(w, "mcpctl: failpoint "+step+" reached, exiting\n")
			exit(ExitCode)
		}
	}
}

// parse reads "step" or "step:N".
func parse(v string) (name string, nth int64, ok bool) {
	if v == "" {
		return "", 0, false
	}
	name, nth = v, 1
	if i := strings.LastIndexByte(v, ':'); i > 0 {
		if n, err := strconv.ParseInt(v[i+1:], 10, 64); err == nil && n > 0 {
			name, nth = v[:i], n
		}
	}
	return name, nth, true
}
