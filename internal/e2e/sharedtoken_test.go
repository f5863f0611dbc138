package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// Two OpenBao backends that log in with the same token Secret (two mounts,
// or two path prefixes, on one server) are not a credential cycle. plan
// and apply observe backends concurrently, so both resolve the token at
// once; the second must wait for the first, not report a cycle.
func TestSharedTokenSecretIsNotACycle(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.setEnv("BAO_TOKEN", w.vault.RootToken)
	var b strings.Builder
	for _, name := range []string{"bao-a", "bao-b", "bao-c"} {
		fmt.Fprintf(&b, `---
apiVersion: mcpctl/v1
kind: SecretBackend
metadata: {name: %[1]s}
spec:
  type: openbao
  config:
    url: %[2]s
    mount: %[3]s
    pathPrefix: %[1]s
    auth: {method: token, tokenSecretRef: {name: bao-token, key: token}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: on-%[1]s}
spec:
  backend: %[1]s
  data: {K: {fromEnv: BAO_TOKEN}}
`, name, w.vault.Addr, w.mount)
	}
	b.WriteString(`---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: bao-token}
spec:
  data: {token: {fromEnv: BAO_TOKEN}}
`)
	w.write("m/all.yaml", b.String())
	if r := w.run("apply", "-f", "m", "--auto-approve"); r.code != 0 {
		t.Fatalf("%s: exit %d\n%s%s", r, r.code, r.stdout, r.stderr)
	}
	// The race needs the backends observed at the same time: a few runs.
	for i := 0; i < 5; i++ {
		r := w.run("plan", "-f", "m", "--detailed-exitcode")
		if r.code != 0 || strings.Contains(r.stderr, "cycle") {
			t.Fatalf("%s (run %d): exit %d, want 0 (no changes)\nstdout:\n%s\nstderr:\n%s", r, i+1, r.code, r.stdout, r.stderr)
		}
	}
}
