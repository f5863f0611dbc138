package openbao

import (
	"fmt"
	"strings"
)

// PlanPolicy is the least-privilege ACL policy (HCL) for `mcpctl plan` and
// `drift` on a backend with config c: metadata and key names (subkeys), the
// listings, the token's own lookup and renewal, and the mount's type. It
// grants no read on data/, so a plan token cannot read a secret value.
func PlanPolicy(c Config) string {
	c.defaults()
	m, p := c.Mount, c.PathPrefix
	var b strings.Builder
	fmt.Fprintf(&b, "# mcpctl plan: metadata and key names only, never values.\n")
	rule(&b, m+"/metadata/"+p+"/*", "read", "list")
	rule(&b, m+"/subkeys/"+p+"/*", "read")
	b.WriteString("# OpenBao 2.x bulk listing (one paginated LIST instead of a read per secret).\n")
	rule(&b, m+"/detailed-metadata/"+p+"/*", "list")
	common(&b, m)
	return b.String()
}

// ApplyPolicy is the least-privilege ACL policy (HCL) for `mcpctl apply` on
// a backend with config c: PlanPolicy plus writing versions and
// custom_metadata, soft delete (of the current version, or of the exact
// version a migration away copied: <mount>/delete/) and destroy, and
// reading values (a migration away from this backend copies them).
func ApplyPolicy(c Config) string {
	c.defaults()
	m, p := c.Mount, c.PathPrefix
	var b strings.Builder
	fmt.Fprintf(&b, "# mcpctl apply: write, delete and (for migrations away) read values.\n")
	rule(&b, m+"/data/"+p+"/*", "create", "read", "update", "delete")
	rule(&b, m+"/metadata/"+p+"/*", "create", "read", "update", "delete", "list")
	b.WriteString("# A migration away soft-deletes exactly the version it copied.\n")
	rule(&b, m+"/delete/"+p+"/*", "update")
	rule(&b, m+"/subkeys/"+p+"/*", "read")
	rule(&b, m+"/detailed-metadata/"+p+"/*", "list")
	common(&b, m)
	return b.String()
}

func common(b *strings.Builder, mount string) {
	b.WriteString("# The driver checks its token before the first call and renews it on long runs.\n")
	rule(b, "auth/token/lookup-self", "read")
	rule(b, "auth/token/renew-self", "update")
	b.WriteString("# Optional: lets `mcpctl describe` confirm the mount is KV version 2.\n")
	rule(b, "sys/mounts/"+mount, "read")
}

func rule(b *strings.Builder, path string, caps ...string) {
	fmt.Fprintf(b, "path %q {\n  capabilities = [%s]\n}\n", path, `"`+strings.Join(caps, `", "`)+`"`)
}
