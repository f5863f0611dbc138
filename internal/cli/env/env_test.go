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
		format  string
		err     string
	}{
		{args: []string{"--secret", "a"}, secrets: "a", format: "export"},
		{args: []string{"-s", "a", "-s", "b,c", "-o", "json"}, secrets: "a,b,c", format: "json"},
		{args: []string{"-s", "a", "--format", "dotenv"}, secrets: "a", format: "dotenv"},
		{args: []string{"-s", "a", "--format", "dotenv", "-o", "dotenv"}, secrets: "a", format: "dotenv"},
		{args: []string{"-s", "a", "--format", "dotenv", "-o", "json"}, err: "--format dotenv and -o json disagree"},
		{args: []string{}, err: "name at least one secret with --secret"},
		{args: []string{"--secret", "a", "-o", "yaml"}, err: "must be one of export|dotenv|json"},
		{args: []string{"--secret", "a", "--format", "yaml"}, err: "must be one of export|dotenv|json"},
		{args: []string{"--secret", "a", "extra"}, err: `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			got, _ := cmdutil.FlagCheck(t, f, NewCmdEnv, tc.err, tc.args...)
			if tc.err != "" {
				return
			}
			if strings.Join(got.Secrets, ",") != tc.secrets || got.Format != tc.format {
				t.Errorf("secrets %v format %q", got.Secrets, got.Format)
			}
		})
	}
}
