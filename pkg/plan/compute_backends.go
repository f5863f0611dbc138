package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func desiredBackendSummary(b *manifest.Backend, isDefault bool) *Summary {
	return &Summary{
		Type:        drivers.Canonical(b.Type),
		Default:     isDefault,
		Description: b.Description,
		Config:      maskConfig(b.Config),
		Labels:      nonEmpty(b.Labels),
		Annotations: nonEmpty(b.Annotations),
		Protected:   protectedBy(b.Annotations),
	}
}

func rowBackendSummary(r *state.Backend) *Summary {
	return &Summary{
		Type:        r.Type,
		Default:     r.IsDefault,
		Description: r.Description,
		Config:      maskConfig(r.Config),
		Labels:      nonEmpty(r.Labels),
		Annotations: nonEmpty(r.Annotations),
		Protected:   r.Protected,
	}
}

// planBackends diffs declared backends against backend rows.
func (c *computer) planBackends() {
	names := sortedKeys(c.dBackends)
	for n := range c.rBackends {
		if _, ok := c.dBackends[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		d, declared := c.dBackends[name]
		r, inState := c.rBackends[name]
		switch {
		case declared && !inState:
			c.createBackend(d)
		case declared && inState:
			c.updateBackend(d, r)
		default:
			c.undeclaredBackend(r)
		}
	}
}

func (c *computer) backendRefs(name, typ string, raw []byte, declared bool) {
	refs, err := CredentialEdges(name, typ, raw, nil)
	if err != nil {
		if declared {
			c.problems.add(fmt.Sprintf("secretbackend/%s: config: %v", name, err))
		} else {
			c.warnings = append(c.warnings, fmt.Sprintf("secretbackend/%s: the config in state does not validate (%v); its credential dependencies are not known to this plan", name, err))
		}
		return
	}
	if len(refs) > 0 {
		c.tokens[name] = refs
	}
}

func (c *computer) createBackend(d *manifest.Backend) {
	c.backendRefs(d.Name, d.Type, d.Config, true)
	cfg, err := canonicalJSON(d.Config)
	if err != nil {
		c.problems.add(fmt.Sprintf("secretbackend/%s: config is not valid JSON: %v", d.Name, err))
	}
	c.backendAction[d.Name] = c.add(&Action{
		ID:     "secretbackend/" + d.Name,
		Kind:   KindSecretBackend,
		Name:   d.Name,
		Action: Create,
		Reason: "declared in " + declaredAt(d.Source) + "; not in state",
		After:  desiredBackendSummary(d, d.Name == c.defaultBackend),
		Config: cfg,
	})
}

func (c *computer) updateBackend(d *manifest.Backend, r *state.Backend) {
	c.backendRefs(d.Name, d.Type, d.Config, true)
	if typ := drivers.Canonical(d.Type); typ != r.Type {
		c.problems.add(fmt.Sprintf("secretbackend/%s: type is immutable (%s in state, %s in %s); declare a new backend and move the secrets to it",
			d.Name, r.Type, typ, declaredAt(d.Source)))
		return
	}
	before := rowBackendSummary(r)
	after := desiredBackendSummary(d, d.Name == c.defaultBackend)
	if d.Name == state.BootstrapBackend {
		// The trust root is protected by what it is, not by an annotation.
		after.Protected = true
	}
	var changes []string
	want, err := canonicalJSON(d.Config)
	if err != nil {
		c.problems.add(fmt.Sprintf("secretbackend/%s: config is not valid JSON: %v", d.Name, err))
		return
	}
	have, err := canonicalJSON(r.Config)
	if err != nil {
		have = nil
	}
	if string(want) != string(have) {
		changes = append(changes, "config ("+strings.Join(changedKeys(have, want), ", ")+")")
	}
	changes = append(changes, c.defaultChange(r, after.Default)...)
	if before.Description != after.Description {
		changes = append(changes, "description")
	}
	changes = append(changes, metaChanges(before, after)...)
	if len(changes) == 0 {
		return
	}
	c.backendAction[d.Name] = c.add(&Action{
		ID:           "secretbackend/" + d.Name,
		Kind:         KindSecretBackend,
		Name:         d.Name,
		Action:       Update,
		Reason:       "differs from state: " + strings.Join(changes, "; "),
		Before:       before,
		After:        after,
		Precondition: Precondition{RowGeneration: r.Generation},
		Config:       want,
	})
}

func (c *computer) defaultChange(r *state.Backend, wantDefault bool) []string {
	switch {
	case r.IsDefault && !wantDefault:
		return []string{"no longer the default (" + c.defaultBackend + " is)"}
	case !r.IsDefault && wantDefault:
		return []string{"becomes the default backend"}
	}
	return nil
}

// metaChanges names differing labels, annotations and protection.
func metaChanges(before, after *Summary) []string {
	var out []string
	if !maps.Equal(before.Labels, after.Labels) {
		out = append(out, "labels")
	}
	if !maps.Equal(before.Annotations, after.Annotations) {
		out = append(out, "annotations")
	}
	if before.Protected != after.Protected {
		if after.Protected {
			out = append(out, "becomes protected (mcpctl/prevent-destroy)")
		} else {
			out = append(out, "no longer protected")
		}
	}
	return out
}

// undeclaredBackend handles a backend row no manifest declares: the bootstrap
// backend (never deleted, only its default flag follows the manifests), a
// pruned backend, or an unmanaged one.
func (c *computer) undeclaredBackend(r *state.Backend) {
	wantDefault := r.Name == c.defaultBackend
	if r.Name == state.BootstrapBackend || !c.pruneSelects(r.Labels) {
		c.backendRefs(r.Name, r.Type, r.Config, false)
		if r.Name != state.BootstrapBackend {
			c.finding(Unmanaged, KindSecretBackend, r.Name, "", c.unmanagedReason())
		}
		if r.IsDefault != wantDefault {
			// Only one backend may be default; the flag follows the
			// manifests even on rows they do not declare.
			after := rowBackendSummary(r)
			after.Default = wantDefault
			c.backendAction[r.Name] = c.add(&Action{
				ID:           "secretbackend/" + r.Name,
				Kind:         KindSecretBackend,
				Name:         r.Name,
				Action:       Update,
				Reason:       "differs from state: " + strings.Join(c.defaultChange(r, wantDefault), "; "),
				Before:       rowBackendSummary(r),
				After:        after,
				Precondition: Precondition{RowGeneration: r.Generation},
				Config:       mustCanonical(r.Config),
			})
		}
		return
	}
	c.backendRefs(r.Name, r.Type, r.Config, false)
	if r.Protected {
		c.problems.add(fmt.Sprintf("secretbackend/%s is protected (mcpctl/prevent-destroy) and cannot be deleted; declare it without the annotation and apply before pruning it", r.Name))
	}
	c.backendAction[r.Name] = c.add(&Action{
		ID:           "secretbackend/" + r.Name,
		Kind:         KindSecretBackend,
		Name:         r.Name,
		Action:       Delete,
		Reason:       "not declared in any manifest; selected by " + c.selectorText(),
		Before:       rowBackendSummary(r),
		Precondition: Precondition{RowGeneration: r.Generation},
	})
}

func mustCanonical(raw []byte) []byte {
	b, err := canonicalJSON(raw)
	if err != nil {
		return raw
	}
	return b
}

func (c *computer) pruneSelects(labels map[string]string) bool {
	return c.opts.Prune && c.opts.Selector.Matches(labels)
}

func (c *computer) unmanagedReason() string {
	if c.opts.Prune {
		return "in state, not declared in any manifest; not selected by -l " + c.opts.Selector.String()
	}
	return "in state, not declared in any manifest (plan with --prune to delete it)"
}

// canonicalJSON re-encodes a JSON document with sorted object keys and no
// insignificant space; null, empty and {} are all "{}" so an omitted config
// equals an empty one.
func canonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}"), nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if v == nil {
		return json.RawMessage("{}"), nil
	}
	b, err := json.Marshal(v)
	return b, err
}

// maskConfig is drivers.MaskConfig for a summary: an undecodable config is
// shown as a string saying so rather than verbatim.
func maskConfig(raw json.RawMessage) json.RawMessage {
	m, err := drivers.MaskConfig(raw)
	if err != nil {
		return json.RawMessage(`"(invalid JSON)"`)
	}
	return m
}

// changedKeys lists the top-level keys whose values differ between two
// canonical JSON objects.
func changedKeys(a, b json.RawMessage) []string {
	var ma, mb map[string]json.RawMessage
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	var out []string
	for k, va := range ma {
		if vb, ok := mb[k]; !ok || !bytes.Equal(va, vb) {
			out = append(out, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
