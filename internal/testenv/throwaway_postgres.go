package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrDirUnreachable means the postgres OS user cannot write to the folder
// chosen for a cluster (typically a root-only home directory).
var ErrDirUnreachable = errors.New("the postgres OS user cannot write there")

// PostgresCluster is a private PostgreSQL server run from the installed
// binaries, for machines where no server answers (CI, fresh clones). Its
// fields are what scripts/devenv keeps on disk to find it again.
type PostgresCluster struct {
	Dir    string `json:"dir"` // holds data/, the unix socket and postgres.log
	BinDir string `json:"bin_dir"`
	Port   int    `json:"port"`
	PID    int    `json:"pid"`

	done chan struct{} // closed when our child exits; nil if started elsewhere
}

// ClusterOptions says where and how to run a PostgresCluster.
type ClusterOptions struct {
	Dir    string // required; created if missing, reused if it holds a cluster
	Port   int    // 0 picks a free port
	Detach bool   // outlive this process (scripts/devenv)
	// NoFsync trades durability for speed; right for test clusters that are
	// deleted at exit, wrong for a dev cluster kept between sessions.
	NoFsync bool
}

// URL is the connection string for the cluster's superuser.
func (c *PostgresCluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
}

func (c *PostgresCluster) dataDir() string { return filepath.Join(c.Dir, "data") }
func (c *PostgresCluster) logPath() string { return filepath.Join(c.Dir, "postgres.log") }

// StartPostgresCluster initialises (if needed) and starts a cluster in
// opts.Dir with trust authentication, listening on 127.0.0.1 only, and waits
// until it accepts connections.
func StartPostgresCluster(ctx context.Context, opts ClusterOptions) (*PostgresCluster, error) {
	bin, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	c := &PostgresCluster{Dir: opts.Dir, BinDir: bin, Port: opts.Port}
	if err := prepareClusterDir(c.Dir, cred); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err != nil {
		if err := c.initdb(ctx, cred); err != nil {
			return nil, err
		}
	}
	c.removeStalePIDFile()
	// The port is only reserved once the server binds it; retry if another
	// process took it in between.
	for attempt := 0; ; attempt++ {
		if c.Port == 0 || attempt > 0 {
			if c.Port, err = freePort(); err != nil {
				return nil, err
			}
		}
		err = c.start(ctx, opts, cred)
		if err == nil || attempt == 4 || !errors.Is(err, errPortTaken) {
			return c, err
		}
	}
}

var errPortTaken = errors.New("port already in use")

// removeStalePIDFile deletes postmaster.pid left by a killed server whose
// pid is now a zombie: postgres only asks whether the pid exists, and in a
// container whose init reaps late it does, so the server would refuse to
// start.
func (c *PostgresCluster) removeStalePIDFile() {
	path := filepath.Join(c.dataDir(), "postmaster.pid")
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && !pidAlive(pid) {
		_ = os.Remove(path)
	}
}

func (c *PostgresCluster) initdb(ctx context.Context, cred *syscall.Credential) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "initdb"),
		"-D", c.dataDir(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb %s: %w\n%s", c.dataDir(), err, out)
	}
	return nil
}

func (c *PostgresCluster) start(ctx context.Context, opts ClusterOptions, cred *syscall.Credential) error {
	logf, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("postgres log: %w", err)
	}
	defer logf.Close()
	if cred != nil {
		_ = logf.Chown(int(cred.Uid), int(cred.Gid))
	}
	logStart, _ := logf.Seek(0, 2)

	args := []string{"-D", c.dataDir(), "-p", strconv.Itoa(c.Port), "-k", c.Dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"}
	if opts.NoFsync {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// postgres itself, not pg_ctl start: as our child it gets the
	// parent-death signal, so a crashed test binary leaves no server behind.
	cmd := exec.Command(filepath.Join(c.BinDir, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr(opts.Detach, cred)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres in %s: %w", c.Dir, err)
	}
	c.PID = cmd.Process.Pid
	c.done = make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(c.done)

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if closed(c.done)() {
			b, _ := os.ReadFile(c.logPath())
			if len(b) > int(logStart) && strings.Contains(string(b[logStart:]), "already in use") {
				return errPortTaken
			}
			return fmt.Errorf("postgres in %s exited at start; %s", c.Dir, logTail(c.logPath(), 15))
		}
		if PingPostgres(c.URL()) == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			_ = c.Stop()
			return fmt.Errorf("postgres in %s not ready: %w; %s", c.Dir, ctx.Err(), logTail(c.logPath(), 15))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop shuts the server down with pg_ctl's immediate mode (no checkpoint:
// the cluster is either thrown away or recovers on next start) and waits
// until it is gone. It leaves Dir in place.
func (c *PostgresCluster) Stop() error {
	exited := func() bool { return !pidRuns(c.PID, c.dataDir()) }
	if c.done != nil {
		exited = closed(c.done)
	}
	if c.PID == 0 || exited() {
		return nil
	}
	cred, err := postgresCredential()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.BinDir, "pg_ctl"), "stop", "-D", c.dataDir(), "-m", "immediate", "-w", "-t", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, stopErr := cmd.CombinedOutput()
	if waitUntil(10*time.Second, exited) {
		return nil
	}
	if err := terminate(c.PID, 5*time.Second, exited); err != nil {
		return fmt.Errorf("stop postgres in %s: pg_ctl: %v %s; %w", c.Dir, stopErr, out, err)
	}
	return nil
}

// postgresBinDir finds initdb/pg_ctl/postgres: on PATH, else in the newest
// versioned folder Debian and RHEL packages keep off PATH.
func postgresBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	var dirs []string
	for _, pattern := range []string{"/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql*/bin", "/usr/local/opt/postgresql*/bin"} {
		m, _ := filepath.Glob(pattern)
		dirs = append(dirs, m...)
	}
	// Newest major version first ("17" before "9.6").
	sort.SliceStable(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin; " +
		"install them (Debian/Ubuntu: apt-get install postgresql) or set MCPCTL_TEST_DATABASE_URL")
}

func pgMajor(dir string) float64 {
	s := strings.TrimLeftFunc(dir, func(r rune) bool { return r < '0' || r > '9' })
	end := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end >= 0 {
		s = s[:end]
	}
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// postgresCredential returns who runs the server: initdb and postgres refuse
// root, so as root they run as the postgres OS user; otherwise as ourselves.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and initdb refuses root, but there is no postgres OS user to run it as (%w); "+
			"create one (useradd -r postgres) or run as a normal user", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareClusterDir creates dir, hands it to the server's user and checks
// that user can really write there (every parent must be traversable).
func prepareClusterDir(dir string, cred *syscall.Credential) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cluster folder %s: %w", dir, err)
	}
	if cred == nil {
		return nil
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("hand %s to the postgres OS user: %w", dir, err)
	}
	probe := exec.Command("test", "-w", dir, "-a", "-x", dir)
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := probe.Run(); err != nil {
		return fmt.Errorf("cluster folder %s: %w (is a parent folder private to root?)", dir, ErrDirUnreachable)
	}
	return nil
}
