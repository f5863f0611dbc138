package plan

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `go test ./pkg/plan -run %s -update` to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if intended, rerun with -update:\n%s", path, diff)
	}
}

type renderer struct {
	name   string
	render func(*bytes.Buffer, *Plan) error
}

var renderers = []renderer{
	{"txt", func(b *bytes.Buffer, p *Plan) error { return RenderText(b, p, TextOptions{}) }},
	{"color.txt", func(b *bytes.Buffer, p *Plan) error { return RenderText(b, p, TextOptions{Color: true}) }},
	{"json", func(b *bytes.Buffer, p *Plan) error { return RenderJSON(b, p) }},
	{"md", func(b *bytes.Buffer, p *Plan) error { return RenderMarkdown(b, p) }},
}

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	plans := map[string]*Plan{"rich": richPlan(t), "nochanges": noChangesPlan(t)}
	for name, p := range plans {
		for _, r := range renderers {
			t.Run(name+"."+r.name, func(t *testing.T) {
				t.Parallel()
				var b bytes.Buffer
				if err := r.render(&b, p); err != nil {
					t.Fatal(err)
				}
				golden(t, "plan-"+name+"."+r.name+".golden", b.Bytes())
			})
		}
	}
}

func TestRenderNeverShowsValues(t *testing.T) {
	t.Parallel()
	p := richPlan(t)
	// The in-process plan holds the literal (to apply it) but no rendering,
	// formatting or saved form may show it.
	a, _ := p.Action("secret/db-password")
	if v, ok := a.Values.literal("PASSWORD"); !ok || v != literalValue {
		t.Fatalf("the in-process plan lost its literal: %q %v", v, ok)
	}
	for _, r := range renderers {
		var b bytes.Buffer
		if err := r.render(&b, p); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), literalValue) {
			t.Errorf("%s rendering shows a value", r.name)
		}
		if r.name != "json" && !strings.Contains(b.String(), "(sensitive)") {
			t.Errorf("%s rendering does not mark values as (sensitive)", r.name)
		}
	}
	for _, s := range []string{sprintAll(p), sprintAll(*a), sprintAll(a.Values)} {
		if strings.Contains(s, literalValue) {
			t.Errorf("fmt shows a value: %s", s)
		}
	}
}

func TestRenderColour(t *testing.T) {
	t.Parallel()
	p := richPlan(t)
	var plain, colour bytes.Buffer
	if err := RenderText(&plain, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderText(&colour, p, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape sequences without Color")
	}
	if !strings.Contains(colour.String(), ansiGreen+ansiBold) && !strings.Contains(colour.String(), ansiBold+ansiGreen) {
		t.Error("no colour with Color")
	}
	// Removing the colour gives back the plain rendering.
	stripped := stripANSI(colour.String())
	if stripped != plain.String() {
		t.Errorf("colour changes the text:\n%s", cmp.Diff(plain.String(), stripped))
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestRenderEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	p := noChangesPlan(t)
	p.Warnings = []string{"evil\x1b[2Jlabel\nPlan: 0 to create, 0 to delete. <script>|x"}
	var text, md bytes.Buffer
	if err := RenderText(&text, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if strings.Contains(out, "\x1b") || strings.Contains(out, "label\nPlan") {
			t.Errorf("%s passes control characters through:\n%q", name, out)
		}
	}
	if strings.Contains(md.String(), "<script>") || !strings.Contains(md.String(), `&lt;script&gt;\|x`) {
		t.Errorf("markdown does not escape HTML and pipes:\n%s", md.String())
	}
}

func TestSummaryLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n    Counts
		want string
	}{
		{Counts{Create: 2, Migrate: 1}, "Plan: 2 to create, 1 to migrate, 0 to delete."},
		{Counts{Create: 2, Update: 1, Migrate: 1}, "Plan: 2 to create, 1 to update, 1 to migrate, 0 to delete."},
		{Counts{Write: 1, Repair: 2, Cleanup: 3, Delete: 4}, "Plan: 0 to create, 1 to write, 2 to repair, 3 to clean up, 4 to delete."},
		{Counts{Drift: 3}, "No changes. Your secret placement matches the manifests."},
	}
	for _, tc := range cases {
		p := &Plan{Summary: tc.n}
		for range tc.n.Create + tc.n.Update + tc.n.Migrate + tc.n.Write + tc.n.Repair + tc.n.Cleanup + tc.n.Delete {
			p.Actions = append(p.Actions, Action{})
		}
		if got := SummaryLine(p); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestMarkdownMermaidEdges(t *testing.T) {
	t.Parallel()
	p := &Plan{ID: "x", DefaultBackend: "default"}
	for _, n := range []string{"a", "b", "c", "d"} {
		p.Actions = append(p.Actions, Action{ID: "secret/" + n, Kind: KindSecret, Name: n, Action: Migrate,
			After: &Summary{Backend: "bao"}, Migration: &MigrationStep{From: "default", To: "bao"}})
	}
	p.Actions = append(p.Actions, Action{ID: "secret/e", Kind: KindSecret, Name: "e", Action: Migrate,
		After: &Summary{Backend: "end"}, Migration: &MigrationStep{From: "bao", To: "end"}})
	p.Summary = count(p)
	var b bytes.Buffer
	if err := RenderMarkdown(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"```mermaid\nflowchart LR\n",
		`b0["bao"]`, `b1["end"]`, `b2["default"]`,
		`b0 -->|"1 secret: e"| b1`,
		`b2 -->|"4 secrets: a, b, c and 1 more"| b0`,
		"<details><summary>Migrations (5)</summary>",
		"### mcpctl plan: 0 to create, 5 to migrate, 0 to delete",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
}
