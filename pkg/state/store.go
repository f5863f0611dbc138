package state

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the state store of one schema. It is safe for concurrent use.
// Its row methods (CreateBackend, ListSecrets, AppendAudit...) are also
// available on a Tx.
type Store struct {
	db
	pool *pgxpool.Pool

	mu      sync.Mutex
	lock    *Lock // the lock this Store holds, so Migrate does not wait on itself
	locking bool  // a Lock call is waiting
}

func newStore(pool *pgxpool.Pool, schema string) *Store {
	return &Store{pool: pool, db: db{q: pool, schema: schema, ident: pgx.Identifier{schema}.Sanitize()}}
}

// Close releases a held lock and closes the pool.
func (s *Store) Close() {
	s.mu.Lock()
	l := s.lock
	s.mu.Unlock()
	if l != nil {
		// pgxpool.Close waits for acquired connections; the lock keeps one.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = l.Release(ctx)
		cancel()
	}
	s.pool.Close()
}

// Schema is the schema holding the tables.
func (s *Store) Schema() string { return s.schema }

// Pool is the underlying pool, for callers that need raw SQL (tests, roles).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in one transaction, committed when fn returns nil and rolled
// back otherwise: e.g. flipping a secret's row and its journal entry together.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(t pgx.Tx) error {
		return fn(&Tx{db: db{q: t, schema: s.schema, ident: s.ident}})
	})
}

// Tx is a transaction with the Store's row methods.
type Tx struct {
	db
}

// querier is what the row methods need; a pool, a connection and a
// transaction all provide it.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// db holds the row methods shared by Store and Tx.
type db struct {
	q      querier
	schema string
	ident  string // schema as a quoted SQL identifier
}

// sql qualifies table names: "{s}.secrets" becomes `"mcpctl".secrets`. The
// schema is validated and quoted, so this is not an injection point.
func (d *db) sql(q string) string {
	return strings.ReplaceAll(q, "{s}", d.ident)
}
