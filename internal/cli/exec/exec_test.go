package exec

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestExecFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		secrets []string
		command []string
		err     string
	}{
		{name: "dash", args: []string{"--secret", "a", "--", "env", "-i"}, secrets: []string{"a"}, command: []string{"env", "-i"}},
		// Flags after the command's name belong to the command.
		{name: "no dash", args: []string{"-s", "a,b", "ls", "--secret", "x", "-l"}, secrets: []string{"a", "b"},
			command: []string{"ls", "--secret", "x", "-l"}},
		{name: "repeated", args: []string{"--secret", "a", "--secret", "b", "--", "true"}, secrets: []string{"a", "b"}, command: []string{"true"}},
		{name: "no secret", args: []string{"--", "env"}, err: "name at least one secret with --secret"},
		{name: "no command", args: []string{"--secret", "a"}, err: "give the command to run after --, e.g. mcpctl exec --secret a -- env"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			got, _ := cmdutil.FlagCheck(t, f, NewCmdExec, tc.err, tc.args...)
			if tc.err != "" {
				return
			}
			if diff := cmp.Diff(tc.secrets, got.Secrets); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.command, got.Command); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeEnvSecretsWin(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "API_KEY=old", "HOME=/h"}, map[string]string{"API_KEY": "new", "ORG": "acme"})
	slices.Sort(got)
	want := []string{"API_KEY=new", "HOME=/h", "ORG=acme", "PATH=/bin"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
