package plan

import (
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
)

func TestPlanFlags(t *testing.T) {
	cases := []struct {
		args  []string
		err   string
		check func(t *testing.T, o *Options)
	}{
		{args: []string{"-f", "m/"}, check: func(t *testing.T, o *Options) {
			if o.Output != "text" || o.Shape.MaxDeletes != planpkg.DefaultMaxDeletes || o.Parallelism != planpkg.DefaultParallelism || o.DetailedExitCode {
				t.Errorf("defaults = %+v", o)
			}
		}},
		{args: []string{"-f", "-", "--prune", "-l", "team=a", "-l", "env!=prod", "-o", "markdown", "--out", "p.json", "--detailed-exitcode", "--files-root", "/srv"}, check: func(t *testing.T, o *Options) {
			po, err := o.Shape.Options()
			if err != nil {
				t.Fatal(err)
			}
			if !po.Prune || po.Selector.String() != "team=a,env!=prod" || o.Output != "markdown" || o.Out != "p.json" || !o.DetailedExitCode || o.Manifests.FilesRoot != "/srv" {
				t.Errorf("options = %+v, plan options %+v", o, po)
			}
		}},
		{args: []string{}, err: "give the manifests to plan with -f PATH"},
		{args: []string{"x.yaml"}, err: `unexpected argument "x.yaml"`},
		{args: []string{"-f", "m/", "-o", "yaml"}, err: "must be one of text|json|markdown"},
		{args: []string{"-f", "m/", "--parallelism", "0"}, err: "invalid --parallelism 0"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			got, _ := cmdutil.FlagCheck(t, f, NewCmdPlan, tc.err, tc.args...)
			if tc.err != "" {
				return
			}
			tc.check(t, got)
		})
	}
}

func TestRenderTextLeavesWarningsToStderr(t *testing.T) {
	p := &planpkg.Plan{Warnings: []string{"literal value at m.yaml:3"}, Actions: []planpkg.Action{}}
	var b strings.Builder
	if err := RenderText(&b, p, false); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "literal value") {
		t.Errorf("text rendering repeats the warnings:\n%s", b.String())
	}
	if len(p.Warnings) != 1 {
		t.Error("RenderText changed the plan")
	}
}
