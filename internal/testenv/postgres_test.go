package testenv

import (
	"context"
	"os"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close(ctx) })
	return c
}

func TestSchemaNamesAreDistinct(t *testing.T) {
	t.Parallel()
	url1, s1 := Schema(t)
	url2, s2 := Schema(t)
	if s1 == s2 {
		t.Fatalf("two Schema calls returned the same name %q", s1)
	}
	if url1 != url2 {
		t.Errorf("one process should use one server, got %q and %q", url1, url2)
	}
	valid := regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
	for _, s := range []string{s1, s2} {
		if !valid.MatchString(s) || len(s) > 63 {
			t.Errorf("schema name %q is not a plain Postgres identifier", s)
		}
	}
}

func TestSchemaIsDroppedWhenTheTestEnds(t *testing.T) {
	t.Parallel()
	var url, schema string
	t.Run("uses", func(t *testing.T) {
		url, schema = Schema(t)
		c := connect(t, url)
		ctx := context.Background()
		if _, err := c.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec(ctx, "CREATE TABLE "+pgx.Identifier{schema, "rows"}.Sanitize()+" (id int)"); err != nil {
			t.Fatal(err)
		}
	})
	var n int
	err := connect(t, url).QueryRow(context.Background(),
		"SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("schema %s still exists after its test ended", schema)
	}
}

// The fallback used where no server answers, forced here on a machine that
// may have one: start a cluster, use it, stop it.
func TestThrowawayCluster(t *testing.T) {
	t.Parallel()
	c, err := startThrowawayPostgres()
	if err != nil {
		t.Fatalf("throwaway cluster: %v", err)
	}
	if c.Port == 5432 {
		t.Fatalf("throwaway cluster took the shared port 5432")
	}
	ctx := context.Background()
	conn := connect(t, c.URL())
	var dataDir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
		t.Fatal(err)
	}
	if dataDir != c.dataDir() {
		t.Fatalf("connected to a server with data in %s, want the throwaway one in %s", dataDir, c.dataDir())
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v text)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if pidAlive(c.PID) {
		t.Fatalf("postgres pid %d alive after Stop", c.PID)
	}
	if PingPostgres(c.URL()) == nil {
		t.Fatalf("%s still answers after Stop", c.URL())
	}
}

// scripts/devenv keeps a durable cluster between sessions: stopped and
// started again on the same folder, it still has its data.
func TestClusterRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir, err := tempDir("postgres")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx := context.Background()
	c, err := StartPostgresCluster(ctx, ClusterOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	if _, err := connect(t, c.URL()).Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('x')"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	again, err := StartPostgresCluster(ctx, ClusterOptions{Dir: dir, Port: c.Port})
	if err != nil {
		t.Fatalf("restart on %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = again.Stop() })
	var v string
	if err := connect(t, again.URL()).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "x" {
		t.Fatalf("after restart: got %q, %v; want the row written before", v, err)
	}
}

func TestPostgresBinDirIsNewest(t *testing.T) {
	if got := pgMajor("/usr/lib/postgresql/17/bin"); got != 17 {
		t.Errorf("pgMajor(17) = %v", got)
	}
	if pgMajor("/usr/lib/postgresql/9.6/bin") >= pgMajor("/usr/lib/postgresql/15/bin") {
		t.Errorf("9.6 sorted after 15")
	}
	dir, err := postgresBinDir()
	if err != nil {
		t.Fatalf("%v", err)
	}
	if !fileExists(dir+"/pg_ctl") || !fileExists(dir+"/postgres") {
		t.Fatalf("%s lacks pg_ctl or postgres", dir)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
