package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// TestFactory returns a Factory on buffers whose Store and Pool fail the
// test if used: flag-parsing tests replace the run function, so nothing
// should reach the database.
func TestFactory(t testing.TB) (f *Factory, in, out, errOut *bytes.Buffer) {
	ios, in, out, errOut := TestIO()
	f = New(ios, func(string) string { return "" }, "test")
	f.Store = func(context.Context) (*state.Store, error) {
		t.Error("flag test opened the state store")
		return nil, errors.New("no store in flag tests")
	}
	f.Pool = func(context.Context) (*backends.Pool, error) {
		t.Error("flag test opened the backend pool")
		return nil, errors.New("no pool in flag tests")
	}
	return f, in, out, errOut
}

// ExecuteFlags runs cmd as `mcpctl <cmd> args...` with its output discarded:
// the flag-parsing tests build cmd with a runF that records its options, so
// this exercises flags and argument checks and nothing else.
func ExecuteFlags(cmd *cobra.Command, args ...string) error {
	root := &cobra.Command{Use: "mcpctl"}
	root.AddCommand(cmd)
	root.SetArgs(append([]string{cmd.Name()}, args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	return root.Execute()
}

// FlagCheck is the body of a flag-parsing test case: it runs the command
// newCmd builds on f, as `mcpctl <cmd> args...`, with a run function that
// records the options it is given. With wantErr set, the command must fail
// with an error containing wantErr, without running; the error is returned
// for further checks (a hint, no value in it). Otherwise it must succeed,
// and the options it would have run with are returned.
func FlagCheck[O any](t testing.TB, f *Factory, newCmd func(*Factory, func(*O) error) *cobra.Command, wantErr string, args ...string) (*O, error) {
	t.Helper()
	var got *O
	err := ExecuteFlags(newCmd(f, func(o *O) error { got = o; return nil }), args...)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) || got != nil {
			t.Fatalf("%q: error = %v (ran: %v), want %q", args, err, got != nil, wantErr)
		}
		return nil, err
	}
	if err != nil || got == nil {
		t.Fatalf("%q: error = %v (ran: %v)", args, err, got != nil)
	}
	return got, nil
}
