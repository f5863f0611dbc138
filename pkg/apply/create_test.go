package apply_test

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCreateOnOpenBaoHoldsNoTransactionAcrossBackendCalls: while apply
// writes a new secret's object, none of its Postgres sessions sits in an
// open transaction (the row is inserted after the object, in one
// statement), and every secret ends up created and readable.
func TestCreateOnOpenBaoHoldsNoTransactionAcrossBackendCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	obs, err := pgx.Connect(ctx, w.url)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Close(context.Background())

	u, err := url.Parse(w.vault.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var writes, inTx atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(u)
	ln := listenLocal(t)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodPut || r.Method == http.MethodPost) && strings.Contains(r.URL.Path, "/"+w.mount+"/") {
			writes.Add(1)
			// Sessions of this test's schema idle inside a transaction:
			// apply waiting on this very request with a transaction open.
			var n int64
			if err := obs.QueryRow(r.Context(), `SELECT count(*) FROM pg_stat_activity
				WHERE state LIKE 'idle in transaction%' AND query LIKE '%' || $1 || '%'`, w.schema).Scan(&n); err == nil {
				inTx.Add(n)
			}
		}
		rp.ServeHTTP(rw, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	w.vaultURL = "http://" + ln.Addr().String()

	const n = 20
	s := w.store()
	w.write("backends.yaml", w.backendYAML())
	w.write("secrets.yaml", w.secretsYAML(n, "bao"))
	if _, res := w.mustApply(s); res.Failed() != 0 {
		t.Fatalf("apply: %v", res.Err())
	}
	if writes.Load() < n {
		t.Fatalf("%d KV writes went through the proxy, want at least %d", writes.Load(), n)
	}
	if got := inTx.Load(); got != 0 {
		t.Errorf("%d times a session of this schema was idle in an open transaction during a KV write", got)
	}
	w.checkReadable(s, n, "after create")
	rows, err := s.ListSecrets(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.BackendName == "bao" && (r.BackendVersion != 1 || len(r.Keys) != 1 || r.ExternalRef == "") {
			t.Errorf("secret %s: row records version %d, keys %v, ref %q; want version 1, one key, a location", r.Name, r.BackendVersion, r.Keys, r.ExternalRef)
		}
	}
}

// TestCreateAuditCommitsWithTheRow: a created secret's audit entry is
// written by the statement inserting its row (both stamped with that
// statement's transaction time), once, on plaintext and on openbao.
func TestCreateAuditCommitsWithTheRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	s := w.store()
	const n = 6
	w.write("backends.yaml", w.backendYAML())
	w.write("secrets.yaml", w.secretsYAML(n, "bao")+w.secretsYAML(0, ""))
	w.write("plain.yaml", "---\napiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: plain}\nspec:\n  data:\n    KEY: {fromEnv: VAL_S000}\n")
	if _, res := w.mustApply(s); res.Failed() != 0 {
		t.Fatalf("apply: %v", res.Err())
	}
	var secrets, entries, withRow int
	err := s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM `+w.schema+`.secrets),
			count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM `+w.schema+`.secrets x WHERE x.name = a.name AND x.created_at = a.at))
		FROM `+w.schema+`.audit_log a WHERE a.kind = 'secret' AND a.action = 'create'`).Scan(&secrets, &entries, &withRow)
	if err != nil {
		t.Fatal(err)
	}
	// n on bao, the bao-token and "plain" on default.
	if secrets != n+2 || entries != n+2 || withRow != n+2 {
		t.Errorf("%d secrets, %d create entries, %d of them written with their row; want %d each", secrets, entries, withRow, n+2)
	}
}
