// Command vaultdev is HashiCorp Vault's own CLI entry point, built from the Go
// module proxy so tests and the demo can run a real Vault server. It lives in
// its own module so the product's go.mod never carries Vault's dependencies.
// Vault is BSL-licensed: this is built for tests only, never shipped.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}
