package apply_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/backends"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/plaintext"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// world is one test's installation: its own schema and its own KV mount on
// the real servers.
type world struct {
	t      *testing.T
	url    string
	schema string
	vault  *testenv.VaultServer
	mount  string
	dir    string
	env    map[string]string
	// vaultURL is where manifests point the bao backend (the real Vault, or
	// a fault-injecting proxy in front of it).
	vaultURL string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldOn(t, testenv.Vault(t))
}

func newWorldOn(t *testing.T, v *testenv.VaultServer) *world {
	t.Helper()
	url, schema := testenv.Schema(t)
	return &world{t: t, url: url, schema: schema, vault: v, mount: v.NewMount(t), dir: t.TempDir(),
		env: map[string]string{"BAO_TOKEN_VALUE": v.RootToken}, vaultURL: v.Addr}
}

func (w *world) store() *state.Store {
	w.t.Helper()
	s, err := state.Open(context.Background(), state.Options{URL: w.url, Schema: w.schema})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(s.Close)
	return s
}

// backendYAML declares the openbao backend "bao" whose token is the
// plaintext secret "bao-token".
func (w *world) backendYAML() string {
	return testenv.BaoBackendYAML(w.vaultURL, w.mount, "app", "BAO_TOKEN_VALUE")
}

// secretsYAML declares n managed secrets s000.. on backend.
func (w *world) secretsYAML(n int, backend string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("s%03d", i)
		env := "VAL_" + strings.ToUpper(name)
		w.env[env] = fmt.Sprintf("value-%d-ünï-%s", i, strings.Repeat("x", i%7))
		fmt.Fprintf(&b, "---\napiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: %s}\nspec:\n", name)
		if backend != "" {
			fmt.Fprintf(&b, "  backend: %s\n", backend)
		}
		fmt.Fprintf(&b, "  data:\n    KEY: {fromEnv: %s}\n", env)
	}
	return b.String()
}

func (w *world) write(name, content string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) lookupEnv(k string) (string, bool) {
	v, ok := w.env[k]
	return v, ok
}

func (w *world) load() *manifest.Set {
	w.t.Helper()
	set, err := manifest.Load(context.Background(), []string{w.dir}, manifest.LoadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return set
}

func (w *world) apply(ctx context.Context, s *state.Store) (*plan.Plan, *apply.Result, error) {
	w.t.Helper()
	return w.applyWith(ctx, s, apply.Engine{})
}

// applyWith is apply with engine settings (Parallelism, Failpoint...);
// Actor and LookupEnv are the world's.
func (w *world) applyWith(ctx context.Context, s *state.Store, eng apply.Engine) (*plan.Plan, *apply.Result, error) {
	w.t.Helper()
	pool := backends.New(s, s)
	defer pool.Close()
	eng.Actor, eng.LookupEnv = "test", w.lookupEnv
	return apply.Run(ctx, apply.RunOptions{
		Store: s, Pool: pool, Manifests: w.load(),
		PlanOptions: plan.Options{LookupEnv: w.lookupEnv},
		LockTimeout: 10 * time.Second,
		Engine:      eng,
	})
}

// moveAudits counts the ok audit entries of moves to backend to, and how
// many of them were written by the statement that completed their move
// (the journal entry closed done in the same transaction).
func (w *world) moveAudits(s *state.Store, to string) (entries, withMove int) {
	w.t.Helper()
	err := s.Pool().QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE EXISTS (
			SELECT 1 FROM `+w.schema+`.secret_migrations m
			WHERE m.secret_name = a.name AND m.to_backend = $1 AND m.state = 'done' AND m.updated_at = a.at))
		FROM `+w.schema+`.audit_log a WHERE a.action = 'migrate' AND a.outcome = 'ok' AND a.detail LIKE 'spec.backend is ' || $1 || '%'`, to).Scan(&entries, &withMove)
	if err != nil {
		w.t.Fatal(err)
	}
	return entries, withMove
}

func (w *world) mustApply(s *state.Store) (*plan.Plan, *apply.Result) {
	w.t.Helper()
	p, res, err := w.apply(context.Background(), s)
	if err != nil {
		w.t.Fatalf("apply: %v", err)
	}
	return p, res
}

// readAll reads every secret through its recorded placement, as consumers do.
func (w *world) readAll(s *state.Store) map[string]string {
	w.t.Helper()
	ctx := context.Background()
	pool := backends.New(s, s)
	defer pool.Close()
	rows, err := s.ListSecrets(ctx, false)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if r.Name == "bao-token" {
			continue
		}
		vals, err := pool.Read(ctx, r.Name)
		if err != nil {
			w.t.Fatalf("read %s from %s: %v", r.Name, r.BackendName, err)
		}
		v, _ := vals.Get("KEY")
		out[r.Name] = v
	}
	return out
}

func (w *world) wantValues(n int) map[string]string {
	out := map[string]string{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("s%03d", i)
		out[name] = w.env["VAL_"+strings.ToUpper(name)]
	}
	return out
}

func listenLocal(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
