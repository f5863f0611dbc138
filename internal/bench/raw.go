package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The raw baselines: the same backend work as an mcpctl figure, done by the
// smallest client that can do it (a keep-alive net/http client on KV v2,
// pgx on Postgres), at the same concurrency, with no planning, journal,
// ownership metadata or audit. They are what the servers physically allow
// on this machine; an mcpctl figure's ratio to its baseline is its overhead.

// kvClient is a plain KV v2 client: one keep-alive transport whose idle
// pool is as large as the concurrency, the token in a header, no retries.
type kvClient struct {
	addr, token, mount string
	hc                 *http.Client
}

func newKVClient(addr, token, mount string, conns int) *kvClient {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
	}
	return &kvClient{addr: addr, token: token, mount: mount, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (c *kvClient) close() { c.hc.CloseIdleConnections() }

// do sends one request and returns the status and body.
func (c *kvClient) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.addr+"/v1/"+c.mount+"/"+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-Vault-Token", c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// forEach calls f for 0..n-1 on conc workers and stops at the first error.
func forEach(ctx context.Context, n, conc int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(conc, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// metadataGETs is the raw Stat baseline: one GET <mount>/metadata/<prefix>/<name>
// per secret, conc at a time. present says whether the objects should exist
// (plan of unchanged secrets) or not (plan of secrets about to move there).
func metadataGETs(ctx context.Context, kv *kvClient, prefix string, n, conc int, present bool) (time.Duration, error) {
	want := http.StatusOK
	if !present {
		want = http.StatusNotFound
	}
	start := time.Now()
	err := forEach(ctx, n, conc, func(ctx context.Context, i int) error {
		status, body, err := kv.do(ctx, http.MethodGet, "metadata/"+prefix+"/"+secretName(i), nil)
		if err != nil {
			return err
		}
		if status != want {
			return fmt.Errorf("GET metadata of %s: status %d, want %d: %.200s", secretName(i), status, want, body)
		}
		return nil
	})
	return time.Since(start), err
}

// sqlBulkRead is the raw baseline of plan's state reads: connect, then the
// two bulk SELECTs (backends; secrets joined with their backend, without the
// data column), rows left undecoded.
func sqlBulkRead(ctx context.Context, dbURL, schema string) (time.Duration, int, error) {
	start := time.Now()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close(ctx)
	s := pgx.Identifier{schema}.Sanitize()
	queries := []string{
		`SELECT id::text, name, type, config, is_default, description, labels, annotations, protected, generation, created_at, updated_at
		 FROM ` + s + `.backends ORDER BY name`,
		`SELECT s.id::text, s.name, s.backend_id::text, b.name, b.type, s.external_ref, s.has_data, s.data_version,
		 s.data_owner, s.keys, s.backend_version, s.fingerprint, s.managed, s.labels, s.annotations, s.protected,
		 s.generation, s.created_at, s.updated_at
		 FROM ` + s + `.secrets s JOIN ` + s + `.backends b ON b.id = s.backend_id ORDER BY s.name`,
	}
	rowsRead := 0
	for _, q := range queries {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return 0, 0, err
		}
		for rows.Next() {
			_ = rows.RawValues()
			rowsRead++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, 0, err
		}
	}
	return time.Since(start), rowsRead, nil
}

// rawMigration is the raw migration baseline between a Postgres table
// (src: name, data jsonb, standing in for the plaintext backend) and KV v2
// paths under prefix: per secret read + write + read-back-and-compare +
// delete of the source copy, conc secrets at a time.
type rawMigration struct {
	pool   *pgxpool.Pool
	kv     *kvClient
	table  string // schema-qualified, sanitised
	prefix string
	n      int
	conc   int
}

func newRawMigration(ctx context.Context, dbURL, schema string, kv *kvClient, prefix string, n, conc int) (*rawMigration, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(conc)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m := &rawMigration{pool: pool, kv: kv, table: pgx.Identifier{schema, "src"}.Sanitize(), prefix: prefix, n: n, conc: conc}
	s := pgx.Identifier{schema}.Sanitize()
	setup := []string{
		`CREATE SCHEMA ` + s,
		`CREATE TABLE ` + m.table + ` (name text PRIMARY KEY, data jsonb)`,
		fmt.Sprintf(`INSERT INTO %s SELECT 'app-' || lpad(i::text, greatest(5, length(i::text)), '0'),
			jsonb_build_object('USER', 'bench-user', 'PASSWORD', 'bench-password-' || md5(i::text))
			FROM generate_series(0, %d) AS i`, m.table, n-1),
		`ANALYZE ` + m.table,
	}
	for _, q := range setup {
		if _, err := pool.Exec(ctx, q); err != nil {
			pool.Close()
			return nil, fmt.Errorf("raw migration table: %w", err)
		}
	}
	return m, nil
}

func (m *rawMigration) close() { m.pool.Close() }

// toKV moves the values of rows lo..hi-1 to KV: SELECT, write (cas=0),
// read back and compare, clear the row's data.
func (m *rawMigration) toKV(ctx context.Context, lo, hi int) (time.Duration, error) {
	start := time.Now()
	err := forEach(ctx, hi-lo, m.conc, func(ctx context.Context, i int) error {
		name := secretName(lo + i)
		var data map[string]string
		if err := m.pool.QueryRow(ctx, `SELECT data FROM `+m.table+` WHERE name = $1`, name).Scan(&data); err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		body, _ := json.Marshal(map[string]any{"options": map[string]any{"cas": 0}, "data": data})
		if status, b, err := m.kv.do(ctx, http.MethodPost, "data/"+m.prefix+"/"+name, body); err != nil || status != http.StatusOK {
			return fmt.Errorf("write %s: status %d %v: %.200s", name, status, err, b)
		}
		got, err := m.readKV(ctx, name)
		if err != nil {
			return err
		}
		if !maps.Equal(got, data) {
			return fmt.Errorf("read-back of %s differs", name)
		}
		if _, err := m.pool.Exec(ctx, `UPDATE `+m.table+` SET data = NULL WHERE name = $1`, name); err != nil {
			return fmt.Errorf("clear %s: %w", name, err)
		}
		return nil
	})
	return time.Since(start), err
}

// fromKV moves rows lo..hi-1 back: read KV, write the row, read it back
// and compare, soft-delete the KV version.
func (m *rawMigration) fromKV(ctx context.Context, lo, hi int) (time.Duration, error) {
	start := time.Now()
	err := forEach(ctx, hi-lo, m.conc, func(ctx context.Context, i int) error {
		name := secretName(lo + i)
		data, err := m.readKV(ctx, name)
		if err != nil {
			return err
		}
		if _, err := m.pool.Exec(ctx, `UPDATE `+m.table+` SET data = $2 WHERE name = $1`, name, data); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		var back map[string]string
		if err := m.pool.QueryRow(ctx, `SELECT data FROM `+m.table+` WHERE name = $1`, name).Scan(&back); err != nil {
			return fmt.Errorf("read back %s: %w", name, err)
		}
		if !maps.Equal(back, data) {
			return fmt.Errorf("read-back of %s differs", name)
		}
		if status, b, err := m.kv.do(ctx, http.MethodDelete, "data/"+m.prefix+"/"+name, nil); err != nil || status != http.StatusNoContent {
			return fmt.Errorf("delete %s: status %d %v: %.200s", name, status, err, b)
		}
		return nil
	})
	return time.Since(start), err
}

// rawCreate is the raw baseline of apply creating secrets on KV v2: per
// secret the two writes a new object needs to be owned from its first
// version (a metadata write claiming it, then the data write with cas=0),
// for secrets lo..hi-1 under prefix, conc at a time.
func rawCreate(ctx context.Context, kv *kvClient, prefix string, lo, hi, conc int) (time.Duration, error) {
	start := time.Now()
	err := forEach(ctx, hi-lo, conc, func(ctx context.Context, i int) error {
		name := secretName(lo + i)
		claim, _ := json.Marshal(map[string]any{"custom_metadata": map[string]string{
			"managed-by": "mcpctl", "secret-name": name, "keys": "PASSWORD,USER", "keys-version": "1", "keys-count": "2"}})
		if status, b, err := kv.do(ctx, http.MethodPost, "metadata/"+prefix+"/"+name, claim); err != nil || status != http.StatusNoContent {
			return fmt.Errorf("claim %s: status %d %v: %.200s", name, status, err, b)
		}
		body, _ := json.Marshal(map[string]any{"options": map[string]any{"cas": 0},
			"data": map[string]string{"USER": "bench-user", "PASSWORD": "bench-password-0123456789abcdef"}})
		if status, b, err := kv.do(ctx, http.MethodPost, "data/"+prefix+"/"+name, body); err != nil || status != http.StatusOK {
			return fmt.Errorf("write %s: status %d %v: %.200s", name, status, err, b)
		}
		return nil
	})
	return time.Since(start), err
}

func (m *rawMigration) readKV(ctx context.Context, name string) (map[string]string, error) {
	status, b, err := m.kv.do(ctx, http.MethodGet, "data/"+m.prefix+"/"+name, nil)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("read %s: status %d %v: %.200s", name, status, err, b)
	}
	var out struct {
		Data struct {
			Data map[string]string `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out.Data.Data, nil
}
