package apply

import (
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestApplyFlags(t *testing.T) {
	cases := []struct {
		args  []string
		err   string
		check func(t *testing.T, o *Options)
	}{
		{args: []string{"-f", "m/", "-f", "x.yaml"}, check: func(t *testing.T, o *Options) {
			if strings.Join(o.Manifests.Paths, ",") != "m/,x.yaml" || o.PlanFile != "" || o.Parallelism != DefaultParallelism || o.AutoApprove {
				t.Errorf("options = %+v", o)
			}
		}},
		{args: []string{"plan.json", "--auto-approve", "--keep-source", "--parallelism", "3"}, check: func(t *testing.T, o *Options) {
			if o.PlanFile != "plan.json" || !o.AutoApprove || !o.KeepSource || o.Parallelism != 3 {
				t.Errorf("options = %+v", o)
			}
		}},
		{args: []string{}, err: "give the manifests to apply with -f PATH"},
		{args: []string{"a.json", "b.json"}, err: `unexpected argument "b.json"`},
		{args: []string{"-f", "m/", "plan.json"}, err: "not both"},
		{args: []string{"plan.json", "-l", "a=b"}, err: "--selector shapes a plan"},
		{args: []string{"plan.json", "--max-deletes", "3"}, err: "--max-deletes shapes a plan"},
		{args: []string{"plan.json", "--files-root", "/"}, err: "--files-root cannot change a saved plan"},
		{args: []string{"-f", "m/", "--parallelism", "0"}, err: "invalid --parallelism 0"},
		{args: []string{"-f", "m/", "--keep-source", "--destroy-source"}, err: "contradict"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			got, _ := cmdutil.FlagCheck(t, f, NewCmdApply, tc.err, tc.args...)
			if tc.err != "" {
				return
			}
			tc.check(t, got)
		})
	}
}
