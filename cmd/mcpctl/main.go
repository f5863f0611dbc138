// Command mcpctl is GitOps for secret storage. See `mcpctl --help`.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/mcpctl/mcpctl/internal/cli"

	// Backend drivers register themselves, as database/sql drivers do.
	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/plaintext"
)

func main() {
	os.Exit(run())
}

func run() int {
	startSoftMemoryLimit()
	// MCPCTL_CPUPROFILE=FILE writes a CPU profile of the whole run, for
	// `make bench -cpuprofile-plan` and for users reporting a slow plan.
	if path := os.Getenv("MCPCTL_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "MCPCTL_CPUPROFILE: %v\n", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "MCPCTL_CPUPROFILE: %v\n", err)
			f.Close()
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	// MCPCTL_MEMPROFILE=FILE writes a heap profile taken at the run's peak
	// live heap (see memprofile.go).
	if path := os.Getenv("MCPCTL_MEMPROFILE"); path != "" {
		p, err := startMemProfile(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "MCPCTL_MEMPROFILE: %v\n", err)
			return 1
		}
		defer p.Stop()
	}
	return cli.Main()
}
