package state_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func TestResolveURLPrecedence(t *testing.T) {
	t.Setenv("MCPCTL_DATABASE_URL", "postgres://mcpctl-env")
	t.Setenv("DATABASE_URL", "postgres://database-env")
	if u, src := state.ResolveURL("postgres://flag"); u != "postgres://flag" || src != "--database-url" {
		t.Fatalf("with a flag: %q from %q", u, src)
	}
	if u, src := state.ResolveURL(""); u != "postgres://mcpctl-env" || src != "MCPCTL_DATABASE_URL" {
		t.Fatalf("with MCPCTL_DATABASE_URL: %q from %q", u, src)
	}
	t.Setenv("MCPCTL_DATABASE_URL", "")
	if u, src := state.ResolveURL(""); u != "postgres://database-env" || src != "DATABASE_URL" {
		t.Fatalf("with DATABASE_URL: %q from %q", u, src)
	}
	t.Setenv("DATABASE_URL", "")
	if u, src := state.ResolveURL(""); u != "" || !strings.Contains(src, "PG") {
		t.Fatalf("with nothing set: %q from %q, want libpq PG* variables", u, src)
	}
}

func TestBadConnectionSettingsGiveOneClearLine(t *testing.T) {
	t.Parallel()
	const password = "s3cret-pw-canary"
	base, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	noDB := *base
	noDB.Path = "/no_such_database_mcpctl"
	cases := []struct {
		name, url, source string
		want              []string
	}{
		{"refused", "postgres://bob:" + password + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=5", "MCPCTL_DATABASE_URL",
			[]string{"cannot connect to PostgreSQL", "MCPCTL_DATABASE_URL", "host=127.0.0.1", "port=1", "user=bob", "database=app", "refused"}},
		{"bad port", "postgres://bob:" + password + "@127.0.0.1:notaport/app", "--database-url",
			[]string{"invalid database connection string", "--database-url", "port"}},
		{"bad keyword string", "host=127.0.0.1 password=" + password + " port=notaport", "DATABASE_URL",
			[]string{"invalid database connection string", "DATABASE_URL", "port"}},
		{"unknown host", "postgres://bob:" + password + "@no-such-host.invalid:5432/app?connect_timeout=5", "--database-url",
			[]string{"host=no-such-host.invalid", "port=5432", "user=bob"}},
		{"no database", noDB.String(), "DATABASE_URL",
			[]string{"DATABASE_URL", "database=no_such_database_mcpctl", "does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := state.Open(context.Background(), state.Options{URL: c.url, Source: c.source})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") || strings.Contains(msg, password) || !containsAll(msg, c.want...) {
				t.Fatalf("error %q: want one line containing %q and no password", msg, c.want)
			}
		})
	}
}

func TestInvalidSchemaNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Upper", "1abc", "has-dash", "pg_catalog", strings.Repeat("a", 64), `x"; DROP`} {
		if _, err := state.Open(context.Background(), state.Options{URL: "postgres://127.0.0.1:1/x", Schema: name}); err == nil || !strings.Contains(err.Error(), "schema name") {
			t.Errorf("schema %q: %v, want an invalid schema name error", name, err)
		}
	}
	if err := state.ValidateSchema("mcpctl_prod_2"); err != nil {
		t.Fatal(err)
	}
}
