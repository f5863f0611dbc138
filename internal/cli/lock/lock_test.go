package lock

import (
	"testing"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestForceUnlockNeedsYesOrATerminal(t *testing.T) {
	cases := []struct {
		name string
		args []string
		tty  bool
		err  string
	}{
		{name: "no tty no yes", err: "force-unlock needs confirmation and there is no terminal to ask on"},
		{name: "yes", args: []string{"--yes"}},
		{name: "-y", args: []string{"-y"}},
		{name: "tty", tty: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			f.IOStreams.IsStdinTTY = func() bool { return tc.tty }
			_, err := cmdutil.FlagCheck(t, f, NewCmdForceUnlock, tc.err, tc.args...)
			if tc.err != "" && cmdutil.Hint(err) == "" {
				t.Error("no hint")
			}
		})
	}
}
