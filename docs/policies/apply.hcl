# mcpctl apply: write, delete and (for migrations away) read values.
path "secret/data/mcpctl/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "secret/metadata/mcpctl/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
# A migration away soft-deletes exactly the version it copied.
path "secret/delete/mcpctl/*" {
  capabilities = ["update"]
}
path "secret/subkeys/mcpctl/*" {
  capabilities = ["read"]
}
path "secret/detailed-metadata/mcpctl/*" {
  capabilities = ["list"]
}
# The driver checks its token before the first call and renews it on long runs.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
# Optional: lets `mcpctl describe` confirm the mount is KV version 2.
path "sys/mounts/secret" {
  capabilities = ["read"]
}
