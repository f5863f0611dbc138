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
			d, declared := c.dSecrets[ref.Name]
			r, inState := c.rSecrets[ref.Name]
			switch {
			case !declared && !inState:
				c.problems.add(fmt.Sprintf("secretbackend/%s: its credential secret %q (tokenSecretRef) is neither declared nor in state", b, ref.Name))
				continue
			case c.placedAfter(ref.Name) == "":
				c.problems.add(fmt.Sprintf("secret/%s cannot be deleted: backend %s takes its credential from it (tokenSecretRef)", ref.Name, b))
				continue
			}
			var keys []string
			switch {
			case declared && d.Data != nil:
				keys = sortedKeys(d.Data)
			case inState:
				keys = r.Keys
			}
			if ref.Key != "" && keys != nil && !slices.Contains(keys, ref.Key) {
				c.problems.add(fmt.Sprintf("secretbackend/%s: its credential secret %s has no key %q (keys: %s)", b, ref.Name, ref.Key, strings.Join(keys, ", ")))
			}
		}
	}
}

// checkCycles names every cycle of "backend takes its credential from a
// secret placed on a backend that ...", in the state the plan leads to.
func (c *computer) checkCycles() {
	type edge struct{ secret, to string }
	edges := map[string][]edge{}
	for _, b := range sortedKeys(c.tokens) {
		if !c.backendExistsAfter(b) {
			continue
		}
		for _, ref := range c.tokens[b] {
			if to := c.placedAfter(ref.Name); to != "" {
				edges[b] = append(edges[b], edge{ref.Name, to})
			}
		}
	}
	seen := map[string]bool{}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string // alternating backend, secret, backend, ...
	var visit func(b string)
	visit = func(b string) {
		color[b] = grey
		stack = append(stack, b)
		for _, e := range edges[b] {
			stack = append(stack, "secret/"+e.secret)
			switch color[e.to] {
			case white:
				visit(e.to)
			case grey:
				start := slices.Index(stack, e.to)
				cyc := rotate(slices.Clone(stack[start:]))
				key := strings.Join(cyc, " -> ")
				if !seen[key] {
					seen[key] = true
					c.problems.add("dependency cycle: " + key + " -> " + cyc[0] + " (a backend's credential must live on a backend that does not depend on it)")
					c.resourceCycle = true
				}
			}
			stack = stack[:len(stack)-1]
		}
		stack = stack[:len(stack)-1]
		color[b] = black
	}
	for _, b := range sortedKeys(edges) {
		if color[b] == white {
			visit(b)
		}
	}
}

// rotate starts a cycle of alternating backends and secrets at its
// smallest backend, so each cycle is named one way.
func rotate(cyc []string) []string {
	best := 0
	for i := 0; i < len(cyc); i += 2 {
		if cyc[i] < cyc[best] {
			best = i
		}
	}
	return append(cyc[best:], cyc[:best]...)
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
