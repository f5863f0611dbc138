package e2e

import (
	"os"
	"testing"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m))
}
