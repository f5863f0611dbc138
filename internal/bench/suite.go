package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpctl/mcpctl/pkg/plan"
)

// applyParallelism is apply's default --parallelism (DESIGN §6), passed
// explicitly so the figure and its baseline cannot drift apart.
const applyParallelism = 8

// benchN runs every figure at one N, in an order where each step leaves
// the state the next one measures: create on plaintext, plan (no change),
// plan (all migrate), migrate to openbao, plan (no change), drift, migrate
// back.
type benchN struct {
	cfg     config
	srv     *servers
	bin     string
	goBin   string
	tmp     string
	n       int
	res     *results
	profile bool

	schema, rawSchema string
	mount             string
	plainDir, baoDir  string
	m                 *mcpctl
	kv                *kvClient
}

// scaleOnly is the N from which only the scale figures run (creates and
// no-change plans on both backends): the migrations and drift would add
// tens of minutes at 100,000 secrets and measure nothing the 10,000 run
// does not.
const scaleOnly = 50_000

func (b *benchN) run(ctx context.Context) error {
	var err error
	if err := b.createOnKV(ctx); err != nil {
		return err
	}
	if b.mount, err = b.srv.newMount(ctx); err != nil {
		return err
	}
	b.schema = b.srv.newSchema("bench")
	b.rawSchema = b.srv.newSchema("bench_raw")
	dir := filepath.Join(b.tmp, "n"+strconv.Itoa(b.n))
	b.plainDir, b.baoDir = filepath.Join(dir, "plain"), filepath.Join(dir, "bao")
	if err := writeManifests(b.plainDir, b.srv.vaultAddr, b.mount, "", b.n); err != nil {
		return err
	}
	if err := writeManifests(b.baoDir, b.srv.vaultAddr, b.mount, "bao", b.n); err != nil {
		return err
	}
	if b.n == b.res.firstN() || b.res.bulk == nil {
		bulk := b.srv.bulkListing(ctx, b.mount)
		b.res.bulk = &bulk
	}
	b.m = newMcpctl(b.bin, b.srv.pgURL, b.schema, b.srv.vaultToken)
	// The baseline client's pool is sized to plan's Stat concurrency, as
	// the openbao driver's is.
	b.kv = newKVClient(b.srv.vaultAddr, b.srv.vaultToken, b.mount, plan.DefaultParallelism)
	defer b.kv.close()

	// Seed: mcpctl itself creates the N secrets on the plaintext backend,
	// which is also a figure.
	b.step("apply: create N secrets on plaintext")
	r, err := b.m.run(ctx, b.profileEnv(figCreate, 0), []int{0}, b.applyArgs(b.plainDir)...)
	if err != nil {
		return err
	}
	if err := b.expectPlaced(b.schema, "default", b.n+1); err != nil {
		return err
	}
	b.record(figure{name: figCreate, mcpctl: r.wall, mcpctlCPU: r.cpu, rssKB: r.maxRSSKB})

	if err := b.measureRead(ctx, b.m, figPlanPlain, "connect + the two bulk SELECTs of plan (backends; secrets without data), pgx", 0,
		func() (time.Duration, error) {
			d, _, err := sqlBulkRead(ctx, b.srv.pgURL, b.schema)
			return d, err
		}, "plan", "-f", b.plainDir, "--detailed-exitcode"); err != nil {
		return err
	}
	if b.n >= scaleOnly {
		return nil
	}
	if err := b.measureRead(ctx, b.m, figPlanMigrate, fmt.Sprintf("N metadata GETs of the (absent) destination objects, %d concurrent, keep-alive net/http", plan.DefaultParallelism), 2,
		func() (time.Duration, error) {
			return metadataGETs(ctx, b.kv, "mcpctl", b.n, plan.DefaultParallelism, false)
		}, "plan", "-f", b.baoDir, "--detailed-exitcode"); err != nil {
		return err
	}

	raw, err := newRawMigration(ctx, b.srv.pgURL, b.rawSchema, newKVClient(b.srv.vaultAddr, b.srv.vaultToken, b.mount, applyParallelism), "raw", b.n, applyParallelism)
	if err != nil {
		return err
	}
	defer raw.close()
	defer raw.kv.close()
	if err := b.measureMigration(ctx, figMigrateTo, raw.toKV, b.baoDir, "bao", b.n,
		fmt.Sprintf("per secret SELECT row + KV write (cas=0) + KV read-back and compare + UPDATE row data = NULL, %d concurrent", applyParallelism)); err != nil {
		return err
	}

	metaGETs := func() (time.Duration, error) {
		return metadataGETs(ctx, b.kv, "mcpctl", b.n, plan.DefaultParallelism, true)
	}
	metaName := fmt.Sprintf("N metadata GETs, %d concurrent, keep-alive net/http", plan.DefaultParallelism)
	if err := b.measureRead(ctx, b.m, figPlanBao, metaName, 0, metaGETs,
		"plan", "-f", b.baoDir, "--detailed-exitcode"); err != nil {
		return err
	}
	if err := b.measureRead(ctx, b.m, figDrift, metaName, 0, metaGETs,
		"drift", "-f", b.baoDir); err != nil {
		return err
	}
	if b.profile {
		if err := b.cpuProfile(ctx); err != nil {
			return err
		}
	}

	return b.measureMigration(ctx, figMigrateBack, raw.fromKV, b.plainDir, "default", b.n+1,
		fmt.Sprintf("per secret KV read + UPDATE row data + SELECT read-back and compare + KV soft delete, %d concurrent", applyParallelism))
}

