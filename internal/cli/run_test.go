package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func TestRunRecoversPanicWithoutItsValue(t *testing.T) {
	f, _, out, errOut := cmdutil.TestFactory(t)
	f.Store = func(context.Context) (*state.Store, error) {
		panic("canary-secret-value")
	}
	code := Run(context.Background(), f, []string{"db", "status"})
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if strings.Contains(errOut.String()+out.String(), "canary") {
		t.Errorf("the panic value was printed:\n%s", errOut.String())
	}
	want := "Error: internal error (string at github.com/mcpctl/mcpctl/internal/cli."
	if !strings.HasPrefix(errOut.String(), want) || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q", errOut.String(), want)
	}
}

func TestRunExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"nope"}, 1, "Error: unknown command \"nope\" for \"mcpctl\"\nRun 'mcpctl --help' for usage.\n"},
		{[]string{"get", "secrets", "--bogus"}, 1, "Error: unknown flag: --bogus\nRun 'mcpctl get secrets --help' for usage.\n"},
		{[]string{"--log-level", "x", "version"}, 1, "Error: invalid --log-level \"x\": use debug, info, warn or error\nRun 'mcpctl version --help' for usage.\n"},
	}
	for _, tc := range cases {
		f, _, _, errOut := cmdutil.TestFactory(t)
		if code := Run(context.Background(), f, tc.args); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.code)
		}
		if errOut.String() != tc.err {
			t.Errorf("%v: stderr %q, want %q", tc.args, errOut.String(), tc.err)
		}
	}
}

func TestColourSettings(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		color bool
	}{
		{"terminal", nil, nil, true},
		{"--no-color", []string{"--no-color"}, nil, false},
		{"NO_COLOR", nil, map[string]string{"NO_COLOR": "1"}, false},
		{"TERM=dumb", nil, map[string]string{"TERM": "dumb"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			f.IOStreams.IsStdoutTTY = func() bool { return true }
			f.Getenv = func(k string) string { return tc.env[k] }
			if code := Run(context.Background(), f, append(tc.args, "version")); code != 0 {
				t.Fatalf("exit %d", code)
			}
			if got := f.IOStreams.ColorEnabled(); got != tc.color {
				t.Errorf("colour %v, want %v", got, tc.color)
			}
		})
	}
}

func TestGlobalOptionsFromEnvironment(t *testing.T) {
	f, _, _, _ := cmdutil.TestFactory(t)
	env := map[string]string{"MCPCTL_SCHEMA": "team_a", "MCPCTL_LOG_LEVEL": "debug"}
	f.Getenv = func(k string) string { return env[k] }
	if code := Run(context.Background(), f, []string{"--lock-timeout", "5s", "version"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if f.Options.Schema != "team_a" || f.Options.LogLevel != "debug" || f.Options.LockTimeout.String() != "5s" {
		t.Errorf("options = %+v", *f.Options)
	}

	// A flag beats the environment.
	f, _, _, _ = cmdutil.TestFactory(t)
	f.Getenv = func(k string) string { return env[k] }
	if code := Run(context.Background(), f, []string{"--schema", "other", "version"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if f.Options.Schema != "other" {
		t.Errorf("schema = %q, want the flag's", f.Options.Schema)
	}
}
