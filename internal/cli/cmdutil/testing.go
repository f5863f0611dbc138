package cmdutil

import (
	"bytes"
	"context"
	"errors"
	"testing"

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
