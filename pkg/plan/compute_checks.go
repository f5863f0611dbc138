package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// placements maps each backend to the secrets living on it once the plan is
// applied.
func (c *computer) placements() map[string][]string {
	out := map[string][]string{}
	seen := func(name string) {
		if b := c.placedAfter(name); b != "" {
			out[b] = append(out[b], name)
		}
	}
	for name := range c.dSecrets {
		seen(name)
	}
	for name := range c.rSecrets {
		if _, ok := c.dSecrets[name]; !ok {
			seen(name)
		}
	}
	return out
}

// checkBackendDeletes refuses to delete a backend secrets stay on.
func (c *computer) checkBackendDeletes() {
	var placed map[string][]string
	for _, a := range c.actions {
		if a.Kind != KindSecretBackend || a.Action != Delete {
			continue
		}
		if placed == nil {
			placed = c.placements()
		}
		if names := placed[a.Name]; len(names) > 0 {
			slices.Sort(names)
			c.problems.add(fmt.Sprintf("secretbackend/%s cannot be deleted: %d secret(s) stay on it (%s); move them to another backend or prune them too",
				a.Name, len(names), nameList(names, 5)))
		}
	}
}

// checkTokens checks the secrets backend configs take credentials from.
func (c *computer) checkTokens() {
	for _, b := range sortedKeys(c.tokens) {
		if !c.backendExistsAfter(b) {
			continue
		}
		for _, ref := range c.tokens[b] {
			d, declared := c.dSecrets[ref.Secret]
			r, inState := c.rSecrets[ref.Secret]
			switch {
			case !declared && !inState:
				where := ""
				if d, ok := c.dBackends[b]; ok {
					where = " (" + declaredAt(d.Source) + ")"
				}
				c.problems.add(fmt.Sprintf("secretbackend/%s: its credential secret %q (tokenSecretRef) is neither declared nor in state%s: declare it, or create it with mcpctl create secret %s --from-literal %s=...",
					b, ref.Secret, where, ref.Secret, ref.Key))
				continue
			case c.placedAfter(ref.Secret) == "":
				c.problems.add(fmt.Sprintf("secret/%s cannot be deleted: backend %s takes its credential from it (tokenSecretRef)", ref.Secret, b))
				continue
			}
			var keys []string
			switch {
			case declared && d.Data != nil:
				keys = d.Data.Keys()
			case inState:
				keys = r.Keys
			}
			if ref.Key != "" && keys != nil && !slices.Contains(keys, ref.Key) {
				c.problems.add(fmt.Sprintf("secretbackend/%s: its credential secret %s has no key %q (keys: %s)", b, ref.Secret, ref.Key, strings.Join(keys, ", ")))
			}
		}
	}
}

// checkCycles names every cycle of "backend takes its credential from a
// secret placed on a backend that ...", in the state the plan leads to.
func (c *computer) checkCycles() {
	var edges []CredentialEdge
	for _, b := range sortedKeys(c.tokens) {
		if !c.backendExistsAfter(b) {
			continue
		}
		for _, e := range c.tokens[b] {
			e.On = c.placedAfter(e.Secret)
			edges = append(edges, e)
		}
	}
	for _, cyc := range CredentialCycles(edges) {
		c.problems.add("dependency cycle: " + cyc.String() + " (a backend's credential must live on a backend that does not depend on it)" + c.followsDefault(cyc))
		c.resourceCycle = true
	}
}

// followsDefault explains a cycle closed by a declared secret that names no
// backend and so follows the default backend (any backend type may be the
// default): the fix is to name its backend.
func (c *computer) followsDefault(cyc CredentialCycle) string {
	var out []string
	for _, e := range cyc {
		if d, ok := c.dSecrets[e.Secret]; ok && d.Backend == "" && e.On == c.defaultBackend {
			out = append(out, fmt.Sprintf("; secret/%s (%s) names no backend, so it follows the default backend %s: give it spec.backend (backend: in the original's format), e.g. %s",
				e.Secret, declaredAt(d.Source), c.defaultBackend, state.BootstrapBackend))
		}
	}
	return strings.Join(out, "")
}

// checkDeletes applies the mass-delete guard.
func (c *computer) checkDeletes() {
	var deleted []string
	for _, a := range c.actions {
		if a.Action == Delete {
			deleted = append(deleted, a.Resource())
		}
	}
	if len(deleted) == 0 {
		return
	}
	slices.Sort(deleted)
	remaining := 0
	for name := range c.dBackends {
		if name != state.BootstrapBackend {
			remaining++
		}
	}
	for name := range c.rBackends {
		if _, ok := c.dBackends[name]; !ok && name != state.BootstrapBackend && c.backendExistsAfter(name) {
			remaining++
		}
	}
	remaining += len(c.dSecrets)
	for name := range c.rSecrets {
		if _, ok := c.dSecrets[name]; !ok && c.placedAfter(name) != "" {
			remaining++
		}
	}
	max := c.opts.maxDeletes()
	if len(deleted) > max {
		if c.opts.AllowMassDelete {
			c.warnings = append(c.warnings, fmt.Sprintf("the plan deletes %d resources, more than --max-deletes %d (allowed by --allow-mass-delete)", len(deleted), max))
		} else {
			c.problems.add(fmt.Sprintf("the plan deletes %d resources, more than --max-deletes %d (%s); pass --allow-mass-delete or raise --max-deletes if that is intended",
				len(deleted), max, nameList(deleted, 5)))
		}
	}
	if remaining == 0 {
		if c.opts.AllowMassDelete {
			c.warnings = append(c.warnings, "the plan deletes every resource in state (allowed by --allow-mass-delete)")
		} else {
			c.problems.add(fmt.Sprintf("the plan deletes every resource in state (%d); pass --allow-mass-delete if that is intended", len(deleted)))
		}
	}
}
