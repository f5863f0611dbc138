// Command mcpctl is GitOps for secret storage. See `mcpctl --help`.
package main

import (
	"os"

	"github.com/mcpctl/mcpctl/internal/cli"

	// Backend drivers register themselves, as database/sql drivers do.
	_ "github.com/mcpctl/mcpctl/pkg/drivers/openbao"
	_ "github.com/mcpctl/mcpctl/pkg/drivers/plaintext"
)

func main() {
	os.Exit(cli.Main())
}
