package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// outageProxy forwards to the real Vault until down is set, then answers
// every request with 503, as a Vault that went away behind a load balancer.
type outageProxy struct {
	down     atomic.Bool
	delay    time.Duration
	requests atomic.Int64
	srv      *http.Server
	addr     string
}

func startOutageProxy(t *testing.T, target string) *outageProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		if p.delay > 0 {
			time.Sleep(p.delay)
		}
		if p.down.Load() {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"errors":["injected outage"]}`, http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	})
	ln := listenLocal(t)
	p.srv = &http.Server{Handler: mux}
	go p.srv.Serve(ln)
	t.Cleanup(func() { p.srv.Close() })
	p.addr = "http://" + ln.Addr().String()
	return p
}

// TestVaultOutageMidApplyConverges: Vault stops answering in the middle of
// a 200-secret migration; apply ends with a clear error (exit 1), every
// secret stays readable from its recorded backend, and once Vault is back
// a rerun converges with nothing lost.
func TestVaultOutageMidApplyConverges(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	proxy := startOutageProxy(t, w.vault.Addr)
	w.vaultURL = proxy.addr
	s := w.seed(crashSecrets, "default")
	w.write("secrets.yaml", w.secretsYAML(crashSecrets, "bao"))

	ctx := context.Background()
	cmd, out := w.startApply()
	// Take Vault away once the migration is under way.
	start := proxy.requests.Load()
	deadline := time.Now().Add(30 * time.Second)
	for proxy.requests.Load() < start+150 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	proxy.down.Store(true)
	err := cmd.Wait()
	if code := testenv.ExitCode(err); code != 1 {
		t.Fatalf("apply during an outage: exit %d, want 1\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "503") && !strings.Contains(strings.ToLower(out.String()), "unavailable") {
		t.Errorf("the error does not say the backend was unavailable:\n%s", tail(out.String(), 2000))
	}
	proxy.down.Store(false)
	w.checkReadable(s, crashSecrets, "after the outage")
	w.converge(ctx)
	w.checkReadable(s, crashSecrets, "after convergence")
	w.checkSettled(s, crashSecrets, "bao")
}

// TestPostgresSessionsTerminatedMidApplyConverges terminates apply's
// Postgres sessions (pg_terminate_backend) in the middle of a migration.
func TestPostgresSessionsTerminatedMidApplyConverges(t *testing.T) {
	t.Parallel()
	w, s := seededWorld(t, crashSecrets, "default")
	w.write("secrets.yaml", w.secretsYAML(crashSecrets, "bao"))
	ctx := context.Background()
	app := "mcpctl-fault-" + w.schema
	cmd, out := w.startApply("MCPCTL_DATABASE_URL=" + withAppName(w.url, app))
	// Wait until the migration has flipped some rows, then cut every session.
	conn := w.connectWhenFlipped(20)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	code := testenv.ExitCode(cmd.Wait())
	t.Logf("terminated %d sessions; apply exit %d", killed, code)
	if killed > 0 && code != 1 {
		t.Errorf("apply whose sessions were terminated: exit %d, want 1\n%s", code, tail(out.String(), 2000))
	}
	if code != 0 && code != 1 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	w.checkReadable(s, crashSecrets, "after the sessions were terminated")
	w.converge(ctx)
	w.checkReadable(s, crashSecrets, "after convergence")
	w.checkSettled(s, crashSecrets, "bao")
}

// TestLockSessionTerminatedMidApplyIsReported terminates only the session
// holding apply's schema lock in the middle of a migration. The other
// sessions keep working, so every action may complete, but the rest of the
// run was not serialised against other writers: apply must say so and
// exit 1 instead of reporting success.
func TestLockSessionTerminatedMidApplyIsReported(t *testing.T) {
	t.Parallel()
	w, s := seededWorld(t, crashSecrets, "default")
	w.write("secrets.yaml", w.secretsYAML(crashSecrets, "bao"))
	ctx := context.Background()
	cmd, out := w.startApply()
	conn := w.connectWhenFlipped(20)
	var killed bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend(backend_pid) FROM `+pgx.Identifier{w.schema, "lock_holder"}.Sanitize()).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the lock session: %v (terminated %v)", err, killed)
	}
	if code := testenv.ExitCode(cmd.Wait()); code != 1 {
		t.Fatalf("apply whose lock session was terminated: exit %d, want 1\n%s", code, tail(out.String(), 2000))
	}
	if !strings.Contains(out.String(), "the lock had been lost") || !strings.Contains(out.String(), "run `mcpctl plan` to check") {
		t.Errorf("the output does not say the lock was lost:\n%s", tail(out.String(), 2000))
	}
	w.checkReadable(s, crashSecrets, "after the lock session was terminated")
	w.converge(ctx)
	w.checkSettled(s, crashSecrets, "bao")
}

