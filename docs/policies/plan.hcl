# mcpctl plan: metadata and key names only, never values.
path "secret/metadata/mcpctl/*" {
  capabilities = ["read", "list"]
}
path "secret/subkeys/mcpctl/*" {
  capabilities = ["read"]
}
# OpenBao 2.x bulk listing (one paginated LIST instead of a read per secret).
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
