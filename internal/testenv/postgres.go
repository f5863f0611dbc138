package testenv

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// LocalPostgresURL is the server used when one answers on the standard
// port: trust auth as user postgres, as Debian's default cluster is set up
// for local development.
const LocalPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	pgOnce sync.Once
	pgURL  string
	pgErr  error
)

// PostgresURL returns a connection string to a real Postgres server, failing
// the test with instructions when none can be had.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgURL, pgErr = findPostgres() })
	if pgErr != nil {
		t.Fatalf("testenv: no Postgres: %v\n"+
			"Fix: start one on 127.0.0.1:5432 (Debian: pg_ctlcluster 15 main start), install the PostgreSQL server "+
			"binaries so a throwaway cluster can be started, or set MCPCTL_TEST_DATABASE_URL=postgres://user@host:port/db", pgErr)
	}
	return pgURL
}

func findPostgres() (string, error) {
	if u := os.Getenv("MCPCTL_TEST_DATABASE_URL"); u != "" {
		if err := PingPostgres(u); err != nil {
			return "", fmt.Errorf("MCPCTL_TEST_DATABASE_URL does not answer: %w", err)
		}
		return u, nil
	}
	// MCPCTL_TEST_POSTGRES=throwaway reproduces a machine without a running
	// server (CI, fresh clone) on one that has one.
	if os.Getenv("MCPCTL_TEST_POSTGRES") != "throwaway" {
		if err := PingPostgres(LocalPostgresURL); err == nil {
			return LocalPostgresURL, nil
		}
	}
	c, err := startThrowawayPostgres()
	if err != nil {
		return "", fmt.Errorf("nothing answers on 127.0.0.1:5432 and MCPCTL_TEST_DATABASE_URL is unset, "+
			"so testenv tried a throwaway cluster: %w", err)
	}
	return c.URL(), nil
}

// startThrowawayPostgres runs a private cluster in a temp folder until Main
// returns.
func startThrowawayPostgres() (*PostgresCluster, error) {
	if err := requireMain(); err != nil {
		return nil, err
	}
	dir, err := tempDir("postgres")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartPostgresCluster(ctx, ClusterOptions{Dir: dir, NoFsync: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	atExit(func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		}
		_ = os.RemoveAll(dir)
	})
	return c, nil
}

// PingPostgres connects to url and pings it, with a short deadline.
func PingPostgres(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	return c.Ping(ctx)
}

// Schema creates a fresh, uniquely named schema name for one test and drops
// it when the test ends. It returns the connection string and the schema
// name; the schema itself is created by the code under test (Migrate).
func Schema(t testing.TB) (url, schema string) {
	t.Helper()
	url = PostgresURL(t)
	schema = "t_" + RandHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Logf("testenv: drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("testenv: drop schema %s: %v", schema, err)
		}
	})
	return url, schema
}
