package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// profileEnv makes mcpctl write a CPU profile of its whole run to the named
// file (cmd/mcpctl).
const profileEnv = "MCPCTL_CPUPROFILE"

// topLines is how much of `go tool pprof -top` the report carries.
const topLines = 15

// cpuProfile runs plan over the N openbao secrets once more with profiling
// on (not one of the timed runs: profiling costs a little), keeps the
// profile in the -cpuprofile-plan folder and records the top entries.
func (b *benchN) cpuProfile(ctx context.Context) error {
	dir := b.cfg.cpuprofile
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	prof, err := filepath.Abs(filepath.Join(dir, fmt.Sprintf("plan-openbao-%d.pprof", b.n)))
	if err != nil {
		return err
	}
	_ = os.Remove(prof)
	b.step("plan, no changes (openbao) with " + profileEnv)
	if _, err := b.m.run(ctx, []string{profileEnv + "=" + prof}, []int{0}, "plan", "-f", b.baoDir, "--detailed-exitcode"); err != nil {
		return err
	}
	if _, err := os.Stat(prof); err != nil {
		return fmt.Errorf("mcpctl wrote no CPU profile (does cmd/mcpctl honour %s?): %w", profileEnv, err)
	}
	// Keep the binary next to the profile so it can be explored later.
	bin := filepath.Join(dir, "mcpctl")
	if data, err := os.ReadFile(b.bin); err == nil {
		_ = os.WriteFile(bin, data, 0o755)
	}
	b.res.profile = nil
	for _, sortBy := range []string{"flat", "cum"} {
		args := []string{"tool", "pprof", "-top"}
		if sortBy == "cum" {
			args = append(args, "-cum")
		}
		out, err := exec.CommandContext(ctx, b.goBin, append(args, bin, prof)...).Output()
		if err != nil {
			return fmt.Errorf("go tool pprof -top %s: %w", prof, err)
		}
		_ = os.WriteFile(strings.TrimSuffix(prof, ".pprof")+".top-"+sortBy+".txt", out, 0o644)
		b.res.profile = append(b.res.profile, topEntries(string(out), sortBy)...)
	}
	b.res.profile = append(b.res.profile, "(profile: "+prof+"; explore with go tool pprof -http=: "+bin+" "+prof+")")
	fmt.Fprintln(os.Stderr, strings.Join(b.res.profile, "\n"))
	return nil
}

// topEntries keeps the Duration line and the first topLines entries of
// `go tool pprof -top`, with its column header.
func topEntries(out, sortBy string) []string {
	var keep []string
	entries := -1
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		switch {
		case strings.HasPrefix(strings.TrimSpace(l), "Duration:"):
			keep = append(keep, strings.TrimSpace(l)+" (sorted by "+sortBy+")")
		case strings.Contains(l, "flat%") && strings.Contains(l, "cum%"):
			keep = append(keep, l)
			entries = 0
		case entries >= 0 && entries < topLines:
			keep = append(keep, l)
			entries++
		}
	}
	return keep
}
