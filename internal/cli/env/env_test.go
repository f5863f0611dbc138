package env

import (
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestEnvFlags(t *testing.T) {
	cases := []struct {
		args    []string
		secrets string
		output  string
		err     string
	}{
		{args: []string{"--secret", "a"}, secrets: "a", output: "dotenv"},
		{args: []string{"-s", "a", "-s", "b,c", "-o", "json"}, secrets: "a,b,c", output: "json"},
		{args: []string{}, err: "name at least one secret with --secret"},
		{args: []string{"--secret", "a", "-o", "yaml"}, err: "must be one of dotenv|json"},
		{args: []string{"--secret", "a", "extra"}, err: `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			var got *Options
			err := cmdutil.ExecuteFlags(NewCmdEnv(f, func(o *Options) error { got = o; return nil }), tc.args...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Secrets, ",") != tc.secrets || got.Output != tc.output {
				t.Errorf("secrets %v output %q", got.Secrets, got.Output)
			}
		})
	}
}
