package testenv

import "fmt"

// BaoBackendYAML is the manifest most end-to-end tests start from: an
// openbao backend "bao" on the given KV v2 mount and path prefix whose token
// is the Secret "bao-token", kept on the plaintext default backend and read
// from the environment variable tokenEnv (the chicken-and-egg edge).
func BaoBackendYAML(url, mount, pathPrefix, tokenEnv string) string {
	return fmt.Sprintf(`apiVersion: mcpctl/v1
kind: SecretBackend
metadata: {name: bao}
spec:
  type: openbao
  config:
    url: %s
    mount: %s
    pathPrefix: %s
    auth: {method: token, tokenSecretRef: {name: bao-token, key: token}}
---
apiVersion: mcpctl/v1
kind: Secret
metadata: {name: bao-token}
spec:
  backend: default
  data:
    token: {fromEnv: %s}
`, url, mount, pathPrefix, tokenEnv)
}