// createOnKV measures apply creating the N secrets directly on the openbao
// backend (a fresh mount and schema of their own), next to the raw writes
// a new owned KV v2 object needs, and then the no-change plan over them.
func (b *benchN) createOnKV(ctx context.Context) error {
	mount, err := b.srv.newMount(ctx)
	if err != nil {
		return err
	}
	schema := b.srv.newSchema("bench_kv")
	dir := filepath.Join(b.tmp, "n"+strconv.Itoa(b.n), "kv")
	if err := writeManifests(dir, b.srv.vaultAddr, mount, "bao", b.n); err != nil {
		return err
	}
	m := newMcpctl(b.bin, b.srv.pgURL, schema, b.srv.vaultToken)
	kv := newKVClient(b.srv.vaultAddr, b.srv.vaultToken, mount, plan.DefaultParallelism)
	defer kv.close()
	raw := func(ctx context.Context, lo, hi int) (time.Duration, error) {
		return rawCreate(ctx, kv, "raw-create", lo, hi, applyParallelism)
	}
	if err := b.measureApply(ctx, m, figCreateKV, raw, dir, schema, "bao", b.n,
		fmt.Sprintf("per secret a metadata write claiming the object + the data write (cas=0), %d concurrent, keep-alive net/http", applyParallelism)); err != nil {
		return err
	}
	return b.measureRead(ctx, m, figPlanCreated, fmt.Sprintf("N metadata GETs, %d concurrent, keep-alive net/http", plan.DefaultParallelism), 0,
		func() (time.Duration, error) {
			return metadataGETs(ctx, kv, "mcpctl", b.n, plan.DefaultParallelism, true)
		}, "plan", "-f", dir, "--detailed-exitcode")
}

func (b *benchN) applyArgs(dir string) []string {
	return []string{"apply", "-f", dir, "--auto-approve", "--parallelism", strconv.Itoa(applyParallelism)}
}

func (b *benchN) step(what string) { progress("[N=%d] %s", b.n, what) }

func (b *benchN) record(f figure) {
	f.n = b.n
	b.res.add(f)
	msg := fmt.Sprintf("[N=%d] %s: mcpctl %s (CPU %s), peak RSS %s", b.n, f.name, fmtDur(f.mcpctl), fmtDur(f.mcpctlCPU), fmtRSS(f.rssKB))
	if f.baseline > 0 {
		msg += fmt.Sprintf(", baseline %s (CPU %s), ratio %.2f×", fmtDur(f.baseline), fmtDur(f.baseCPU), f.ratio())
	}
	progress("%s", msg)
}

