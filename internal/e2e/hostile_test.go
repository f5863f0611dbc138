package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpctl/mcpctl/internal/testenv"
	"github.com/mcpctl/mcpctl/pkg/manifest"
)

// hostileTimeout bounds one command of the corpus: a hostile input must be
// refused quickly (an input that makes mcpctl hang — a FIFO, /dev/zero, a
// symlink loop — fails the case instead of stalling the package).
const hostileTimeout = 30 * time.Second

// hostileCase is one malformed input: manifests (committed under
// testdata/hostile/NAME, or made at test time by setup), the commands to
// run on them, and what every command's error must say.
type hostileCase struct {
	name string
	// src is the committed folder; its files other than want and args are
	// the manifests, copied with $VAULT_ADDR and $VAULT_MOUNT filled in.
	src string
	// setup writes generated inputs (too large, or not files git can hold)
	// into dir.
	setup func(t *testing.T, w *world, dir string)
	// want lists fragments each command's stderr must contain: the place
	// (file:line, flag, resource) and what is wrong.
	want []string
	// cmds are the command lines; $DIR is the case's folder, $GOOD a folder
	// of valid manifests (so a bad flag is the only problem). Default:
	// plan -f $DIR, and apply -f $DIR --auto-approve.
	cmds []string
	// values: the refusal comes from reading the values (file "values" in
	// the case folder). Plan reads them too (an unset fromEnv is a plan-time
	// error, DESIGN.md §2), also on a never-initialised schema; only a
	// viewer role, which may not read the fingerprint key, skips them.
	values bool
	// populatedOnly: only hostile where the state holds what the case
	// contradicts (file "populated-only").
	populatedOnly bool
}

var defaultHostileCommands = []string{"plan -f $DIR", "apply -f $DIR --auto-approve"}

// TestHostileInput runs every case of the corpus against two installations
// — one populated by a real apply (secrets on Postgres and on Vault), one
// never initialised — and checks each command exits 1 naming the place,
// and that neither Postgres nor Vault changed.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	cases := append(loadHostileCorpus(t), generatedHostileCases()...)
	committed := 0
	for _, c := range cases {
		if c.src != "" {
			committed++
		}
	}
	if committed < 50 {
		t.Errorf("the committed corpus has %d cases, want at least 50", committed)
	}
	var tried, commands atomic.Int64

	// One populated installation shared by every case: any change shows
	// in the next snapshot taken.
	t.Run("populated", func(t *testing.T) {
		t.Parallel()
		w := newHostileWorld(t, true)
		baseline := w.snapshot()
		t.Run("cases", func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					diff, n := runHostileCase(t, w, c, baseline)
					if diff != "" {
						t.Errorf("state changed (by this case, or one running at the same time: rerun with -run 'TestHostileInput/populated/cases/%s$' to tell):\n%s", c.name, diff)
					}
					tried.Add(1)
					commands.Add(int64(n))
				})
			}
		})
		if diff := baseline.diff(w.snapshot()); diff != "" {
			t.Errorf("after the whole corpus, state differs from before it:\n%s", diff)
		}
	})

	// Never initialised: each case gets a schema name of its own (nothing
	// to create, as nothing may be written), so a case that initialises
	// the schema is caught by name. They share one empty KV mount.
	t.Run("uninitialised", func(t *testing.T) {
		t.Parallel()
		shared := newHostileWorld(t, false)
		var mu sync.Mutex
		var initialised []string
		t.Run("cases", func(t *testing.T) {
			for _, c := range cases {
				if c.populatedOnly {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					w := shared.withNewSchema(t)
					baseline := w.snapshotFor(t)
					diff, n := runHostileCase(t, w, c, baseline)
					switch {
					case diff == "":
					case onlyInitialised(baseline, w.snapshotFor(t)):
						mu.Lock()
						initialised = append(initialised, c.name)
						mu.Unlock()
					default:
						t.Errorf("state changed:\n%s", diff)
					}
					tried.Add(1)
					commands.Add(int64(n))
				})
			}
		})
		if len(initialised) > 0 {
			sort.Strings(initialised)
			t.Errorf("apply refused the input but initialised the never-initialised schema (tables, bootstrap backend, fingerprint key) "+
				"in %d cases: it migrates the schema before it has a plan to run (pkg/apply/run.go, Run: Store.Migrate before plan.Compute / the saved-plan checks):\n  %s",
				len(initialised), strings.Join(initialised, "\n  "))
		}
	})
	t.Cleanup(func() {
		t.Logf("hostile-input figures: %d cases (%d committed, %d generated), %d case runs over 2 installations, %d commands run, each with a before/after snapshot",
			len(cases), committed, len(cases)-committed, tried.Load(), commands.Load())
	})
}

