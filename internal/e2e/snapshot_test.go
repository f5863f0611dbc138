package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// snapshot is everything an mcpctl run could change, as sorted text: every
// row of every table of the world's schema and the metadata of every object
// under its KV mount.
type snapshot struct {
	postgres string
	vault    string
}

// snapshot waits until no command of this world runs, then takes one.
func (w *world) snapshot() snapshot {
	w.t.Helper()
	return w.snapshotFor(w.t)
}

// snapshotFor takes a snapshot for test t (the world's or a subtest).
func (w *world) snapshotFor(t testing.TB) snapshot {
	t.Helper()
	w.quiet.Lock()
	defer w.quiet.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pg, err := w.dumpPostgres(ctx, false)
	if err != nil {
		t.Fatalf("snapshot of schema %s: %v", w.schema, err)
	}
	v, err := w.dumpVault(ctx, t)
	if err != nil {
		t.Fatalf("snapshot of mount %s: %v", w.mount, err)
	}
	return snapshot{postgres: pg, vault: v}
}

// diff describes how b differs from a, or "" when it does not.
func (a snapshot) diff(b snapshot) string {
	var out strings.Builder
	for _, part := range []struct{ name, a, b string }{
		{"Postgres", a.postgres, b.postgres},
		{"Vault", a.vault, b.vault},
	} {
		if part.a == part.b {
			continue
		}
		before, after := lineSet(part.a), lineSet(part.b)
		fmt.Fprintf(&out, "%s changed:\n", part.name)
		for _, l := range sortedKeys(before) {
			if !after[l] {
				fmt.Fprintf(&out, "  - %s\n", l)
			}
		}
		for _, l := range sortedKeys(after) {
			if !before[l] {
				fmt.Fprintf(&out, "  + %s\n", l)
			}
		}
	}
	return out.String()
}

// dumpPostgres prints every row of every table of the schema as JSON, one
// line each, sorted. Without values, secrets.data is left out: that is the
// text the canary test searches, "every column but the values".
func (w *world) dumpPostgres(ctx context.Context, values bool) (string, error) {
	c, err := pgx.Connect(ctx, w.pgURL)
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name`, w.schema)
	if err != nil {
		return "", err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	if len(tables) == 0 {
		return "(no tables in schema " + w.schema + ")\n", nil
	}
	var lines []string
	for _, table := range tables {
		expr := "to_jsonb(t)"
		if table == "secrets" && !values {
			expr = "to_jsonb(t) - 'data'"
		}
		q := fmt.Sprintf("SELECT (%s)::text FROM %s t", expr, pgx.Identifier{w.schema, table}.Sanitize())
		rows, err := c.Query(ctx, q)
		if err != nil {
			return "", fmt.Errorf("%s: %w", table, err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return "", fmt.Errorf("%s: %w", table, err)
		}
		lines = append(lines, table+" (table)")
		for _, r := range texts {
			lines = append(lines, table+": "+r)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

// dumpVault lists the mount recursively and prints each object's metadata
// (versions, times, custom metadata), one line each, sorted.
func (w *world) dumpVault(ctx context.Context, t testing.TB) (string, error) {
	client := w.vault.Client(t)
	var lines []string
	var walk func(prefix string) error
	walk = func(prefix string) error {
		s, err := client.Logical().ListWithContext(ctx, w.mount+"/metadata/"+prefix)
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		if s == nil {
			return nil
		}
		keys, _ := s.Data["keys"].([]any)
		for _, k := range keys {
			key, _ := k.(string)
			if strings.HasSuffix(key, "/") {
				if err := walk(prefix + key); err != nil {
					return err
				}
				continue
			}
			m, err := client.Logical().ReadWithContext(ctx, w.mount+"/metadata/"+prefix+key)
			if err != nil {
				return fmt.Errorf("metadata of %s: %w", prefix+key, err)
			}
			var data map[string]any
			if m != nil {
				data = m.Data
			}
			b, err := json.Marshal(data)
			if err != nil {
				return err
			}
			lines = append(lines, prefix+key+": "+string(b))
		}
		return nil
	}
	if err := walk(""); err != nil {
		return "", err
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", nil
}

func lineSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		m[l] = true
	}
	return m
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