// measureRead times a read-only figure and its baseline cfg.runs times
// each, interleaved so both see the same machine, and records the medians
// (and the highest peak RSS).
func (b *benchN) measureRead(ctx context.Context, m *mcpctl, name, baseName string, wantExit int, baseline func() (time.Duration, error), args ...string) error {
	var mc, mcCPU, bl, blCPU []time.Duration
	var rss int64
	for i := range b.cfg.runs {
		b.step(fmt.Sprintf("%s (run %d/%d)", name, i+1, b.cfg.runs))
		cpu0 := selfCPU()
		d, err := baseline()
		if err != nil {
			return fmt.Errorf("%s baseline: %w", name, err)
		}
		bl, blCPU = append(bl, d), append(blCPU, selfCPU()-cpu0)
		r, err := m.run(ctx, b.profileEnv(name, i), []int{wantExit}, args...)
		if err != nil {
			return err
		}
		mc, mcCPU = append(mc, r.wall), append(mcCPU, r.cpu)
		rss = max(rss, r.maxRSSKB)
	}
	b.record(figure{name: name, mcpctl: median(mc), mcpctlCPU: median(mcCPU), rssKB: rss,
		baseline: median(bl), baseCPU: median(blCPU), baseName: baseName})
	return nil
}

// measureMigration times mcpctl apply migrating every secret (see
// measureApply).
func (b *benchN) measureMigration(ctx context.Context, name string, baseline func(ctx context.Context, lo, hi int) (time.Duration, error), dir, to string, rows int, baseName string) error {
	return b.measureApply(ctx, b.m, name, baseline, dir, b.schema, to, rows, baseName)
}

// measureApply times one mcpctl apply of dir, and checks that rows secrets
// of schema ended up on backend to. Its baseline does half the raw work
// just before and half just after, so both see the same machine even when
// its load changes during the minute each takes.
func (b *benchN) measureApply(ctx context.Context, m *mcpctl, name string, baseline func(ctx context.Context, lo, hi int) (time.Duration, error), dir, schema, to string, rows int, baseName string) error {
	half := b.n / 2
	b.step(name + " (baseline, first half)")
	cpu0 := selfCPU()
	bl1, err := baseline(ctx, 0, half)
	if err != nil {
		return fmt.Errorf("%s baseline: %w", name, err)
	}
	blCPU := selfCPU() - cpu0
	b.step(name)
	r, err := m.run(ctx, b.profileEnv(name, 0), []int{0}, b.applyArgs(dir)...)
	if err != nil {
		return err
	}
	if err := b.expectPlaced(schema, to, rows); err != nil {
		return err
	}
	b.step(name + " (baseline, second half)")
	cpu0 = selfCPU()
	bl2, err := baseline(ctx, half, b.n)
	if err != nil {
		return fmt.Errorf("%s baseline: %w", name, err)
	}
	blCPU += selfCPU() - cpu0
	b.record(figure{name: name, mcpctl: r.wall, mcpctlCPU: r.cpu, rssKB: r.maxRSSKB, baseline: bl1 + bl2, baseCPU: blCPU,
		baseName: baseName})
	return nil
}

// profileEnv makes one measured mcpctl process write its CPU profile into
// the -cpuprofile folder, named after the figure, N and run.
func (b *benchN) profileEnv(figure string, run int) []string {
	if b.cfg.profileAll == "" {
		return nil
	}
	slug := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(figure))
	for strings.Contains(slug, "--") {
		slug = strings.ReplaceAll(slug, "--", "-")
	}
	return []string{fmt.Sprintf("%s=%s/%s-%d-run%d.pprof", profileEnv, b.cfg.profileAll, strings.Trim(slug, "-"), b.n, run+1)}
}

// expectPlaced checks that want secrets of schema are on backend, so a
// figure never comes from a run that quietly did less than asked.
func (b *benchN) expectPlaced(schema, backend string, want int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, b.srv.pgURL)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	s := pgx.Identifier{schema}.Sanitize()
	var got int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM `+s+`.secrets x JOIN `+s+`.backends y ON y.id = x.backend_id WHERE y.name = $1`, backend).Scan(&got); err != nil {
		return fmt.Errorf("count secrets on %s: %w", backend, err)
	}
	if got != want {
		return fmt.Errorf("after apply, %d secrets are on backend %s, want %d", got, backend, want)
	}
	return nil
}

// selfCPU is the user + system time this process has used; the baselines
// run in it, with nothing else going on.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
