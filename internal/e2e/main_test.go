package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

// mcpctlBinary builds the real command once per test process: what these
// tests check is the shipped binary's output, exit codes and files, not an
// in-process imitation of them.
func mcpctlBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "mcpctl-e2e-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "mcpctl")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/mcpctl/mcpctl/cmd/mcpctl").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build ./cmd/mcpctl: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}
