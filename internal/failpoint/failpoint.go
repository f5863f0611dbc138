// Package failpoint lets crash tests kill a real mcpctl process at a named
// step. It is compiled into the binary but inert unless MCPCTL_FAILPOINT is
// set, so the tested binary is the shipped binary.
//
//	MCPCTL_FAILPOINT=migrate.after-write       exit at the first hit
//	MCPCTL_FAILPOINT=migrate.after-write:17    exit at the 17th hit
//
// The process exits immediately with ExitCode, without running deferred
// functions or releasing anything, as a kill would.
package failpoint

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ExitCode is the status a failpoint exits with, so tests can tell a
// failpoint exit from a failure.
const ExitCode = 97

var (
	once  sync.Once
	name  string
	nth   int64
	count atomic.Int64
)

func load() {
	v := os.Getenv("MCPCTL_FAILPOINT")
	if v == "" {
		return
	}
	name, nth = v, 1
	if i := strings.LastIndexByte(v, ':'); i > 0 {
		if n, err := strconv.ParseInt(v[i+1:], 10, 64); err == nil && n > 0 {
			name, nth = v[:i], n
		}
	}
}

// Hit marks that the process reached step. If MCPCTL_FAILPOINT names it (and
// this is the configured hit), the process exits at once.
func Hit(step string) {
	once.Do(load)
	if name == "" || step != name {
		return
	}
	if count.Add(1) == nth {
		os.Stderr.WriteString("mcpctl: failpoint " + step + " reached, exiting\n")
		os.Exit(ExitCode)
	}
}
