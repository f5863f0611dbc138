// Package testenv gives tests real servers, never fakes.
//
// Postgres: MCPCTL_TEST_DATABASE_URL if set; else the server on
// 127.0.0.1:5432 if one answers; else a throwaway cluster started with the
// installed initdb/postgres (as the postgres OS user when running as root) on
// a free port in a temp folder. MCPCTL_TEST_POSTGRES=throwaway forces the
// last. Each test takes its own schema with Schema(t).
//
// Vault: MCPCTL_TEST_VAULT_ADDR + MCPCTL_TEST_VAULT_TOKEN if set; else a real
// Vault server (file storage, not -dev) built once by tools/vaultdev/build.sh
// (or MCPCTL_VAULT_BIN), initialised and unsealed, with KV v2 at secret/ and
// AppRole at approle/. Each test takes its own mount with Vault(t).NewMount(t).
//
// Servers are started once per test process and stopped by Main, which every
// test package using this one calls:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// scripts/devenv runs the same servers for a person (cmd/devenv).
package testenv
