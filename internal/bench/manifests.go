package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// Environment variables the generated manifests read their managed values
// from (fromEnv), so no value is written to disk.
const (
	valueEnvUser     = "BENCH_USER"
	valueEnvPassword = "BENCH_PASSWORD"
)

// secretsPerFile splits the secrets as a real repository would (one file per
// team or service), well within the loader's per-file limit.
const secretsPerFile = 1000

// secretName is the i-th generated secret.
func secretName(i int) string { return fmt.Sprintf("app-%05d", i) }

// writeManifests writes a folder declaring the openbao backend "bao" (its
// token a Secret on the plaintext default backend, as in examples/basic)
// and n secrets with two managed keys each, placed on backend (empty: the
// default backend).
func writeManifests(dir, vaultAddr, mount, backend string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	backends := fmt.Sprintf(`apiVersion: mcpctl/v1
kind: SecretBackend
metadata:
  name: bao
spec:
  type: openbao
  description: bench Vault (KV v2, file storage)
  config:
    url: %s
    mount: %s
    pathPrefix: mcpctl
    auth:
      method: token
      tokenSecretRef: {name: bao-token, key: token}
---
apiVersion: mcpctl/v1
kind: Secret
metadata:
  name: bao-token
spec:
  backend: default
  data:
    token: {fromEnv: VAULT_TOKEN}
`, vaultAddr, mount)
	if err := os.WriteFile(filepath.Join(dir, "backends.yaml"), []byte(backends), 0o644); err != nil {
		return err
	}
	for start := 0; start < n; start += secretsPerFile {
		if err := writeSecretsFile(filepath.Join(dir, fmt.Sprintf("secrets-%03d.yaml", start/secretsPerFile)), backend, start, min(start+secretsPerFile, n)); err != nil {
			return err
		}
	}
	return nil
}

func writeSecretsFile(path, backend string, from, to int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := from; i < to; i++ {
		fmt.Fprintf(w, "---\napiVersion: mcpctl/v1\nkind: Secret\nmetadata:\n  name: %s\n  labels: {team: t%d}\nspec:\n", secretName(i), i%10)
		if backend != "" {
			fmt.Fprintf(w, "  backend: %s\n", backend)
		}
		fmt.Fprintf(w, "  data:\n    USER: {fromEnv: %s}\n    PASSWORD: {fromEnv: %s}\n", valueEnvUser, valueEnvPassword)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
