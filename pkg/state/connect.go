package state

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Where a connection string came from, as ResolveURL reports it.
const (
	SourceFlag     = "--database-url"
	SourceMCPCTL   = "MCPCTL_DATABASE_URL"
	SourceDatabase = "DATABASE_URL"
	SourceLibpq    = "PG* environment variables"
)

// ResolveURL picks the connection string: the flag value, else
// MCPCTL_DATABASE_URL, else DATABASE_URL, else "" (pgx then reads the libpq
// PG* variables). source names the setting used, for error messages.
func ResolveURL(flagValue string) (url, source string) {
	if flagValue != "" {
		return flagValue, SourceFlag
	}
	for _, env := range []string{SourceMCPCTL, SourceDatabase} {
		if v := os.Getenv(env); v != "" {
			return v, env
		}
	}
	return "", SourceLibpq
}

// Options configure Open.
type Options struct {
	// URL is a libpq connection string or URL; "" uses the PG* variables.
	URL string
	// Source names where URL came from (ResolveURL's second result), so a
	// connection error can say which setting to fix.
	Source string
	// Schema holds every table; DefaultSchema when empty.
	Schema string
	// MaxConns bounds the pool (default 16). A held Lock keeps one of them.
	MaxConns int32
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidateSchema checks a schema name: lower-case letters, digits and
// underscores, not starting with a digit, at most 63 bytes, not pg_*.
func ValidateSchema(name string) error {
	if !schemaName.MatchString(name) {
		return fmt.Errorf("invalid schema name %q: use lower-case letters, digits and _, not starting with a digit, at most 63 characters", name)
	}
	if strings.HasPrefix(name, "pg_") {
		return fmt.Errorf("invalid schema name %q: names starting with pg_ are reserved by PostgreSQL", name)
	}
	return nil
}

// Open connects to Postgres and pings it. A failure is one line naming the
// setting used, host, port, user and database, and the cause — never the
// password. Open does not touch the schema: reads work on an uninitialised
// database and Migrate creates it.
func Open(ctx context.Context, opts Options) (*Store, error) {
	schema := opts.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	if err := ValidateSchema(schema); err != nil {
		return nil, err
	}
	source := opts.Source
	if source == "" {
		source = "the database URL"
	}
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("invalid database connection string from %s: %s", source, parseErrorText(opts.URL, err))
	}
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 16
	}
	if cfg.MaxConns < 2 {
		cfg.MaxConns = 2 // the lock keeps one connection; work needs another
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		// Shows who holds what in pg_stat_activity and lock status.
		cfg.ConnConfig.RuntimeParams["application_name"] = "mcpctl"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, connectError(source, cfg.ConnConfig.Config, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, connectError(source, cfg.ConnConfig.Config, err)
	}
	return newStore(pool, schema), nil
}

// connectError formats a failed connection as one line.
func connectError(source string, cfg pgconn.Config, err error) error {
	return fmt.Errorf("cannot connect to PostgreSQL (settings from %s: host=%s port=%d user=%s database=%s): %s",
		source, cfg.Host, cfg.Port, cfg.User, cfg.Database, causeText(err))
}

// causeText reduces a connection error to its cause, on one line: the
// server's message, or the network error, without pgx's prefixes that
// repeat what connectError already says.
func causeText(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return oneLine(ne.Error())
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		return oneLine(ce.Unwrap().Error())
	}
	return oneLine(err.Error())
}

// oneLine folds a multi-line cause into one line, dropping repeats (pgx
// reports the same failure once per resolved address).
func oneLine(s string) string {
	var parts []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\n", "; "), "; ") {
		p = strings.Join(strings.Fields(p), " ")
		if p != "" && !slices.ContainsFunc(parts, func(q string) bool { return strings.HasSuffix(q, p) }) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}

// parseErrorText explains an unparsable connection string without echoing
// it: pgx's message quotes the string (password redaction is best effort)
// and url.Parse's cause quotes it verbatim.
func parseErrorText(connString string, err error) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		if _, uerr := url.Parse(connString); uerr != nil {
			var ue *url.Error
			if errors.As(uerr, &ue) {
				return "not a valid URL: " + ue.Err.Error()
			}
			return "not a valid URL"
		}
	}
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		s := pce.Error()
		if inner := pce.Unwrap(); inner != nil {
			s = strings.TrimSuffix(s, " ("+inner.Error()+")")
		}
		if i := strings.LastIndex(s, "`: "); i >= 0 {
			return s[i+3:]
		}
		return "cannot be parsed"
	}
	return "cannot be parsed"
}
