// Package testenv gives tests real servers: a Postgres (MCPCTL_TEST_DATABASE_URL,
// else one answering on 127.0.0.1:5432, else a throwaway cluster) and a real
// Vault server built from the Go module proxy. Each test gets its own schema.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

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
			"Start one (`pg_ctlcluster 15 main start`) or set MCPCTL_TEST_DATABASE_URL=postgres://user@host:port/db", pgErr)
	}
	return pgURL
}

func findPostgres() (string, error) {
	if u := os.Getenv("MCPCTL_TEST_DATABASE_URL"); u != "" {
		if err := ping(u); err != nil {
			return "", fmt.Errorf("MCPCTL_TEST_DATABASE_URL does not answer: %w", err)
		}
		return u, nil
	}
	local := "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	if err := ping(local); err == nil {
		return local, nil
	}
	return startThrowawayPostgres()
}

func ping(url string) error {
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
	schema = "t_" + randHex(6)
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

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
