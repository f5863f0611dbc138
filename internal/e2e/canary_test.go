package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// TestNoLeaks runs every command, on success and failure paths, in a world
// whose secret values are canaries — in env vars read by fromEnv, in a
// fromFile file, as a literal in a manifest, as --from-literal, in an env
// file, the Vault token, a database password — and asserts that none
// appears on stdout, stderr, in any file mcpctl writes, in any state column
// but secrets.data, or in the Vault metadata. It runs once with the secrets
// on the plaintext backend and once with them on OpenBao/Vault.
func TestNoLeaks(t *testing.T) {
	t.Parallel()
	for _, home := range []string{"default", "bao"} {
		t.Run("secrets-on-"+home, func(t *testing.T) {
			t.Parallel()
			testNoLeaks(t, home)
		})
	}
}

func testNoLeaks(t *testing.T, home string) {
	w := newWorld(t)
	lc := newLeakCheck(w)
	other := map[string]string{"default": "bao", "bao": "default"}[home]

	// Every run connects with a password in its URL (the test server
	// trusts local connections and ignores it): no command may print it.
	dbPassword := lc.canary("database password")
	if withPW := withPassword(w.pgURL, dbPassword); testenv.PingPostgres(withPW) == nil {
		w.dbURL = withPW
	} else {
		t.Logf("the test Postgres refuses a made-up password; the password canary is only checked on failing connections")
	}

	lc.secret("Vault token", w.vault.RootToken)
	w.setEnv("BAO_TOKEN", w.vault.RootToken)
	alphaEnv := lc.canary("fromEnv value")
	w.setEnv("ALPHA_ENV", alphaEnv)
	alphaFile := lc.canary("fromFile value")
	lc.input("m/files/alpha.txt", alphaFile)
	literal := lc.canary("literal value: in a manifest")

	lc.input("m/backends.yaml", testenv.BaoBackendYAML(w.vault.Addr, w.mount, "app", "BAO_TOKEN"))
	lc.input("m/alpha.yaml", fmt.Sprintf(`apiVersion: mcpctl/v1
kind: Secret
metadata: {name: alpha, labels: {team: canary}}
spec:
  backend: %s
  data:
    ENV_KEY: {fromEnv: ALPHA_ENV}
    FILE_KEY: {fromFile: files/alpha.txt}
`, home))
	beta := func(on string) string {
		return fmt.Sprintf(`apiVersion: mcpctl/v1
kind: Secret
metadata: {name: beta}
spec:
  backend: %s
  data:
    LIT: {value: %s}
`, on, literal)
	}
	debug := func(args ...string) []string { return append([]string{"--log-level", "debug"}, args...) }

	// Before anything exists.
	lc.expect(0, debug("db", "status")...)
	lc.expect(0, debug("db", "status", "-o", "json")...)

	// plan in every format, and saved.
	lc.expect(0, "plan", "-f", "m")
	lc.expect(0, debug("plan", "-f", "m")...)
	lc.expect(0, debug("plan", "-f", "m", "-o", "json")...)
	lc.expect(0, debug("plan", "-f", "m", "-o", "markdown")...)
	lc.expect(2, debug("plan", "-f", "m", "--detailed-exitcode")...)
	lc.expect(0, debug("plan", "-f", "m", "--out", lc.plan("first.plan"))...)
	lc.expect(0, debug("plan", "-f", "m", "-o", "json", "--out", lc.plan("first-json.plan"))...)

	// apply without a terminal and without --auto-approve is refused.
	lc.expect(1, debug("apply", "-f", "m")...)
	// apply the saved plan.
	lc.expect(0, debug("apply", "--auto-approve", filepath.Join(w.dir, "first.plan"))...)
	// The second saved plan is now stale.
	lc.expect(1, debug("apply", "--auto-approve", filepath.Join(w.dir, "first-json.plan"))...)
	lc.expect(0, debug("plan", "-f", "m", "--detailed-exitcode")...)

	// A literal value: saved plans do not carry it, so plan --out refuses
	// to save one that needs it; applying the manifests works.
	lc.input("m/beta.yaml", beta(home))
	lc.expect(1, debug("plan", "-f", "m", "--out", filepath.Join(w.dir, "literal.plan"))...)
	lc.expect(0, "apply", "-f", "m", "--auto-approve")
	lc.expect(0, debug("plan", "-f", "m", "--detailed-exitcode")...)

	// In sync: drift finds nothing; graph draws the placement.
	lc.expect(0, debug("drift")...)
	lc.expect(0, debug("drift", "-o", "json")...)
	lc.expect(0, debug("drift", "-f", "m")...)
	lc.expect(0, debug("graph")...)
	lc.expect(0, debug("graph", "-o", "dot")...)
	lc.expect(0, debug("graph", "-f", "m", "-o", "mermaid")...)

	// Positive controls: the values really are where the manifests say.
	env := lc.expectValuesOut(0, "env", "--secret", "alpha,beta", "-o", "json")
	mustContain(t, "env -o json", env.stdout, alphaEnv, alphaFile, literal)

	// Reading commands, every format.
	for _, args := range [][]string{
		{"get", "secretbackends"}, {"get", "secrets"}, {"get", "all"},
		{"get", "secret", "alpha"}, {"get", "secretbackend", "bao"},
	} {
		for _, o := range []string{"table", "yaml", "json"} {
			lc.expect(0, debug(append(args, "-o", o)...)...)
		}
	}
	lc.expect(0, debug("describe", "secretbackend", "bao")...)
	lc.expect(0, debug("describe", "secretbackend", "default")...)
	lc.expect(0, debug("describe", "secret", "alpha")...)
	lc.expect(0, debug("describe", "secret", "beta")...)
	lc.expect(0, debug("describe", "secret", "bao-token")...)
	lc.expect(1, debug("describe", "secret", "nope")...)

	// What get -o yaml prints is applied back as no change.
	y := lc.expect(0, "get", "all", "-o", "yaml")
	lc.input("roundtrip/all.yaml", y.stdout) // its stdout is checked above
	lc.expect(0, debug("plan", "-f", "roundtrip", "--detailed-exitcode")...)

	// create: from literals, from an env file, from stdin; a taken name and
	// malformed literals are refused without echoing the value.
	created := lc.canary("--from-literal value")
	lc.expect(0, debug("create", "secret", "delta", "--backend", home, "--from-literal", "K="+created)...)
	lc.expect(1, debug("create", "secret", "delta", "--backend", home, "--from-literal", "K="+lc.canary("--from-literal value (refused: name taken)"))...)
	lc.expect(1, debug("create", "secret", "eps", "--from-literal", lc.canary("--from-literal without KEY="))...)
	lc.expect(1, debug("create", "secret", "eps", "--from-literal", "bad key="+lc.canary("--from-literal with a bad key"))...)
	lc.expect(1, debug("create", "secret", "eps", "--backend", "nope", "--from-literal", "K="+lc.canary("--from-literal for an unknown backend"))...)
	lc.expect(1, debug("create", "secret", "Bad_Name", "--from-literal", "K="+lc.canary("--from-literal for a bad name"))...)
	envFile := lc.canary("--from-env-file value")
	lc.input("in/eps.env", "# canaries\nEPS_KEY="+envFile+"\n")
	lc.expect(0, debug("create", "secret", "eps", "--backend", home, "--from-env-file", "in/eps.env")...)
	lc.input("in/bad.env", "OK=1\nBROKEN='"+lc.canary("unterminated quote in an env file")+"\n")
	lc.expect(1, debug("create", "secret", "zeta", "--from-env-file", "in/bad.env")...)
	lc.expectWith(0, invocation{args: debug("create", "secret", "eta", "--backend", home, "--from-env-file", "-"),
		stdin: "ETA=" + lc.canary("--from-env-file - (stdin) value") + "\n"})
	got := lc.expectValuesOut(0, "env", "--secret", "delta,eps")
	mustContain(t, "env dotenv", got.stdout, created, envFile)

	// The imperative migration: dry run, refused without a terminal, done,
	// killed half-way and resumed; refused for unknown backends.
	lc.expect(0, debug("migrate", "secrets", "--from", home, "--to", other, "--names", "delta,eps", "--dry-run")...)
	// Everything off default leaves bao's own token there (a warning), and
	// --keep-source / --cleanup print no value either.
	lc.expect(0, debug("migrate", "secrets", "--from", home, "--to", other, "--dry-run")...)
	lc.expect(0, debug("migrate", "secrets", "--from", home, "--to", other, "--keep-source", "--dry-run")...)
	lc.expect(0, debug("migrate", "secrets", "--cleanup", "--dry-run")...)
	lc.expect(1, debug("migrate", "secrets", "--from", home, "--to", other, "--names", "delta,eps")...)
	lc.expect(0, debug("migrate", "secrets", "--from", home, "--to", other, "--names", "delta,eps", "--auto-approve")...)
	lc.expect(0, debug("graph", "-f", "m")...)
	lc.expectWith(97, invocation{args: debug("migrate", "secrets", "--from", home, "--to", other, "--names", "eta", "--auto-approve"),
		env: map[string]string{"MCPCTL_FAILPOINT": "migrate.written"}})
	lc.expect(2, debug("drift")...) // the interrupted migration is a leftover
	lc.expect(0, debug("migrate", "secrets", "--from", home, "--to", other, "--names", "eta", "--auto-approve")...)
	lc.expect(1, debug("migrate", "secrets", "--from", home, "--to", "nope", "--names", "eta", "--auto-approve")...)
	lc.expect(1, debug("migrate", "secrets", "--from", "nope", "--to", home, "--auto-approve")...)
	got = lc.expectValuesOut(0, "env", "--secret", "delta,eps,eta")
	mustContain(t, "env after migrate secrets", got.stdout, created, envFile)

	// exec and env: only stderr is checked (stdout and the child carry values).
	lc.expectValuesOut(0, debug("exec", "--secret", "alpha", "--secret", "delta", "--", "true")...)
	lc.expectValuesOut(3, debug("exec", "--secret", "alpha", "--", "sh", "-c", "exit 3")...)
	lc.expectValuesOut(0, debug("exec", "--secret", "alpha", "--secret", "beta", "--", "printenv", "ENV_KEY")...)
	lc.expectValuesOut(1, debug("exec", "--secret", "nope", "--", "true")...)
	lc.expectValuesOut(127, debug("exec", "--secret", "alpha", "--", "no-such-command-e2e")...)
	lc.expectValuesOut(0, debug("env", "--secret", "alpha")...)
	lc.expectValuesOut(0, debug("env", "--secret", "alpha", "-o", "json")...)
	lc.expectValuesOut(1, debug("env", "--secret", "alpha", "-o", "yaml")...)
	lc.expectValuesOut(1, debug("env", "--secret", "nope")...)

	// A changed value is a write; plan shows it without the value.
	w.setEnv("ALPHA_ENV", lc.canary("fromEnv value, changed"))
	lc.expect(2, debug("plan", "-f", "m", "--detailed-exitcode", "-o", "json")...)
	lc.expect(0, debug("plan", "-f", "m", "-o", "markdown", "--out", lc.plan("write.plan"))...)
	lc.expect(0, debug("apply", "-f", "m", "--auto-approve")...)
	// A saved plan whose resources moved since is refused, naming them.
	lc.expect(1, debug("apply", "--auto-approve", filepath.Join(w.dir, "write.plan"))...)
	// fromEnv naming an unset variable.
	w.unsetEnv("ALPHA_ENV")
	lc.expect(1, debug("plan", "-f", "m")...)
	lc.expect(1, debug("apply", "-f", "m", "--auto-approve")...)
	w.setEnv("ALPHA_ENV", lc.canary("fromEnv value, changed again"))

	// A migration through the manifests: beta moves to the other backend,
	// first killed right after the copy is written, then converged.
	lc.input("m/beta.yaml", beta(other))
	lc.expect(0, debug("plan", "-f", "m")...)
	lc.expect(0, debug("plan", "-f", "m", "-o", "json")...)
	lc.expect(0, debug("plan", "-f", "m", "-o", "markdown")...)
	lc.expectWith(97, invocation{args: debug("apply", "-f", "m", "--auto-approve"),
		env: map[string]string{"MCPCTL_FAILPOINT": "migrate.written"}})
	lc.expect(0, debug("lock", "status")...)
	lc.expect(0, debug("plan", "-f", "m")...)
	lc.expect(0, debug("apply", "-f", "m", "--auto-approve")...)
	lc.expect(0, debug("plan", "-f", "m", "--detailed-exitcode")...)
	env = lc.expectValuesOut(0, "env", "--secret", "beta")
	mustContain(t, "env after the migration", env.stdout, literal)

	// Changes made behind mcpctl's back: plan and get report them, not the
	// values.
	outside := lc.canary("value written outside mcpctl")
	w.editOutside(home, "alpha", "ENV_KEY", outside)
	lc.expect(2, debug("drift")...)
	lc.expect(2, debug("drift", "-o", "json")...)
	lc.expect(2, debug("drift", "-f", "m")...)
	lc.expect(0, debug("graph", "-f", "m", "-o", "dot")...)
	lc.expect(0, debug("plan", "-f", "m")...)
	lc.expect(0, debug("plan", "-f", "m", "-o", "json")...)
	lc.expect(0, debug("describe", "secret", "alpha")...)
	lc.expect(0, debug("get", "secret", "alpha", "-o", "yaml")...)
	lc.expect(0, debug("apply", "-f", "m", "--auto-approve")...)
	lc.expect(2, debug("drift", "-f", "m")...) // delta, eps, eta are unmanaged

	// Failing applies: a backend nobody answers on, a backend whose token
	// is wrong; each with a secret whose value is a canary.
	w.setEnv("BROKEN_ENV", lc.canary("fromEnv value for an unreachable backend"))
	w.setEnv("BADTOKEN_VALUE", lc.canary("wrong Vault token"))
	w.setEnv("UNREACHABLE_TOKEN", lc.canary("token of an unreachable Vault"))
	w.setEnv("BADTOK_ENV", lc.canary("fromEnv value for a backend with a wrong token"))
	lc.input("broken/all.yaml", fmt.Sprintf(`apiVersion: mcpctl/v1
kind: SecretBackend
metadata: {name: unreachable}
spec:
  type: openbao
  config:
    url: http://127.0.0.1:1
    mount: %[1]s
    auth: {method: token, tokenSecretRef: {name: unreachable-token, key: token}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: unreachable-token}
spec:
  data: {token: {fromEnv: UNREACHABLE_TOKEN}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: on-unreachable}
spec:
  backend: unreachable
  data: {K: {fromEnv: BROKEN_ENV}}
---
apiVersion: mcpctl/v1
kind: SecretBackend
metadata: {name: badtok}
spec:
  type: openbao
  config:
    url: %[2]s
    mount: %[1]s
    pathPrefix: badtok
    auth: {method: token, tokenSecretRef: {name: badtok-token, key: token}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: badtok-token}
spec:
  backend: default
  data: {token: {fromEnv: BADTOKEN_VALUE}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: on-badtok}
spec:
  backend: badtok
  data: {K: {fromEnv: BADTOK_ENV}}
`, w.mount, w.vault.Addr))
	lc.expect(0, debug("plan", "-f", "m", "-f", "broken")...)
	lc.expect(1, debug("apply", "-f", "m", "-f", "broken", "--auto-approve")...)
	lc.expect(1, debug("plan", "-f", "m", "-f", "broken")...)
	lc.expect(1, debug("plan", "-f", "m", "-f", "broken", "-o", "json")...)
	lc.expect(1, debug("apply", "-f", "m", "-f", "broken", "--auto-approve")...)
	// A failed live check: describe prints it and exits 1.
	lc.expect(1, debug("describe", "secretbackend", "unreachable")...)
	lc.expect(1, debug("describe", "secretbackend", "badtok")...)
	lc.expect(1, debug("create", "secret", "theta", "--backend", "badtok", "--from-literal", "K="+lc.canary("--from-literal for a backend with a wrong token"))...)
	lc.expect(1, debug("create", "secret", "theta", "--backend", "unreachable", "--from-literal", "K="+lc.canary("--from-literal for an unreachable backend"))...)
	lc.expectValuesOut(1, debug("exec", "--secret", "on-badtok", "--", "true")...)
	lc.expectValuesOut(1, debug("env", "--secret", "on-unreachable")...)
	lc.expect(1, debug("drift", "-f", "m", "-f", "broken")...)
	lc.expect(1, debug("graph", "-f", "m", "-f", "broken")...)
	lc.expect(1, debug("migrate", "secrets", "--from", other, "--to", "unreachable", "--names", "eta", "--auto-approve")...)
	lc.expect(1, debug("migrate", "secrets", "--from", other, "--to", "badtok", "--names", "eta", "--auto-approve")...)

	// Manifests that are wrong where values are written: the errors name
	// the place, never the value.
	lc.input("badvals/plain.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p1}\nspec:\n  data:\n    K: "+lc.canary("plain string where a value source belongs")+"\n")
	lc.input("badvals/list.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p2}\nspec:\n  data:\n    K: {value: ["+lc.canary("value of the wrong type")+"]}\n")
	lc.input("badvals/two.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p3}\nspec:\n  data:\n    K: {value: "+lc.canary("value next to fromEnv")+", fromEnv: X}\n")
	lc.input("badvals/unknown.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p4}\nspec:\n  data:\n    K: {valu: "+lc.canary("misspelt value key")+"}\n")
	lc.input("badvals/dupkey.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p5}\nspec:\n  data:\n    K: {value: "+lc.canary("duplicate key, first")+"}\n    K: {value: "+lc.canary("duplicate key, second")+"}\n")
	lc.input("badvals/syntax.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p6}\nspec:\n  data:\n    K: {value: "+lc.canary("value on a line with a syntax error")+": x}\n")
	lc.input("badvals/quote.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p7}\nspec:\n  data:\n    K: {value: \""+lc.canary("value in an unterminated quote")+"}\n")
	lc.input("badvals/tab.yaml", "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p8}\nspec:\n  data:\n\tK: {value: "+lc.canary("value after a tab")+"}\n")
	lc.input("badvals/legacy.yaml", "kind: secret\nname: p9\ndata:\n  K: "+lc.canary("value in a legacy document with an unknown field")+"\nunknownfield: x\n")
	lc.input("badvals/envfile.json", `{"apiVersion": "mcpctl/v1", "kind": "Secret", "metadata": {"name": "p10"}, "spec": {"data": {"K": {"value": "`+lc.canary("value in broken JSON")+`"}}`)
	for _, f := range []string{"plain", "list", "two", "unknown", "dupkey", "syntax", "quote", "tab", "legacy"} {
		lc.expect(1, debug("plan", "-f", "badvals/"+f+".yaml")...)
	}
	lc.expect(1, debug("plan", "-f", "badvals/envfile.json")...)
	lc.expect(1, debug("apply", "-f", "badvals", "--auto-approve")...)
	lc.expect(1, debug("plan", "-f", "badvals", "-o", "json")...)
	lc.expectWith(1, invocation{args: debug("plan", "-f", "-"), stdin: "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: p11}\nspec:\n  data:\n    K: " + lc.canary("plain value from stdin") + "\n"})

	// Connections that fail, with a password in the URL or DSN.
	badURLs := []string{
		"postgres://mcpctl:" + lc.canary("password of an unreachable database") + "@127.0.0.1:1/mcpctl?connect_timeout=2",
		"postgres://mcpctl:" + lc.canary("password in a malformed URL") + "@127.0.0.1:notaport/mcpctl",
		"host=127.0.0.1 port=1 user=mcpctl connect_timeout=2 password=" + lc.canary("password in a DSN"),
		"postgres://mcpctl:" + lc.canary("password with a bad option") + "@127.0.0.1:1/mcpctl?sslmode=bogus",
		withPassword(strings.Replace(w.pgURL, "/postgres?", "/no_such_db_e2e?", 1), lc.canary("password for a missing database")),
	}
	for _, u := range badURLs {
		for _, args := range [][]string{
			{"plan", "-f", "m"}, {"apply", "-f", "m", "--auto-approve"}, {"get", "secrets"},
			{"db", "status"}, {"lock", "status"}, {"history"}, {"drift"}, {"graph"},
			{"migrate", "secrets", "--from", home, "--to", other, "--auto-approve"},
		} {
			lc.expect(1, debug(append([]string{"--database-url", u}, args...)...)...)
		}
		lc.expectWith(1, invocation{args: debug("describe", "secret", "alpha"), env: map[string]string{"MCPCTL_DATABASE_URL": u}})
		lc.expectWith(1, invocation{args: debug("db", "status"), env: map[string]string{"MCPCTL_DATABASE_URL": "", "DATABASE_URL": u}})
		lc.expectValuesOut(1, debug("--database-url", u, "exec", "--secret", "alpha", "--", "true")...)
	}

	// Administrative and audit commands.
	lc.expect(0, debug("history")...)
	lc.expect(0, debug("history", "-n", "200", "-o", "json")...)
	lc.expect(0, debug("lock", "status")...)
	lc.expect(0, debug("lock", "status", "-o", "json")...)
	lc.expect(0, debug("db", "status")...)
	lc.expect(0, debug("db", "status", "-o", "json")...)
	lc.expect(0, debug("db", "migrate")...)

	// delete: a secret, one that does not exist, a backend that holds
	// secrets (refused), an empty one.
	lc.expect(0, debug("delete", "secret", "delta")...)
	lc.expect(1, debug("delete", "secret", "delta")...)
	lc.expect(1, debug("delete", "secretbackend", "bao")...)
	lc.expect(0, debug("delete", "secret", "eta")...)

	// Everything mcpctl keeps outside the value column, and every file it
	// wrote, must be free of canaries too.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stateText, err := w.dumpPostgres(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	lc.add("state tables (every column but secrets.data)", stateText)
	vaultMeta, err := w.dumpVault(ctx, t)
	if err != nil {
		t.Fatal(err)
	}
	lc.add("Vault metadata of the mount", vaultMeta)
	files := lc.scanFiles()
	if home == "default" {
		values, err := w.dumpPostgres(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		mustContain(t, "secrets.data (positive control)", values, alphaFile)
	}

	lc.verify()
	t.Logf("no-leak figures (secrets on %s): %d commands run, %d canaries, %d outputs searched (%d files written), %d canary checks, %d leaks",
		home, lc.commands, len(lc.canaries), len(lc.outputs), files, len(lc.outputs)*len(lc.canaries), lc.leaks)
}

// plan names a saved-plan file in the world's folder and remembers it for
// the mode check.
func (lc *leakCheck) plan(name string) string {
	p := filepath.Join(lc.w.dir, name)
	lc.planned = append(lc.planned, p)
	return p
}

// editOutside changes one key of a secret behind mcpctl's back: in the row
// on the plaintext backend, or as a new version of the object in Vault.
func (w *world) editOutside(backend, secret, key, value string) {
	w.t.Helper()
	ctx := context.Background()
	if backend == "default" {
		c, err := pgx.Connect(ctx, w.pgURL)
		if err != nil {
			w.t.Fatal(err)
		}
		defer c.Close(ctx)
		q := fmt.Sprintf(`UPDATE %s SET data = jsonb_set(data, ARRAY[$2::text], to_jsonb($3::text)) WHERE name = $1`,
			pgx.Identifier{w.schema, "secrets"}.Sanitize())
		tag, err := c.Exec(ctx, q, secret, key, value)
		if err != nil || tag.RowsAffected() != 1 {
			w.t.Fatalf("edit %s outside mcpctl: %v (%d rows)", secret, err, tag.RowsAffected())
		}
		return
	}
	kv := w.vault.Client(w.t).KVv2(w.mount)
	cur, err := kv.Get(ctx, "app/"+secret)
	if err != nil {
		w.t.Fatalf("edit %s outside mcpctl: %v", secret, err)
	}
	data := cur.Data
	data[key] = value
	if _, err := kv.Put(ctx, "app/"+secret, data); err != nil {
		w.t.Fatalf("edit %s outside mcpctl: %v", secret, err)
	}
}
