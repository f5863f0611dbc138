package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]*Plan{"rich": richPlan(t), "nochanges": noChangesPlan(t)} {
		var b bytes.Buffer
		if err := Save(&b, p); err != nil {
			t.Fatal(err)
		}
		got, err := Load(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(p, got, planCmp...); diff != "" {
			t.Errorf("%s: round trip (-saved +loaded):\n%s", name, diff)
		}
		var again bytes.Buffer
		if err := Save(&again, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), again.Bytes()) {
			t.Errorf("%s: saving a loaded plan changes the document", name)
		}
	}
}

func TestSavedPlanHoldsNoValues(t *testing.T) {
	t.Parallel()
	p := richPlan(t)
	var b bytes.Buffer
	if err := Save(&b, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), literalValue) {
		t.Fatal("the saved plan holds a literal value")
	}
	// A loaded plan cannot resolve a literal, and says why.
	loaded, err := Load(&b)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := loaded.Action("secret/db-password")
	_, _, err = a.ResolveValues(nil, func(string) (string, bool) { return "", false })
	if err == nil || !strings.Contains(err.Error(), "key PASSWORD is a literal value (declared at secrets/apps.yaml:12), which saved plans do not carry") {
		t.Errorf("resolving a literal from a saved plan: %v", err)
	}
}

func TestWriteFileIsPrivateAndAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(path, []byte("old contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := withoutLiterals(richPlan(t))
	if err := WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != p.ID || len(got.Actions) != len(p.Actions) {
		t.Errorf("read back %s with %d actions", got.ID, len(got.Actions))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "plan.json"), p); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("writing into a missing directory: %v", err)
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := Save(&b, richPlan(t)); err != nil {
		t.Fatal(err)
	}
	valid := b.String()
	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		return string(out)
	}
	action := func(m map[string]any, i int) map[string]any { return m["actions"].([]any)[i].(map[string]any) }
	cases := []struct {
		name, doc, want string
	}{
		{"not JSON", "plan", "not a plan document"},
		{"no version", `{"id":"x"}`, "no format_version"},
		{"other version", `{"format_version":"2"}`, `format version "2" is not supported (this mcpctl reads version "1")`},
		{"unknown field", edit(func(m map[string]any) { m["values"] = map[string]any{"API_KEY": "x"} }), `unknown field "values"`},
		{"value field in a source", edit(func(m map[string]any) {
			action(m, 0)["values"].(map[string]any)["sources"].([]any)[0].(map[string]any)["value"] = "x"
		}), `unknown field "value"`},
		{"trailing data", valid + "{}", "trailing data"},
		{"bad id", edit(func(m map[string]any) { m["id"] = "../x" }), `id "../x" is not a plan id`},
		{"unknown action", edit(func(m map[string]any) { action(m, 0)["action"] = "explode" }), `action "explode" is not valid for a secret`},
		{"migrate on a backend", edit(func(m map[string]any) { action(m, 1)["action"] = "migrate" }), `action "migrate" is not valid for a secretbackend`},
		{"dependency on a later action", edit(func(m map[string]any) {
			acts := m["actions"].([]any)
			acts[0], acts[1] = acts[1], acts[0]
		}), `depends on "secret/bao-token", which is not an earlier action`},
		{"duplicate id", edit(func(m map[string]any) { action(m, 2)["id"] = "secret/bao-token" }), "missing or duplicate id"},
		{"tampered counts", edit(func(m map[string]any) { m["summary"].(map[string]any)["delete"] = 0 }), "does not match the actions"},
		{"fingerprint not keyed", edit(func(m map[string]any) {
			v := action(m, 0)["values"].(map[string]any)
			v["fingerprint"] = "sha256:abc"
			action(m, 0)["precondition"].(map[string]any)["fingerprint"] = "sha256:abc"
		}), "not a keyed fingerprint"},
		{"two sources for one key", edit(func(m map[string]any) {
			action(m, 0)["values"].(map[string]any)["sources"].([]any)[0].(map[string]any)["from_file"] = "x"
		}), "exactly one of from_env, from_file, literal"},
		{"write without sources", edit(func(m map[string]any) {
			for _, a := range m["actions"].([]any) {
				if a.(map[string]any)["action"] == "write" {
					delete(a.(map[string]any), "values")
					delete(a.(map[string]any)["precondition"].(map[string]any), "fingerprint")
				}
			}
		}), "no value sources"},
		{"bad name", edit(func(m map[string]any) { action(m, 0)["name"] = "Bad/Name" }), `invalid name "Bad/Name"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(strings.NewReader(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

// withoutLiterals turns the plan's literal sources into fromEnv ones, so it
// can be saved.
func withoutLiterals(p *Plan) *Plan {
	for i := range p.Actions {
		if v := p.Actions[i].Values; v != nil {
			for j := range v.Sources {
				if v.Sources[j].Literal {
					v.Sources[j].Literal, v.Sources[j].FromEnv = false, "FROM_LITERAL"
				}
			}
		}
	}
	return p
}

func TestWriteFileRefusesLiterals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	err := WriteFile(path, richPlan(t))
	var le *LiteralError
	if !errors.As(err, &le) {
		t.Fatalf("WriteFile of a plan with a literal: %v, want a *LiteralError", err)
	}
	want := "secret/db-password key PASSWORD (declared at secrets/apps.yaml:12)"
	if len(le.Keys) != 1 || le.Keys[0] != want {
		t.Errorf("keys %q, want [%q]", le.Keys, want)
	}
	if strings.Contains(err.Error(), literalValue) {
		t.Error("the error holds the literal value")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files written: %v", entries)
	}
	if err := CheckSaveable(withoutLiterals(richPlan(t))); err != nil {
		t.Errorf("a plan without literals: %v", err)
	}
}
