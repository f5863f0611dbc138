package state

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lockPollInterval is how often a waiting Lock retries pg_try_advisory_lock.
const lockPollInterval = 200 * time.Millisecond

// LockOptions configure Lock.
type LockOptions struct {
	// Operation says what the holder is doing ("apply", "db migrate"...).
	Operation string
	// Timeout is how long to wait while someone else holds the lock; 0
	// tries once.
	Timeout time.Duration
	// Holder is recorded in the lock row; zero fields are filled from
	// CurrentHolder(Operation).
	Holder LockHolder
}

// Lock is the schema's writer lock: a session advisory lock held on one
// dedicated connection until Release.
type Lock struct {
	store  *Store
	conn   *pgxpool.Conn
	key    int64
	pid    int32 // server session holding the lock
	holder LockHolder

	mu         sync.Mutex
	rowWritten bool
	released   bool
}

// lockKey derives the schema's advisory lock key. One key per schema, so
// installations in different schemas of one database never wait on each
// other. FNV keeps it independent of server-side hash functions.
func lockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("mcpctl:" + schema))
	return int64(h.Sum64())
}

// pg_locks shows a bigint advisory key as classid (high 32 bits) and objid
// (low 32 bits) with objsubid 1.
const lockRowMatch = `locktype = 'advisory' AND objsubid = 1 AND granted
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND classid = ($1::bigint)::oid AND objid = ($2::bigint)::oid`

func lockKeyParts(key int64) (hi, lo int64) {
	u := uint64(key)
	return int64(u >> 32), int64(u & 0xffffffff)
}

// CurrentHolder describes this process: OS user, host, pid, the CI run URL
// when running in GitHub Actions, GitLab CI or Jenkins.
func CurrentHolder(operation string) LockHolder {
	h := LockHolder{PID: os.Getpid(), Operation: operation, StartedAt: time.Now()}
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	} else {
		h.User = os.Getenv("USER")
	}
	h.Host, _ = os.Hostname()
	switch {
	case os.Getenv("GITHUB_RUN_ID") != "":
		h.CIRunURL = os.Getenv("GITHUB_SERVER_URL") + "/" + os.Getenv("GITHUB_REPOSITORY") + "/actions/runs/" + os.Getenv("GITHUB_RUN_ID")
	case os.Getenv("CI_JOB_URL") != "":
		h.CIRunURL = os.Getenv("CI_JOB_URL")
	case os.Getenv("BUILD_URL") != "":
		h.CIRunURL = os.Getenv("BUILD_URL")
	}
	return h
}

// Lock takes the schema's advisory lock on a dedicated connection, waiting
// up to opts.Timeout while another session holds it, then failing with a
// *LockedError naming the holder. Once taken, it checks that the lock is
// held by the very session it talks to (it is not behind a transaction-mode
// pooler such as PgBouncer, where session locks silently stop protecting
// anything) and records the holder row. One Lock per Store at a time.
func (s *Store) Lock(ctx context.Context, opts LockOptions) (*Lock, error) {
	what := fmt.Sprintf("lock schema %q", s.schema)
	s.mu.Lock()
	if s.lock != nil || s.locking {
		s.mu.Unlock()
		return nil, fmt.Errorf("%s: this process already holds it", what)
	}
	// Reserve: a concurrent Lock on this Store fails instead of waiting on itself.
	s.locking = true
	s.mu.Unlock()
	l := &Lock{store: s, key: lockKey(s.schema), holder: fillHolder(opts)}
	ok := false
	defer func() {
		s.mu.Lock()
		s.locking = false
		if ok {
			s.lock = l
		}
		s.mu.Unlock()
	}()

	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, mapErr(what, err)
	}
	start := time.Now()
	for {
		var got bool
		err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1), pg_backend_pid()`, l.key).Scan(&got, &l.pid)
		if err != nil {
			conn.Release()
			return nil, mapErr(what, err)
		}
		if got {
			break
		}
		waited := time.Since(start)
		if waited >= opts.Timeout {
			conn.Release()
			_, holder, _ := s.LockStatus(ctx)
			return nil, &LockedError{Schema: s.schema, Holder: holder, Waited: waited.Round(time.Millisecond)}
		}
		t := time.NewTimer(min(lockPollInterval, opts.Timeout-waited))
		select {
		case <-ctx.Done():
			t.Stop()
			conn.Release()
			return nil, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	l.conn = conn
	if err := verifyHeld(ctx, conn, s.schema, l.key, l.pid); err != nil {
		l.abandon(ctx)
		return nil, err
	}
	if err := l.writeHolder(ctx); err != nil {
		l.abandon(ctx)
		return nil, err
	}
	ok = true
	return l, nil
}

func fillHolder(opts LockOptions) LockHolder {
	h := opts.Holder
	def := CurrentHolder(opts.Operation)
	if h.User == "" {
		h.User = def.User
	}
	if h.Host == "" {
		h.Host = def.Host
	}
	if h.PID == 0 {
		h.PID = def.PID
	}
	if h.CIRunURL == "" {
		h.CIRunURL = def.CIRunURL
	}
	if h.Operation == "" {
		h.Operation = opts.Operation
	}
	if h.StartedAt.IsZero() {
		h.StartedAt = def.StartedAt
	}
	return h
}

// verifyHeld checks that the session conn talks to is session pid and that
// it holds the lock. Behind a transaction-mode pooler consecutive
// statements may run on different server sessions: the pid differs.
func verifyHeld(ctx context.Context, conn *pgxpool.Conn, schema string, key int64, pid int32) error {
	hi, lo := lockKeyParts(key)
	var (
		now  int32
		held bool
	)
	err := conn.QueryRow(ctx, `SELECT pg_backend_pid(), EXISTS (SELECT 1 FROM pg_locks WHERE `+lockRowMatch+` AND pid = $3)`,
		hi, lo, pid).Scan(&now, &held)
	if err != nil {
		return fmt.Errorf("lock schema %q: verify: %w", schema, mapErr("pg_locks", err))
	}
	if now != pid {
		return &dbError{what: fmt.Sprintf("lock schema %q", schema), kind: ErrLockLost, msg: fmt.Sprintf(
			"the advisory lock was taken by server session %d but the same connection now runs on session %d: "+
				"a connection pooler in transaction mode (e.g. PgBouncer pool_mode=transaction) sits between mcpctl and PostgreSQL, "+
				"and session advisory locks do not work through it; connect mcpctl directly to PostgreSQL or through a session-mode pool",
			pid, now)}
	}
	if !held {
		return &dbError{what: fmt.Sprintf("lock schema %q", schema), kind: ErrLockLost,
			msg: "the advisory lock is no longer held by this session (force-unlocked, or the connection was reset)"}
	}
	return nil
}

// abandon gives up a lock whose session cannot be trusted: try to unlock,
// terminate the session if it still holds the lock (a pooler's server
// session would otherwise keep it forever), and drop the connection.
func (l *Lock) abandon(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
	hi, lo := lockKeyParts(l.key)
	_, _ = l.conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE `+lockRowMatch+` AND pid = $3`, hi, lo, l.pid)
	_ = l.conn.Conn().Close(ctx)
	l.conn.Release()
}

