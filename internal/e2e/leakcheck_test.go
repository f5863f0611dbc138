package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// canariesChecked counts (canary, output) pairs searched by the whole
// package, for the figures the tests log.
var canariesChecked atomic.Int64

// leakCheck runs mcpctl in a world whose secret values are canaries, keeps
// every output, and searches them all for every canary at the end, so an
// output is also checked against canaries made up after it was printed.
type leakCheck struct {
	w        *world
	canaries map[string]string // value -> what it is
	outputs  []output
	inputs   map[string]bool // files the test wrote whose content is a value on purpose
	planned  []string        // files written by plan --out
	commands int
	leaks    int
}

type output struct {
	where string
	text  string
}

func newLeakCheck(w *world) *leakCheck {
	return &leakCheck{w: w, canaries: map[string]string{}, inputs: map[string]bool{}}
}

// canary makes a unique value and remembers it.
func (lc *leakCheck) canary(what string) string {
	v := fmt.Sprintf("CANARY-%s-%d", testenv.RandHex(8), len(lc.canaries))
	lc.canaries[v] = what
	return v
}

// secret registers a value that is not of the test's making (the Vault
// token) as a canary too.
func (lc *leakCheck) secret(what, v string) {
	if len(v) < 8 {
		lc.w.t.Fatalf("%s %q is too short to search for", what, v)
	}
	lc.canaries[v] = what
}

// input writes a file whose content legitimately holds values (a manifest
// with a literal, a fromFile file, an env file), so the files-written scan
// skips it. Every other output still counts.
func (lc *leakCheck) input(rel, content string) string {
	p := lc.w.write(rel, content)
	lc.inputs[p] = true
	return p
}

// expect runs mcpctl, checks its exit code and keeps both streams.
func (lc *leakCheck) expect(code int, args ...string) result {
	lc.w.t.Helper()
	return lc.expectWith(code, invocation{args: args})
}

func (lc *leakCheck) expectWith(code int, inv invocation) result {
	lc.w.t.Helper()
	r := lc.w.runWith(inv)
	lc.keep(r, true)
	if r.code != code {
		lc.w.t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r, r.code, code, r.stdout, r.stderr)
	}
	// drift prints its report, problems included, as the document on
	// stdout; everything else says what went wrong on stderr.
	if code == 1 && !strings.Contains(r.stderr, "Error") && !(isDrift(inv.args) && r.stdout != "") {
		lc.w.t.Errorf("%s: exit 1 without an error message on stderr:\n%s", r, r.stderr)
	}
	return r
}

// expectValuesOut is for exec and env, whose stdout (or child) carries the
// values by design: only stderr is kept.
func (lc *leakCheck) expectValuesOut(code int, args ...string) result {
	lc.w.t.Helper()
	r := lc.w.run(args...)
	lc.keep(r, false)
	if r.code != code {
		lc.w.t.Errorf("%s: exit %d, want %d\nstderr:\n%s", r, r.code, code, r.stderr)
	}
	return r
}

func (lc *leakCheck) keep(r result, stdout bool) {
	lc.commands++
	if os.Getenv("MCPCTL_E2E_SHOW") != "" {
		lc.w.t.Logf("%s -> exit %d\nstdout:\n%s\nstderr:\n%s", r, r.code, r.stdout, r.stderr)
	}
	if stdout {
		lc.outputs = append(lc.outputs, output{"stdout of " + r.String(), r.stdout})
	}
	lc.outputs = append(lc.outputs, output{"stderr of " + r.String(), r.stderr})
}

// add keeps any other text that must not hold a value.
func (lc *leakCheck) add(where, text string) {
	lc.outputs = append(lc.outputs, output{where, text})
}

// scanFiles keeps every file under the world's folders that the test did
// not write as an input: saved plans, anything mcpctl left in HOME or
// TMPDIR. Saved plans must also be private to their owner.
func (lc *leakCheck) scanFiles() int {
	t := lc.w.t
	t.Helper()
	n := 0
	for _, root := range []string{lc.w.dir, lc.w.home} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || lc.inputs[p] {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			lc.add("file "+p, string(b))
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range lc.planned {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("saved plan %s: %v", p, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("saved plan %s has mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	return n
}

// verify searches every output for every canary and reports each leak with
// where it was found and the line around it.
func (lc *leakCheck) verify() {
	t := lc.w.t
	t.Helper()
	values := make([]string, 0, len(lc.canaries))
	for v := range lc.canaries {
		values = append(values, v)
	}
	sort.Strings(values)
	for _, o := range lc.outputs {
		for _, v := range values {
			canariesChecked.Add(1)
			if i := strings.Index(o.text, v); i >= 0 {
				lc.leaks++
				t.Errorf("LEAK: %s (%s) appears in %s:\n  %s", v, lc.canaries[v], o.where, lineAround(o.text, i))
			}
		}
	}
}

func lineAround(s string, i int) string {
	start := strings.LastIndexByte(s[:i], '\n') + 1
	end := strings.IndexByte(s[i:], '\n')
	if end < 0 {
		end = len(s)
	} else {
		end += i
	}
	line := s[start:end]
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	return line
}

// mustContain is a positive control: the pipeline really carries the
// canaries, so their absence elsewhere means something.
func mustContain(t *testing.T, where, text string, values ...string) {
	t.Helper()
	for _, v := range values {
		if !strings.Contains(text, v) {
			t.Errorf("%s does not hold %s; the canary never reached it, so the leak checks prove nothing", where, v)
		}
	}
}

func isDrift(args []string) bool {
	for _, a := range args {
		if a == "drift" {
			return true
		}
	}
	return false
}
