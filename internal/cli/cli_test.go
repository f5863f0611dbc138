package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/state"

	// The drivers cmd/mcpctl registers.
	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/plaintext"
)

// TestMain makes the test binary double as the mcpctl command (and a few
// helpers) inside test scripts, run as real subprocesses with real exit
// codes, and stops the servers testenv started.
func TestMain(m *testing.M) {
	testscript.Main(testenvMain{m}, map[string]func(){
		"mcpctl":   func() { os.Exit(Main()) },
		"holdlock": holdLock,
	})
}

// testenvMain runs the tests through testenv.Main, which stops the servers
// afterwards.
type testenvMain struct{ m *testing.M }

func (t testenvMain) Run() int { return testenv.Main(t.m) }

// TestScripts runs testdata/script/*.txtar: one script per command, each
// against its own fresh schema on the real Postgres.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			tb := env.T().(testing.TB)
			env.Values[tbKey{}] = tb
			url, schema := testenv.Schema(tb)
			env.Setenv("MCPCTL_DATABASE_URL", url)
			env.Setenv("MCPCTL_SCHEMA", schema)
			// A user's settings must not leak into the scripts.
			env.Setenv("DATABASE_URL", "")
			env.Setenv("NO_COLOR", "")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile":  waitFile,
			"vault":     vaultCmd,
			"envsubst":  envSubst,
			"exitcode":  exitCode,
			"vaultdel":  vaultDelete,
			"snakejson": snakeJSON,
			"sql":       sqlCmd,
		},
		RequireExplicitExec: true,
	})
}

// sqlCmd runs one statement on the script's schema as its owner and prints
// each row it returns on a line, columns separated by a space: for faults a
// script injects (a table that refuses writes) and to look at what mcpctl
// stored (a kept plaintext copy still in the data column). {s} in the
// statement is the quoted schema name, which is also the search_path.
//
//	sql STATEMENT
func sqlCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sql STATEMENT")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.Getenv("MCPCTL_DATABASE_URL"))
	if err != nil {
		ts.Fatalf("sql: %v", err)
	}
	defer conn.Close(ctx)
	schema := pgx.Identifier{ts.Getenv("MCPCTL_SCHEMA")}.Sanitize()
	if _, err := conn.Exec(ctx, "SET search_path TO "+schema); err != nil {
		ts.Fatalf("sql: %v", err)
	}
	rows, err := conn.Query(ctx, strings.ReplaceAll(args[0], "{s}", schema), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		ts.Fatalf("sql: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			ts.Fatalf("sql: %v", err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = fmt.Sprint(v)
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(cells, " "))
	}
	if err := rows.Err(); err != nil {
		ts.Fatalf("sql: %v", err)
	}
}

// tbKey finds the script's testing.TB in Env.Values, for commands that
// need testenv.
type tbKey struct{}

// waitFile waits for a background helper to signal readiness by creating a
// file. It synchronises, it does not time anything: the bound only keeps a
// broken helper from hanging the suite.
func waitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	ts.Fatalf("waitfile: %s did not appear", args[0])
}

// vaultCmd gives the script the real Vault server from testenv and a KV v2
// mount of its own, in $TEST_VAULT_ADDR, $TEST_VAULT_TOKEN (root) and
// $TEST_VAULT_MOUNT. The names avoid VAULT_*, which the openbao driver
// would pick up on its own.
//
//	vault                       set the variables
//	vault get PATH              print the KV v2 metadata of PATH under the mount:
//	                            current=N deleted=true|false plus owner metadata
//	vault put PATH K=V...       write PATH out of band (not owned by mcpctl)
func vaultCmd(ts *testscript.TestScript, neg bool, args []string) {
	tb := ts.Value(tbKey{}).(testing.TB)
	v := testenv.Vault(tb)
	if len(args) == 0 {
		ts.Setenv("TEST_VAULT_ADDR", v.Addr)
		ts.Setenv("TEST_VAULT_TOKEN", v.RootToken)
		ts.Setenv("TEST_VAULT_MOUNT", v.NewMount(tb))
		return
	}
	mount := ts.Getenv("TEST_VAULT_MOUNT")
	c := v.Client(tb)
	if args[0] == "put" && len(args) > 2 && !neg {
		data := map[string]any{}
		for _, kv := range args[2:] {
			k, val, _ := strings.Cut(kv, "=")
			data[k] = val
		}
		if _, err := c.KVv2(mount).Put(context.Background(), args[1], data); err != nil {
			ts.Fatalf("vault put %s: %v", args[1], err)
		}
		return
	}
	if args[0] != "get" || len(args) != 2 {
		ts.Fatalf("usage: vault [get PATH | put PATH K=V...]")
	}
	md, err := c.Logical().Read(mount + "/metadata/" + args[1])
	if err != nil {
		ts.Fatalf("vault get %s: %v", args[1], err)
	}
	if md == nil {
		if !neg {
			ts.Fatalf("vault get %s: no object", args[1])
		}
		return
	}
	if neg {
		ts.Fatalf("vault get %s: object exists", args[1])
	}
	cur := fmt.Sprint(md.Data["current_version"])
	versions, _ := md.Data["versions"].(map[string]any)
	ver, _ := versions[cur].(map[string]any)
	deleted := ver["deletion_time"] != nil && ver["deletion_time"] != ""
	owner := ""
	if cm, ok := md.Data["custom_metadata"].(map[string]any); ok {
		for k, v := range cm {
			if strings.Contains(k, "owner") || strings.Contains(k, "id") {
				owner += fmt.Sprintf(" %s=%v", k, v)
			}
		}
	}
	fmt.Fprintf(ts.Stdout(), "current=%s deleted=%v%s\n", cur, deleted, owner)
}

// holdLock is a helper process: it takes the schema's writer lock like a
// long apply would, creates the file named by its argument, and holds the
// lock until it is interrupted or its session is terminated.
func holdLock() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "holdlock:", err)
		os.Exit(1)
	}
	url, source := state.ResolveURL("")
	store, err := state.Open(ctx, state.Options{URL: url, Source: source, Schema: os.Getenv("MCPCTL_SCHEMA")})
	if err != nil {
		fail(err)
	}
	defer store.Close()
	l, err := store.Lock(ctx, state.LockOptions{Operation: "apply (holdlock)", Timeout: time.Minute, Holder: state.CurrentHolder("apply (holdlock)")})
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(os.Args[1], []byte("locked\n"), 0o600); err != nil {
		fail(err)
	}
	<-ctx.Done()
	_ = l.Release(context.Background())
	if !strings.HasPrefix(os.Args[0], "holdlock") {
		fail(fmt.Errorf("unexpected argv0 %s", os.Args[0]))
	}
}
