package openbao

import (
	"testing"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/drivers/drivertest"
)

// TestConformance runs the shared driver suite against the real Vault, each
// case on its own prefix, through a proxy that counts logins and records
// namespace headers, with tokens holding exactly the documented policies.
func TestConformance(t *testing.T) {
	t.Parallel()
	f := newVaultFixture(t)
	drivertest.Run(t, drivertest.Harness{
		NewStore: func(t *testing.T) drivertest.Store {
			s := f.newStore(t)
			return drivertest.Store{
				Open: func(t *testing.T) drivers.Driver { return s.open(t) },
				OpenReadOnly: func(t *testing.T) drivers.Driver {
					return s.open(t, s.withToken("bao-plan-token", s.planToken))
				},
				OpenNamespaced: func(t *testing.T, ns string) (drivers.Driver, func() []string) {
					d := s.open(t, func(c map[string]any) { c["namespace"] = ns })
					// Requests before this driver's first one belong to others.
					skip := len(s.proxy.requests("", ""))
					return d, func() []string {
						var out []string
						for _, r := range s.proxy.requests("", "")[skip:] {
							out = append(out, r.namespace)
						}
						return out
					}
				},
				Logins: func() int { return s.proxy.count("GET", "auth/token/lookup-self") },
				WriteForeign: func(t *testing.T, ref drivers.Ref, v map[string]string) {
					s.writeForeign(t, string(ref), v)
				},
				WriteOutside: func(t *testing.T, name string) {
					// A sibling prefix sharing ours as a string prefix, and
					// the mount's root.
					for _, p := range []string{s.f.mount + "/data/" + s.prefix + "-other/" + name, s.f.mount + "/data/" + name} {
						if _, err := s.f.root.Logical().Write(p, map[string]any{"data": map[string]string{"k": "v"}}); err != nil {
							t.Fatalf("write outside %s: %v", p, err)
						}
					}
				},
				Logs: s.logs.String,
			}
		},
		Caps: drivertest.Caps{
			SoftDelete: true,
			Ownership:  true,
			Foreign:    true,
			Outside:    true,
			NestedRefs: true,
			Logins:     true,
			Namespace:  true,
			ReadOnly:   true,
		},
	})
}
