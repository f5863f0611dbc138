package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// Figures, in table order.
const (
	figCreate      = "apply: create N secrets (plaintext)"
	figCreateKV    = "apply: create N secrets (openbao)"
	figPlanCreated = "plan, no changes after create (openbao)"
	figPlanPlain   = "plan, no changes (plaintext)"
	figPlanMigrate = "plan, every secret migrates"
	figMigrateTo   = "apply: migrate plaintext → openbao"
	figPlanBao     = "plan, no changes (openbao)"
	figDrift       = "drift (openbao)"
	figMigrateBack = "apply: migrate openbao → plaintext"
)

var figureOrder = []string{figCreate, figCreateKV, figPlanCreated, figPlanPlain, figPlanMigrate, figMigrateTo, figPlanBao, figDrift, figMigrateBack}

// figure is one row of the table.
type figure struct {
	name      string
	n         int
	mcpctl    time.Duration
	mcpctlCPU time.Duration // user + system of the mcpctl process
	rssKB     int64
	baseline  time.Duration // 0: none
	baseCPU   time.Duration // user + system of the baseline client
	baseName  string
}

func (f figure) ratio() float64 {
	if f.baseline <= 0 {
		return 0
	}
	return f.mcpctl.Seconds() / f.baseline.Seconds()
}

type results struct {
	env     []string
	figs    []figure
	bulk    *bool
	profile []string // pprof -top lines
	elapsed time.Duration
}

func (r *results) add(f figure) { r.figs = append(r.figs, f) }

func (r *results) firstN() int {
	if len(r.figs) == 0 {
		return 0
	}
	return r.figs[0].n
}

func (r *results) get(name string, n int) (figure, bool) {
	for _, f := range r.figs {
		if f.name == name && f.n == n {
			return f, true
		}
	}
	return figure{}, false
}

// ordered returns the figures grouped by figure, then N.
func (r *results) ordered() []figure {
	var out []figure
	for _, name := range figureOrder {
		for _, f := range r.figs {
			if f.name == name {
				out = append(out, f)
			}
		}
	}
	return out
}

func (r *results) ns() []int {
	var ns []int
	seen := map[int]bool{}
	for _, f := range r.figs {
		if !seen[f.n] {
			seen[f.n] = true
			ns = append(ns, f.n)
		}
	}
	return ns
}

// row is a figure's cells.
func (f figure) row() []string {
	base, ratio, baseCPU := "—", "—", "—"
	if f.baseline > 0 {
		base = fmtDur(f.baseline)
		ratio = fmt.Sprintf("%.2f×", f.ratio())
		baseCPU = fmtDur(f.baseCPU)
	}
	return []string{f.name, fmt.Sprint(f.n), fmtDur(f.mcpctl), fmtRSS(f.rssKB), base, ratio, fmtDur(f.mcpctlCPU), baseCPU}
}

// The last two columns say how much of the 2 shared cores each client
// took from the servers it was waiting on.
var header = []string{"figure", "N", "mcpctl time", "peak RSS", "baseline time", "ratio", "mcpctl CPU", "baseline CPU"}

// check is one target of the performance issue.
type check struct {
	what, measured string
	ok             *bool // nil: not measurable here
}

func (r *results) checks() []check {
	var out []check
	ns := r.ns()
	yes := func(b bool) *bool { return &b }
	if f, ok := r.get(figPlanBao, 10000); ok {
		out = append(out, check{"plan (no changes), 10,000 openbao secrets, single reads: ≤ 1.3× raw metadata baseline",
			fmt.Sprintf("%.2f×", f.ratio()), yes(f.ratio() <= 1.3)})
	}
	if f, ok := r.get(figPlanCreated, 10000); ok && (r.bulk == nil || !*r.bulk) {
		out = append(out, check{"plan (no changes) right after create, 10,000 openbao secrets, single reads: ≤ 1.3× raw metadata baseline",
			fmt.Sprintf("%.2f×", f.ratio()), yes(f.ratio() <= 1.3)})
	}
	bulk := "not measurable: this server (Vault) has no detailed-metadata LIST; run with -vault-addr pointing at OpenBao"
	if r.bulk != nil && *r.bulk {
		bulk = "this server serves detailed-metadata LIST, so the openbao plan figure above is the bulk path"
		if f, ok := r.get(figPlanBao, 10000); ok {
			out = append(out, check{"plan (no changes), 10,000 openbao secrets, bulk listing: < 0.5× raw metadata baseline",
				fmt.Sprintf("%.2f×", f.ratio()), yes(f.ratio() < 0.5)})
		}
	} else {
		out = append(out, check{"plan (no changes), bulk detailed-metadata listing (OpenBao): < 0.5× raw metadata baseline", bulk, nil})
	}
	if f, ok := r.get(figCreateKV, 10000); ok {
		out = append(out, check{figCreateKV + ", 10,000 secrets: ≤ 2× raw create baseline",
			fmt.Sprintf("%.2f×", f.ratio()), yes(f.ratio() <= 2)})
	}
	for _, name := range []string{figMigrateTo, figMigrateBack} {
		if f, ok := r.get(name, 10000); ok {
			out = append(out, check{name + ", 10,000 secrets: ≤ 1.5× raw migration baseline (issue 8; issue 13: < 2×)",
				fmt.Sprintf("%.2f×", f.ratio()), yes(f.ratio() <= 1.5)})
		}
	}
	// Linear growth between every two N of the run that are 10× apart.
	for _, small := range ns {
		for _, name := range figureOrder {
			a, okA := r.get(name, small)
			b, okB := r.get(name, 10*small)
			if !okA || !okB {
				continue
			}
			g := b.mcpctl.Seconds() / a.mcpctl.Seconds()
			// The servers need not scale linearly themselves; their own
			// growth, measured alongside, tells mcpctl's part from theirs.
			measured := fmt.Sprintf("%.1f×", g)
			if a.baseline > 0 && b.baseline > 0 {
				measured += fmt.Sprintf(" (baseline %.1f×)", b.baseline.Seconds()/a.baseline.Seconds())
			}
			out = append(out, check{fmt.Sprintf("%s: time %s / %s ≤ 11× (linear)", name, fmtN(10*small), fmtN(small)), measured, yes(g <= 11)})
		}
	}
	// Peak RSS: 150 MB at 10,000 secrets (issue 8), 250 MB at 100,000
	// (issue 13).
	for _, lim := range []struct {
		n, mb int
	}{{10000, 150}, {100000, 250}} {
		var worst figure
		for _, f := range r.figs {
			if f.n == lim.n && f.rssKB > worst.rssKB {
				worst = f
			}
		}
		if worst.rssKB > 0 {
			out = append(out, check{fmt.Sprintf("peak RSS ≤ %d MB at %s secrets (largest of every mcpctl process)", lim.mb, fmtN(lim.n)),
				fmt.Sprintf("%s (%s)", fmtRSS(worst.rssKB), worst.name), yes(worst.rssKB <= int64(lim.mb)*1000*1000/1024)})
		}
	}
	return out
}

