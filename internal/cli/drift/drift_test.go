package drift

import (
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestSummaryLine(t *testing.T) {
	cases := []struct {
		rep  Report
		want string
	}{
		{Report{Summary: map[string]int{string(Changed): 1, string(Orphan): 2}}, "Drift: 1 changed, 2 orphan."},
		{Report{Summary: map[string]int{string(Missing): 1}, Changes: make([]Change, 2)}, "Drift: 1 missing, 2 changes to apply."},
		{Report{Summary: map[string]int{string(Unreachable): 1}}, "The drift check could not be completed: 1 backend unreachable."},
		{Report{Summary: map[string]int{string(Orphan): 1}, Problems: []string{"x"}}, "Drift: 1 orphan; the check is incomplete: 1 plan problem."},
	}
	for _, tc := range cases {
		if got := summaryLine(&tc.rep); got != tc.want {
			t.Errorf("summaryLine(%+v) = %q, want %q", tc.rep, got, tc.want)
		}
	}
}

func TestTextColoursOnlyWhenAsked(t *testing.T) {
	rep := &Report{Schema: "s", Summary: map[string]int{string(Changed): 1},
		Findings: []Finding{{Type: Changed, Kind: "secret", Name: "openai", Backend: "bao", Reason: "changed outside mcpctl", Drift: true}}}
	ios, _, _, _ := cmdutil.TestIO()
	var plain strings.Builder
	if err := renderText(&plain, rep, ios.ColorScheme()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("colour without a terminal:\n%q", plain.String())
	}
	if !strings.Contains(plain.String(), "  ! changed     secret/openai (on bao): changed outside mcpctl\n") {
		t.Errorf("text:\n%s", plain.String())
	}
	ios.IsStdoutTTY = func() bool { return true }
	var tty strings.Builder
	_ = renderText(&tty, rep, ios.ColorScheme())
	if !strings.Contains(tty.String(), "\x1b[33m! changed") {
		t.Errorf("no colour on a terminal:\n%q", tty.String())
	}
}
