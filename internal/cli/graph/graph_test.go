package graph

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao" // config validation for token edges
	_ "github.com/mcpctl/mcpctl/pkg/drivers/plaintext"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func baoConfig(tokenSecret string) json.RawMessage {
	return json.RawMessage(`{"url":"https://bao.invalid:8200","auth":{"method":"token","tokenSecretRef":{"name":"` + tokenSecret + `","key":"token"}}}`)
}

func snapshot() *planpkg.Snapshot {
	return &planpkg.Snapshot{
		Initialized: true,
		Backends: []state.Backend{
			{Name: "default", Type: "plaintext", IsDefault: true},
			{Name: "old", Type: "openbao", Config: baoConfig("old-token")},
		},
		Secrets: []state.Secret{
			{Name: "old-token", BackendName: "default"},
			{Name: "a", BackendName: "default"},
			{Name: "b", BackendName: "default"},
			{Name: "c", BackendName: "default"},
			{Name: "d", BackendName: "default"},
			{Name: "e", BackendName: "old"},
		},
	}
}

func TestBuildWithoutPlan(t *testing.T) {
	g := Build(snapshot(), nil)
	want := &Graph{
		Backends: []Node{
			{Name: "default", Type: "plaintext", Default: true, Secrets: 5, After: 5},
			{Name: "old", Type: "openbao", Secrets: 1, After: 1},
		},
		Tokens: []TokenEdge{{From: "old", To: "default", Secret: "old-token"}},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("graph (-want +got):\n%s", diff)
	}
}

func TestBuildWithPlan(t *testing.T) {
	migrate := func(name, from, to string) planpkg.Action {
		return planpkg.Action{ID: "secret/" + name, Kind: planpkg.KindSecret, Name: name, Action: planpkg.Migrate,
			After: &planpkg.Summary{Backend: to}, Migration: &planpkg.MigrationStep{From: from, To: to}}
	}
	p := &planpkg.Plan{Actions: []planpkg.Action{
		{ID: "secretbackend/bao", Kind: planpkg.KindSecretBackend, Name: "bao", Action: planpkg.Create,
			After: &planpkg.Summary{Type: "openbao"}, Config: baoConfig("bao-token")},
		{ID: "secret/bao-token", Kind: planpkg.KindSecret, Name: "bao-token", Action: planpkg.Create,
			After: &planpkg.Summary{Backend: "default"}},
		migrate("d", "default", "bao"),
		migrate("b", "default", "bao"),
		migrate("c", "default", "bao"),
		migrate("a", "default", "bao"),
		migrate("e", "old", "default"),
		{ID: "secretbackend/old", Kind: planpkg.KindSecretBackend, Name: "old", Action: planpkg.Delete,
			Before: &planpkg.Summary{Type: "openbao"}},
		{ID: "secret/old-token", Kind: planpkg.KindSecret, Name: "old-token", Action: planpkg.Delete,
			Before: &planpkg.Summary{Backend: "default"}},
	}}
	g := Build(snapshot(), p)
	want := &Graph{
		Planned: true,
		Backends: []Node{
			{Name: "bao", Type: "openbao", Secrets: 0, After: 4, Change: planpkg.Create},
			{Name: "default", Type: "plaintext", Default: true, Secrets: 5, After: 2},
			{Name: "old", Type: "openbao", Secrets: 1, After: 0, Change: planpkg.Delete},
		},
		// The deleted backend's token edge is gone; the new one's is drawn.
		Tokens: []TokenEdge{{From: "bao", To: "default", Secret: "bao-token"}},
		Moves: []MoveEdge{
			{From: "default", To: "bao", Names: []string{"a", "b", "c", "d"}},
			{From: "old", To: "default", Names: []string{"e"}},
		},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("graph (-want +got):\n%s", diff)
	}

	var mm, dot strings.Builder
	if err := RenderMermaid(&mm, g); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`  b0["bao<br/>openbao<br/>0 secrets → 4<br/>(to be created)"]`,
		`  b2["old<br/>openbao<br/>1 secret → 0<br/>(to be deleted)"]`,
		`  b1 ==>|"4 secrets: a, b, c and 1 more"| b0`,
		`  b2 ==>|"1 secret: e"| b1`,
		`  style b0 stroke-dasharray: 5 5`,
	} {
		if !strings.Contains(mm.String(), line+"\n") {
			t.Errorf("mermaid lacks %q:\n%s", line, mm.String())
		}
	}
	if err := RenderDOT(&dot, g); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dot.String(), `  b0 [label="bao\nopenbao\n0 secrets → 4\n(to be created)", style="rounded,dashed"];`) {
		t.Errorf("dot:\n%s", dot.String())
	}
}

func TestLabelsCannotBreakOut(t *testing.T) {
	g := &Graph{Backends: []Node{{Name: "x", Type: "we\"ird|<b>\x1b[31m\nline\\"}}}
	var mm, dot strings.Builder
	_ = RenderMermaid(&mm, g)
	_ = RenderDOT(&dot, g)
	if want := `  b0["x<br/>we#quot;ird#124;#lt;b#gt;[31m line\<br/>0 secrets"]`; !strings.Contains(mm.String(), want+"\n") {
		t.Errorf("mermaid:\n%s\nwant line %s", mm.String(), want)
	}
	if want := `  b0 [label="x\nwe\"ird|<b>[31m line\\\n0 secrets"];`; !strings.Contains(dot.String(), want+"\n") {
		t.Errorf("dot:\n%s\nwant line %s", dot.String(), want)
	}
}