// writeHolder records the holder row. Before the first migration the table
// does not exist; Migrate writes the row once it does.
func (l *Lock) writeHolder(ctx context.Context) error {
	s := l.store
	h := l.holder
	_, err := l.conn.Exec(ctx, s.sql(`
		INSERT INTO {s}.lock_holder (singleton, user_name, host, pid, ci_run_url, operation, started_at, backend_pid)
		VALUES (true, $1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (singleton) DO UPDATE SET user_name = EXCLUDED.user_name, host = EXCLUDED.host,
			pid = EXCLUDED.pid, ci_run_url = EXCLUDED.ci_run_url, operation = EXCLUDED.operation,
			started_at = EXCLUDED.started_at, backend_pid = EXCLUDED.backend_pid`),
		h.User, h.Host, h.PID, h.CIRunURL, h.Operation, h.StartedAt, l.pid)
	if isUninitialized(err) {
		return nil
	}
	if err != nil {
		return mapErr(fmt.Sprintf("lock schema %q: record holder", s.schema), err)
	}
	l.mu.Lock()
	l.rowWritten = true
	l.mu.Unlock()
	return nil
}

func (l *Lock) hasRow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rowWritten
}

// Holder is what the lock row records about this holder.
func (l *Lock) Holder() LockHolder { return l.holder }

// Verify checks the lock is still held by its session (ErrLockLost
// otherwise). Call it before a step that must not run unlocked.
func (l *Lock) Verify(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return &dbError{what: fmt.Sprintf("lock schema %q", l.store.schema), kind: ErrLockLost, msg: "the lock was released"}
	}
	return verifyHeld(ctx, l.conn, l.store.schema, l.key, l.pid)
}

// Release clears the holder row, unlocks and returns the connection, even
// if ctx is already cancelled. An error says the lock had been lost before
// (force-unlocked, connection reset); the connection is dropped then.
// Releasing twice is a no-op.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return nil
	}
	l.released = true
	// Release even when the caller's context is done (an interrupted run
	// must still let go of the lock), but not forever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	s := l.store
	s.mu.Lock()
	if s.lock == l {
		s.lock = nil
	}
	s.mu.Unlock()

	_, err := l.conn.Exec(ctx, s.sql(`DELETE FROM {s}.lock_holder WHERE backend_pid = pg_backend_pid()`))
	if err != nil && (sqlstate(err) == "57P01" || l.conn.Conn().IsClosed()) {
		l.conn.Release()
		return &dbError{what: fmt.Sprintf("release lock on schema %q", s.schema), kind: ErrLockLost,
			msg: "the lock had been lost: its database session was terminated (force-unlock?) or the connection broke", cause: err}
	}
	if err != nil && !isUninitialized(err) {
		err = mapErr("clear lock holder", err)
	} else {
		err = nil
	}
	var unlocked bool
	if uerr := l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, l.key).Scan(&unlocked); uerr != nil {
		err = errors.Join(err, uerr)
	} else if !unlocked {
		err = errors.Join(err, &dbError{what: fmt.Sprintf("release lock on schema %q", s.schema), kind: ErrLockLost,
			msg: "it was no longer held (force-unlocked?)"})
	}
	if err != nil {
		// Never hand a session in an unknown lock state back to the pool.
		_ = l.conn.Conn().Close(ctx)
		l.conn.Release()
		return fmt.Errorf("release lock on schema %q: %w", s.schema, err)
	}
	l.conn.Release()
	return nil
}