// newHostileWorld is an installation to attack: with populated, the valid
// manifests are applied first, so there are rows, a Vault backend and
// objects that a bad run could damage.
func newHostileWorld(t *testing.T, populated bool) *world {
	w := newWorld(t)
	w.setEnv("BAO_TOKEN", w.vault.RootToken)
	w.setEnv("GOOD_VAL", "good-value-"+testenv.RandHex(4))
	w.write("good/backends.yaml", testenv.BaoBackendYAML(w.vault.Addr, w.mount, "app", "BAO_TOKEN"))
	w.write("good/secrets.yaml", `apiVersion: mcpctl/v1
kind: Secret
metadata: {name: on-default, labels: {team: a}, annotations: {mcpctl/prevent-destroy: "true"}}
spec:
  data: {K: {fromEnv: GOOD_VAL}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: on-bao, labels: {team: b}}
spec:
  backend: bao
  data: {K: {fromEnv: GOOD_VAL}}
`)
	if populated {
		if r := w.run("apply", "-f", "good", "--auto-approve"); r.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", r, r.code, r.stdout, r.stderr)
		}
		if r := w.run("plan", "-f", "good", "--detailed-exitcode"); r.code != 0 {
			t.Fatalf("%s: exit %d, want 0 (the valid manifests must be in sync before the attack)\n%s%s", r, r.code, r.stdout, r.stderr)
		}
	}
	return w
}

// runHostileCase runs a case's commands and checks each, then compares the
// world with baseline. It returns the difference ("" if none) and how many commands it
// ran.
func runHostileCase(t *testing.T, w *world, c hostileCase, baseline snapshot) (string, int) {
	dir := filepath.Join(t.TempDir(), "case")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if c.src != "" {
		copyCase(t, w, c.src, dir)
	}
	if c.setup != nil {
		c.setup(t, w, dir)
	}
	cmds := c.cmds
	if len(cmds) == 0 {
		cmds = defaultHostileCommands
	}
	good := filepath.Join(w.dir, "good")
	for _, line := range cmds {
		var args []string
		for _, f := range strings.Fields(line) {
			f = strings.ReplaceAll(f, "$DIR", dir)
			f = strings.ReplaceAll(f, "$GOOD", good)
			args = append(args, f)
		}
		r := w.exec(t, invocation{args: args, dir: dir, timeout: hostileTimeout})
		if os.Getenv("MCPCTL_E2E_SHOW") != "" {
			t.Logf("%s -> exit %d\nstderr:\n%s", r, r.code, clip(r.stderr))
		}
		problems := checkRefusal(r, c.want)
		if len(problems) > 0 {
			t.Errorf("%s:\n  %s\nstdout:\n%s\nstderr:\n%s", r, strings.Join(problems, "\n  "), clip(r.stdout), clip(r.stderr))
		}
	}
	return baseline.diff(w.snapshotFor(t)), len(cmds)
}

// onlyInitialised reports whether the change from before to after is the
// schema being created and nothing else: no secret, no other backend, no
// audit entry, no journal, nothing in Vault.
func onlyInitialised(before, after snapshot) bool {
	if !strings.HasPrefix(before.postgres, "(no tables") || before.vault != after.vault {
		return false
	}
	for _, l := range strings.Split(after.postgres, "\n") {
		for _, p := range []string{"secrets: ", "audit_log: ", "lock_holder: ", "secret_migrations: "} {
			if strings.HasPrefix(l, p) {
				return false
			}
		}
		if strings.HasPrefix(l, "backends: ") && !strings.Contains(l, `"name": "default"`) {
			return false
		}
	}
	return true
}

// withNewSchema is the world with another (never created) schema, for one
// subtest; the Vault mount, folders and environment are shared.
func (w *world) withNewSchema(t *testing.T) *world {
	_, schema := testenv.Schema(t)
	w.mu.Lock()
	env := maps.Clone(w.env)
	w.mu.Unlock()
	return &world{t: w.t, pgURL: w.pgURL, dbURL: w.dbURL, schema: schema, vault: w.vault, mount: w.mount,
		dir: w.dir, home: w.home, env: env}
}

