// Command docgen regenerates the CLI reference: `make docs`, or
//
//	go run ./internal/cli/docgen/cmd [DIR]   # DIR defaults to docs/cli
package main

import (
	"fmt"
	"os"

	"github.com/mcpctl/mcpctl/internal/cli/docgen"
)

func main() {
	dir := docgen.Dir
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := docgen.Generate(dir); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}
