// Command bench measures mcpctl's plan, apply, migration and drift against
// the real Postgres and Vault of internal/testenv, at 1,000 and 10,000
// secrets, next to a raw baseline measured in the same run: the same backend
// work done by a minimal client. Each mcpctl figure is a separate process of
// one binary built up front, timed wall-clock with its peak RSS.
//
//	go run ./internal/bench [-n 1000,10000] [-quick] [-out FILE] [-cpuprofile-plan DIR]
//
// `make bench` runs it; docs/benchmarks.md explains the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// config is the command line.
type config struct {
	ns          []int
	runs        int
	out         string
	cpuprofile  string
	profileAll  string
	databaseURL string
	vaultAddr   string
	vaultToken  string
	keep        bool
}

func parseFlags(args []string) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	nList := fs.String("n", "1000,10000", "comma-separated secret counts to benchmark; from 50000 on only the create and no-change plan figures run (e.g. -n 10000,100000)")
	quick := fs.Bool("quick", false, "only N=1000 (overrides -n)")
	fs.IntVar(&cfg.runs, "runs", 5, "runs of each read-only figure (plan, drift) and its baseline; the median is reported")
	fs.StringVar(&cfg.out, "out", "", "also write the results as markdown to this file")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile-plan", "", "write a CPU profile of mcpctl's plan over the largest N openbao secrets into this folder and print its top entries")
	fs.StringVar(&cfg.profileAll, "cpuprofile", "", "every measured mcpctl process writes its CPU profile into this folder (FIGURE-N-runK.pprof); profiling slows them a little, so do not publish those figures")
	fs.StringVar(&cfg.databaseURL, "database-url", os.Getenv("MCPCTL_TEST_DATABASE_URL"), "Postgres to use (default: 127.0.0.1:5432, else a throwaway cluster)")
	fs.StringVar(&cfg.vaultAddr, "vault-addr", "", "use this Vault/OpenBao server instead of a private Vault (e.g. OpenBao, to measure bulk listing)")
	fs.StringVar(&cfg.vaultToken, "vault-token", os.Getenv("VAULT_TOKEN"), "token for -vault-addr (needs to mount and unmount KV engines)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temp folder (manifests, binary, profiles) for inspection")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		*nList = "1000"
	}
	for f := range strings.SplitSeq(*nList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1_000_000 {
			return cfg, fmt.Errorf("-n %q: want counts between 1 and 1000000, such as 1000,10000", *nList)
		}
		cfg.ns = append(cfg.ns, n)
	}
	slices.Sort(cfg.ns)
	cfg.ns = slices.Compact(cfg.ns)
	if cfg.profileAll != "" {
		abs, err := filepath.Abs(cfg.profileAll)
		if err != nil {
			return cfg, err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return cfg, err
		}
		cfg.profileAll = abs
	}
	if cfg.runs < 1 {
		return cfg, errors.New("-runs must be at least 1")
	}
	return cfg, nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) (err error) {
	began := time.Now()
	repo, err := repoRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "mcpctl-bench-")
	if err != nil {
		return err
	}
	defer func() {
		if cfg.keep {
			progress("kept %s", tmp)
			return
		}
		_ = os.RemoveAll(tmp)
	}()

	bin := filepath.Join(tmp, "mcpctl")
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	progress("building mcpctl")
	if err := testenv.BuildMcpctl(ctx, goBin, repo, bin); err != nil {
		return err
	}
	progress("starting Postgres and Vault")
	srv, err := startServers(ctx, cfg, tmp)
	if err != nil {
		return err
	}
	defer srv.close()

	probe := newMcpctl(bin, srv.pgURL, "unused", "")
	for _, c := range []string{"plan", "apply", "drift"} {
		if !probe.hasCommand(ctx, c) {
			return fmt.Errorf("this mcpctl has no %q command; the bench measures plan, apply and drift", c)
		}
	}
	res := &results{env: describeEnv(ctx, srv)}
	// The fixed cost every figure includes: exec, Go runtime start, cobra.
	start, err := probe.run(ctx, nil, []int{0}, "version")
	if err != nil {
		return err
	}
	res.env = append(res.env, fmt.Sprintf("process start alone (mcpctl version): %s, peak RSS %s", fmtDur(start.wall), fmtRSS(start.maxRSSKB)))
	for _, n := range cfg.ns {
		b := &benchN{cfg: cfg, srv: srv, bin: bin, goBin: goBin, tmp: tmp, n: n, res: res,
			profile: cfg.cpuprofile != "" && n == cfg.ns[len(cfg.ns)-1]}
		if err := b.run(ctx); err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
	}
	res.elapsed = time.Since(began)

	fmt.Println()
	res.writeText(os.Stdout)
	if cfg.out != "" {
		f, err := os.Create(cfg.out)
		if err != nil {
			return err
		}
		res.writeMarkdown(f)
		if err := f.Close(); err != nil {
			return err
		}
		progress("wrote %s", cfg.out)
	}
	return nil
}

// progress prints a line on stderr, so stdout carries only the results.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