// checkRefusal lists how r fails to be a clean refusal: exit 1, an error
// on stderr with every wanted fragment, no stack trace.
func checkRefusal(r result, want []string) []string {
	var problems []string
	if r.code != 1 {
		problems = append(problems, fmt.Sprintf("exit %d, want 1", r.code))
	}
	if !strings.Contains(r.stderr, "Error") {
		problems = append(problems, "no error message on stderr")
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			problems = append(problems, fmt.Sprintf("stderr does not say %q", w))
		}
	}
	for _, trace := range []string{"panic:", "goroutine ", ".go:"} {
		if strings.Contains(r.stderr, trace) {
			problems = append(problems, fmt.Sprintf("stderr holds a stack trace or source position (%q)", trace))
		}
	}
	return problems
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + fmt.Sprintf("\n… (%d bytes more)", len(s)-4000)
	}
	return s
}

// loadHostileCorpus reads testdata/hostile: one folder per case, with a
// want file (fragments, one a line) and an optional args file (command
// lines, one a line).
func loadHostileCorpus(t *testing.T) []hostileCase {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("testdata", "hostile"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []hostileCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		src := filepath.Join("testdata", "hostile", e.Name())
		c := hostileCase{name: e.Name(), src: src}
		c.want = readLines(t, filepath.Join(src, "want"))
		if len(c.want) == 0 {
			t.Errorf("%s: the want file names no fragment; every case must say what the error names", src)
		}
		if _, err := os.Stat(filepath.Join(src, "args")); err == nil {
			c.cmds = readLines(t, filepath.Join(src, "args"))
		}
		c.values = exists(filepath.Join(src, "values"))
		c.populatedOnly = exists(filepath.Join(src, "populated-only"))
		cases = append(cases, c)
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// caseFiles are a case folder's files that describe it, not inputs.
var caseFiles = map[string]bool{"want": true, "args": true, "values": true, "populated-only": true}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// copyCase copies a committed case's manifests (not want and args) into
// dir, pointing them at this world's Vault.
func copyCase(t *testing.T, w *world, src, dir string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if caseFiles[rel] {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "$VAULT_ADDR", w.vault.Addr)
		s = strings.ReplaceAll(s, "$VAULT_MOUNT", w.mount)
		return os.WriteFile(filepath.Join(dir, rel), []byte(s), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// generatedHostileCases are the inputs too large to commit, or that git
// cannot hold (FIFOs, symlinks out of the tree), made at test time.
func generatedHostileCases() []hostileCase {
	secret := func(name, spec string) string {
		return "apiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: " + name + "}\nspec: " + spec + "\n"
	}
	writeFile := func(t *testing.T, p string, b []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	symlink := func(t *testing.T, target, p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	mkfifo := func(t *testing.T, p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatalf("mkfifo %s: %v", p, err)
		}
	}
	return []hostileCase{
		{
			name: "gen-huge-file", want: []string{"a.yaml", "larger than the limit"},
			setup: func(t *testing.T, _ *world, dir string) {
				// 9 MiB of comments after a valid document: over the 8 MiB limit.
				b := []byte(secret("x", "{}"))
				line := "# " + strings.Repeat("x", 1021) + "\n"
				b = append(b, strings.Repeat(line, 9*1024)...)
				writeFile(t, filepath.Join(dir, "a.yaml"), b)
			},
		},
		{
			name: "gen-deep-nesting-flow", want: []string{"a.yaml:"},
			setup: func(t *testing.T, _ *world, dir string) {
				n := 100_000
				doc := "apiVersion: mcpctl/v1\nkind: SecretBackend\nmetadata: {name: deep}\nspec:\n  type: plaintext\n  config: {x: " +
					strings.Repeat("[", n) + strings.Repeat("]", n) + "}\n"
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(doc))
			},
		},
		{
			name: "gen-deep-nesting-block", want: []string{"a.yaml:"},
			setup: func(t *testing.T, _ *world, dir string) {
				var b strings.Builder
				b.WriteString("apiVersion: mcpctl/v1\nkind: SecretBackend\nmetadata: {name: deep}\nspec:\n  type: plaintext\n  config:\n")
				for i := 0; i < 500; i++ {
					fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", 4+2*i), i)
				}
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(b.String()))
			},
		},
		{
			name: "gen-too-many-documents", want: []string{"a.yaml", "documents"},
			setup: func(t *testing.T, _ *world, dir string) {
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(strings.Repeat("---\n", manifest.DefaultLimits().MaxDocuments+2)))
			},
		},
		{
			name: "gen-fromfile-oversize", values: true, want: []string{"a.yaml:", "spec.data.K", "files/big.txt", "larger than"},
			setup: func(t *testing.T, _ *world, dir string) {
				writeFile(t, filepath.Join(dir, "files", "big.txt"), make([]byte, 1<<20+1))
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(secret("x", "{data: {K: {fromFile: files/big.txt}}}")))
			},
		},
		{
			name: "gen-fromfile-symlink-escape", values: true, want: []string{"a.yaml:", "spec.data.K", "files/link", "escapes"},
			setup: func(t *testing.T, _ *world, dir string) {
				symlink(t, "/etc/passwd", filepath.Join(dir, "files", "link"))
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(secret("x", "{data: {K: {fromFile: files/link}}}")))
			},
		},
		{
			name: "gen-fromfile-symlink-dir-escape", values: true, want: []string{"a.yaml:", "spec.data.K", "files/etc/passwd", "escapes"},
			setup: func(t *testing.T, _ *world, dir string) {
				symlink(t, "/etc", filepath.Join(dir, "files", "etc"))
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(secret("x", "{data: {K: {fromFile: files/etc/passwd}}}")))
			},
		},
		{
			name: "gen-fromfile-dev-zero", values: true, want: []string{"a.yaml:", "spec.data.K", "zero"},
			setup: func(t *testing.T, _ *world, dir string) {
				symlink(t, "/dev/zero", filepath.Join(dir, "zero"))
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(secret("x", "{data: {K: {fromFile: zero}}}")))
			},
		},
		{
			name: "gen-fromfile-fifo", values: true, want: []string{"a.yaml:", "spec.data.K", "files/pipe", "not a regular file"},
			setup: func(t *testing.T, _ *world, dir string) {
				mkfifo(t, filepath.Join(dir, "files", "pipe"))
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(secret("x", "{data: {K: {fromFile: files/pipe}}}")))
			},
		},
		{
			// Skipped by the walk (not a regular file): the set is empty.
			name: "gen-manifest-fifo", want: []string{"empty"},
			setup: func(t *testing.T, _ *world, dir string) {
				mkfifo(t, filepath.Join(dir, "a.yaml"))
			},
		},
		{
			// Named directly, a device is read up to the size limit.
			name: "gen-manifest-dev-zero", want: []string{"zero.yaml"},
			cmds: []string{"plan -f $DIR/zero.yaml", "apply --auto-approve -f $DIR/zero.yaml"},
			setup: func(t *testing.T, _ *world, dir string) {
				symlink(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
			},
		},
		{
			name: "gen-manifest-symlink-escape", want: []string{"a.yaml", "outside"},
			setup: func(t *testing.T, w *world, dir string) {
				outside := filepath.Join(t.TempDir(), "outside.yaml")
				writeFile(t, outside, []byte(secret("x", "{}")))
				symlink(t, outside, filepath.Join(dir, "a.yaml"))
			},
		},
		{
			// Only a symlink loop: the walk must end (and find nothing).
			name: "gen-symlink-loop", want: []string{"empty"},
			setup: func(t *testing.T, _ *world, dir string) {
				symlink(t, "..", filepath.Join(dir, "sub", "loop"))
				symlink(t, "self", filepath.Join(dir, "self"))
			},
		},
		{
			name: "gen-many-errors", want: []string{"a.yaml:", "problems"},
			setup: func(t *testing.T, _ *world, dir string) {
				var b strings.Builder
				for i := 0; i < 5000; i++ {
					fmt.Fprintf(&b, "---\napiVersion: mcpctl/v1\nkind: Secret\nmetadata: {name: BAD_%d}\nspec: {bogus: 1}\n", i)
				}
				writeFile(t, filepath.Join(dir, "a.yaml"), []byte(b.String()))
			},
		},
		{
			// A valid plan, saved for another schema, applied to this one.
			name: "gen-planfile-other-schema", want: []string{"schema"},
			cmds: []string{"apply --auto-approve $DIR/other.plan"},
			setup: func(t *testing.T, w *world, dir string) {
				other := "e2e_other_" + testenv.RandHex(4)
				r := w.exec(t, invocation{args: []string{"plan", "-f", filepath.Join(w.dir, "good"), "--schema", other, "--out", filepath.Join(dir, "other.plan")}})
				if r.code != 0 {
					t.Fatalf("%s: exit %d\n%s%s", r, r.code, r.stdout, r.stderr)
				}
			},
		},
	}
}
