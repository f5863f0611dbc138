// Package e2e holds end-to-end tests of the mcpctl binary: it is built once
// and run as a subprocess against the real Postgres and Vault servers from
// internal/testenv, the way CI runs it.
//
// The tests prove two guarantees instead of claiming them:
//
//   - no leaks (canary_test.go): every command, on success and failure
//     paths, with secret values that are unique canary strings, prints none
//     of them on stdout or stderr, writes none to any file, and stores none
//     outside the value column;
//   - hostile input (hostile_test.go, testdata/hostile): malformed
//     manifests, flags and plan files make plan and apply exit 1 with a
//     message naming the place, and change nothing in Postgres or Vault.
package e2e