// TestConcurrentAppliesAreSerialised starts four applies of the same
// 1,000-secret migration together: the lock serialises them, exactly one
// migrates and the others find nothing to do, no secret is migrated twice,
// and the audit log has one entry per executed action.
func TestConcurrentAppliesAreSerialised(t *testing.T) {
	t.Parallel()
	const n, appliers = 1000, 4
	w, s := seededWorld(t, n, "default")
	w.write("secrets.yaml", w.secretsYAML(n, "bao"))
	ctx := context.Background()
	before, err := s.ListAudit(ctx, 100000)
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		out  bytes.Buffer
		code int
	}
	runs := make([]*run, appliers)
	done := make(chan struct{}, appliers)
	for i := range runs {
		r := &run{}
		runs[i] = r
		go func() {
			cmd := w.mcpctl(ctx, nil, "apply", "-f", w.dir, "--auto-approve", "--lock-timeout", "5m")
			cmd.Stdout, cmd.Stderr = &r.out, &r.out
			r.code = testenv.ExitCode(cmd.Run())
			done <- struct{}{}
		}()
	}
	for range runs {
		<-done
	}
	migrated, noop := 0, 0
	for i, r := range runs {
		if r.code != 0 {
			t.Fatalf("apply %d: exit %d\n%s", i, r.code, tail(r.out.String(), 3000))
		}
		switch {
		case strings.Contains(r.out.String(), "No changes."):
			noop++
		case strings.Contains(r.out.String(), fmt.Sprintf("%d migrated", n)):
			migrated++
		default:
			t.Errorf("apply %d did neither the migration nor nothing:\n%s", i, tail(r.out.String(), 2000))
		}
	}
	if migrated != 1 || noop != appliers-1 {
		t.Errorf("one apply should migrate and the others find nothing to do; got %d migrated, %d no-op", migrated, noop)
	}
	after, err := s.ListAudit(ctx, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(after) - len(before); got != n {
		t.Errorf("audit entries added = %d, want one per executed action (%d)", got, n)
	}
	journal, err := s.ListMigrations(ctx, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(journal) != n {
		t.Errorf("journal has %d moves, want %d (a secret migrated twice?)", len(journal), n)
	}
	w.checkReadable(s, n, "after all applies")
	w.checkSettled(s, n, "bao")
}

func withAppName(dsn, app string) string {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "application_name=" + url.QueryEscape(app)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// TestVaultRestartedMidApplyConverges kills the Vault server (a private
// one) in the middle of a migration and starts it again: apply either rides
// out the restart with its retries or ends with a clear error; a rerun
// converges and nothing is lost.
func TestVaultRestartedMidApplyConverges(t *testing.T) {
	t.Parallel()
	w := newWorldOn(t, testenv.PrivateVault(t))
	s := w.seed(crashSecrets, "default")
	w.write("secrets.yaml", w.secretsYAML(crashSecrets, "bao"))

	ctx := context.Background()
	cmd, out := w.startApply()
	w.connectWhenFlipped(20)
	w.vault.Restart(t)
	code := testenv.ExitCode(cmd.Wait())
	t.Logf("apply across a Vault restart: exit %d", code)
	if code != 0 && code != 1 {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	if code == 1 && !strings.Contains(out.String(), "bao") {
		t.Errorf("the error does not name the backend:\n%s", tail(out.String(), 2000))
	}
	w.checkReadable(s, crashSecrets, "after the restart")
	w.converge(ctx)
	w.checkReadable(s, crashSecrets, "after convergence")
	w.checkSettled(s, crashSecrets, "bao")
}

// TestSlowNetworkApplySucceeds puts 15 ms of latency on every Vault request:
// a slow network makes apply slower, not wrong.
func TestSlowNetworkApplySucceeds(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	proxy := startOutageProxy(t, w.vault.Addr)
	proxy.delay = 15 * time.Millisecond
	w.vaultURL = proxy.addr
	s := w.seed(50, "default")
	w.write("secrets.yaml", w.secretsYAML(50, "bao"))
	w.converge(context.Background())
	w.checkReadable(s, 50, "after a slow migration")
	w.checkSettled(s, 50, "bao")
}

// connectWhenFlipped opens a Postgres connection of the test's own (closed
// at the end of the test) once a running migration to bao has flipped n
// rows, for a fault to be injected mid-run.
func (w *world) connectWhenFlipped(n int) *pgx.Conn {
	w.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, w.url)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { conn.Close(ctx) })
	waitForFlips(w.t, conn, w.schema, n)
	return conn
}

func waitForFlips(t *testing.T, conn *pgx.Conn, schema string, n int) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var flipped int
		_ = conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "secrets"}.Sanitize()+` s JOIN `+
			pgx.Identifier{schema, "backends"}.Sanitize()+` b ON b.id = s.backend_id WHERE b.name = 'bao'`).Scan(&flipped)
		if flipped >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the migration did not get under way within a minute")
}
