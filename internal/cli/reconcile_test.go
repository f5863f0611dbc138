package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// envSubst expands $VAR and ${VAR} from the script's environment in the
// named files, in place: manifests in a script name the per-script Vault
// address and mount, which only exist once `vault` has run.
//
//	envsubst FILE...
func envSubst(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: envsubst FILE...")
	}
	for _, name := range args {
		path := ts.MkAbs(name)
		data, err := os.ReadFile(path)
		ts.Check(err)
		out := os.Expand(string(data), func(k string) string {
			v := ts.Getenv(k)
			if v == "" {
				ts.Fatalf("envsubst %s: $%s is not set", name, k)
			}
			return v
		})
		ts.Check(os.WriteFile(path, []byte(out), 0o600))
	}
}

// exitCode runs a command and checks its exit status, which `exec` and
// `! exec` cannot tell apart beyond zero and non-zero (mcpctl's 1 is an
// error, 2 means changes or drift). Its stdout and stderr are kept for the
// next stdout/stderr assertions.
//
//	exitcode N CMD [ARG...]
func exitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N CMD [ARG...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}

// vaultDelete soft-deletes (or with -purge, removes with all its versions
// and metadata) an object under the script's KV v2 mount, out of band, as an operator with
// the Vault CLI would. Needs `vault` to have run.
//
//	vaultdel [-purge] PATH
func vaultDelete(ts *testscript.TestScript, neg bool, args []string) {
	purge := len(args) > 0 && args[0] == "-purge"
	if purge {
		args = args[1:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: vaultdel [-purge] PATH")
	}
	mount := ts.Getenv("TEST_VAULT_MOUNT")
	if mount == "" {
		ts.Fatalf("vaultdel: run `vault` first")
	}
	tb := ts.Value(tbKey{}).(testing.TB)
	kv := testenv.Vault(tb).Client(tb).KVv2(mount)
	var err error
	if purge {
		err = kv.DeleteMetadata(context.Background(), args[0])
	} else {
		err = kv.Delete(context.Background(), args[0])
	}
	if err != nil {
		ts.Fatalf("vaultdel %s: %v", args[0], err)
	}
}