func (c check) verdict() string {
	switch {
	case c.ok == nil:
		return "n/a"
	case *c.ok:
		return "met"
	}
	return "MISSED"
}

func (r *results) writeText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, f := range r.ordered() {
		fmt.Fprintln(tw, strings.Join(f.row(), "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nBaselines (same backend work by a minimal client, same run):")
	for _, l := range r.baselines() {
		fmt.Fprintln(w, "  "+l)
	}
	fmt.Fprintln(w, "\nTargets (issues 8 and 13):")
	for _, c := range r.checks() {
		fmt.Fprintf(w, "  [%s] %s: %s\n", c.verdict(), c.what, c.measured)
	}
	fmt.Fprintln(w, "\nEnvironment:")
	for _, e := range r.env {
		fmt.Fprintln(w, "  "+e)
	}
	fmt.Fprintf(w, "  bench wall time: %s\n", r.elapsed.Round(time.Second))
	if len(r.profile) > 0 {
		fmt.Fprintln(w, "\nCPU profile of plan (no changes, openbao), go tool pprof -top:")
		for _, l := range r.profile {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

func (r *results) writeMarkdown(w io.Writer) {
	fmt.Fprintf(w, "# mcpctl benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat(" --- |", len(header)))
	for _, f := range r.ordered() {
		fmt.Fprintln(w, "| "+strings.Join(f.row(), " | ")+" |")
	}
	fmt.Fprint(w, "\nBaselines (the same backend work by a minimal client, measured in the same run):\n\n")
	for _, l := range r.baselines() {
		fmt.Fprintln(w, "- "+l)
	}
	fmt.Fprint(w, "\n## Targets (issues 8 and 13)\n\n")
	for _, c := range r.checks() {
		fmt.Fprintf(w, "- **%s** %s: %s\n", c.verdict(), c.what, c.measured)
	}
	fmt.Fprint(w, "\n## Environment\n\n")
	for _, e := range r.env {
		fmt.Fprintln(w, "- "+e)
	}
	fmt.Fprintf(w, "- bench wall time: %s\n", r.elapsed.Round(time.Second))
	if len(r.profile) > 0 {
		fmt.Fprintln(w, "\n## CPU profile of plan (no changes, openbao)\n\n```")
		for _, l := range r.profile {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w, "```")
	}
}

// baselines says what each figure's baseline did.
func (r *results) baselines() []string {
	var out []string
	for _, name := range figureOrder {
		for _, f := range r.figs {
			if f.name == name && f.baseName != "" {
				out = append(out, name+": "+f.baseName)
				break
			}
		}
	}
	return out
}

// describeEnv records what the figures were measured on.
func describeEnv(ctx context.Context, srv *servers) []string {
	out := []string{fmt.Sprintf("%s/%s, %d CPUs, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())}
	if h, err := srv.vault.Sys().HealthWithContext(ctx); err == nil {
		storage := "external server"
		if srv.private {
			storage = "private server, file storage"
		}
		out = append(out, fmt.Sprintf("Vault %s at %s (%s)", h.Version, srv.vaultAddr, storage))
	}
	if c, err := pgx.Connect(ctx, srv.pgURL); err == nil {
		var v string
		if c.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
			out = append(out, "PostgreSQL "+v)
		}
		c.Close(ctx)
	}
	out = append(out,
		"read-only figures: median of the runs (-runs), interleaved with their baseline; peak RSS is the largest of the runs",
		"plan baselines use plan.DefaultParallelism concurrent requests; migrations use apply's --parallelism 8")
	return out
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// fmtN writes a secret count as the targets do: 1k, 10k, 100k.
func fmtN(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

func fmtRSS(kb int64) string {
	if kb <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MB", float64(kb)*1024/1e6)
}