// lockPID finds the session holding the schema's lock.
func (s *Store) lockPID(ctx context.Context) (pid int32, held bool, err error) {
	hi, lo := lockKeyParts(lockKey(s.schema))
	err = s.pool.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE `+lockRowMatch+` LIMIT 1`, hi, lo).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, mapErr(fmt.Sprintf("lock status of schema %q", s.schema), err)
	}
	return pid, true, nil
}

// LockStatus says whether someone holds the schema's lock, and who. The
// holder comes from the lock row when it belongs to the holding session;
// otherwise (a holder that has not written it yet, an old mcpctl) from
// pg_stat_activity, as far as this role may see it. holder is nil when
// nothing is known.
func (s *Store) LockStatus(ctx context.Context) (held bool, holder *LockHolder, err error) {
	pid, held, err := s.lockPID(ctx)
	if err != nil || !held {
		return false, nil, err
	}
	return true, s.holderOf(ctx, pid), nil
}

func (s *Store) holderOf(ctx context.Context, pid int32) *LockHolder {
	var (
		h          LockHolder
		backendPID int32
	)
	err := s.pool.QueryRow(ctx, s.sql(`
		SELECT user_name, host, pid, ci_run_url, operation, started_at, backend_pid FROM {s}.lock_holder`)).
		Scan(&h.User, &h.Host, &h.PID, &h.CIRunURL, &h.Operation, &h.StartedAt, &backendPID)
	if err == nil && backendPID == pid {
		return &h
	}
	var app string
	err = s.pool.QueryRow(ctx, `
		SELECT coalesce(usename, ''), coalesce(host(client_addr), 'local socket'), coalesce(application_name, ''), backend_start
		FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&h.User, &h.Host, &app, &h.StartedAt)
	if err != nil {
		return nil
	}
	h = LockHolder{User: h.User, Host: h.Host, StartedAt: h.StartedAt,
		Operation: fmt.Sprintf("unknown: no holder row; database session %d, application_name %q", pid, app)}
	return &h
}

// ForceUnlock terminates the database session holding the schema's lock
// (pg_terminate_backend: the role needs pg_signal_backend or to be the
// holder's role), waits until the lock is free, clears the holder row and
// returns who held it (nil if unknown). ErrNotLocked if nobody held it; a
// stale holder row is cleared then too.
func (s *Store) ForceUnlock(ctx context.Context) (*LockHolder, error) {
	what := fmt.Sprintf("force-unlock schema %q", s.schema)
	pid, held, err := s.lockPID(ctx)
	if err != nil {
		return nil, err
	}
	if !held {
		s.clearHolderRow(ctx, 0)
		return nil, &dbError{what: what, kind: ErrNotLocked}
	}
	holder := s.holderOf(ctx, pid)
	hi, lo := lockKeyParts(lockKey(s.schema))
	// Terminate only while that session still holds the lock: it may have
	// released it and gone back to other work in the meantime.
	rows, err := s.pool.Query(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE `+lockRowMatch+` AND pid = $3`, hi, lo, pid)
	if err != nil {
		return holder, mapErr(what, err)
	}
	if _, err := pgx.CollectRows(rows, pgx.RowTo[bool]); err != nil {
		return holder, mapErr(what, err)
	}
	// Termination is asynchronous; the lock goes when the session exits.
	for {
		now, stillHeld, err := s.lockPID(ctx)
		if err != nil {
			return holder, err
		}
		if !stillHeld || now != pid {
			break
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return holder, fmt.Errorf("%s: waiting for session %d to exit: %w", what, pid, ctx.Err())
		case <-t.C:
		}
	}
	s.clearHolderRow(ctx, pid)
	return holder, nil
}

// clearHolderRow deletes the holder row written by session pid (any row
// when pid is 0), never one a new holder wrote meanwhile.
func (s *Store) clearHolderRow(ctx context.Context, pid int32) {
	hi, lo := lockKeyParts(lockKey(s.schema))
	// A row is stale unless its session holds the lock right now.
	_, _ = s.pool.Exec(ctx, s.sql(`
		DELETE FROM {s}.lock_holder h
		WHERE ($3 = 0 OR h.backend_pid = $3)
		  AND NOT EXISTS (SELECT 1 FROM pg_locks WHERE `+lockRowMatch+` AND pid = h.backend_pid)`), hi, lo, pid)
}

// Actor names who runs mcpctl, for the audit log: OS user and host, plus the
// CI run URL when there is one (GitHub Actions, GitLab CI, BUILD_URL).
func Actor() string {
	h := CurrentHolder("")
	s := h.User + "@" + h.Host
	if h.CIRunURL != "" {
		s += " (" + h.CIRunURL + ")"
	}
	return s
}
