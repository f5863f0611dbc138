package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"io"
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
