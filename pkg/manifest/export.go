package manifest

import (
	"fmt"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// Files exported by the original mcpctl (`get -o yaml|json` there) are
// apply -f input too. Beyond the flat and grouped forms (legacy.go) they
// carry what its server keeps about each resource, and its other resources:
//
//   - serverFields on a flat document or a grouped item are dropped with one
//     warning per field name for the whole load, as kubectl drops status:
//     they describe the original's database rows, not the desired state;
//   - a document may be a top-level list of documents (a JSON array, as its
//     `get -o json` prints a list);
//   - its other resource groups (servers:, projects: ...) in the grouped
//     form, and flat documents of its other kinds, are skipped with a
//     warning: this mcpctl manages secret storage only.

// serverFields are the original's server-side fields.
var serverFields = []string{"id", "createdAt", "updatedAt", "version", "backendId"}

// originalKinds are the original mcpctl's other resource kinds, skipped
// with a warning when they appear as flat documents. Only these: an unknown
// kind stays an error, so a misspelt `kind: secert` is never silently
// dropped (and then pruned).
var originalKinds = []string{"server", "instance", "project", "template", "prompt", "promptrequest", "user", "group", "rbac", "rbacdefinition"}

// droppedField is a server-side field seen during a load.
type droppedField struct {
	first    Source
	resource string
	count    int
}

// dropServerFields returns n without the server-side fields, recording them
// for warnings(). n itself is not changed.
func (d *docCtx) dropServerFields(n *yaml.Node) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return n
	}
	var kept []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k.Kind == yaml.ScalarNode && slices.Contains(serverFields, k.Value) {
			d.l.dropField(k.Value, d.at(k), d.resource)
			continue
		}
		kept = append(kept, n.Content[i], n.Content[i+1])
	}
	if len(kept) == len(n.Content) {
		return n
	}
	c := *n
	c.Content = kept
	return &c
}

func (l *loader) dropField(name string, at Source, resource string) {
	if l.dropped == nil {
		l.dropped = map[string]*droppedField{}
	}
	f := l.dropped[name]
	if f == nil {
		f = &droppedField{first: at, resource: resource}
		l.dropped[name] = f
	}
	f.count++
}

// droppedWarnings adds one warning per dropped field name.
func (l *loader) droppedWarnings() {
	for _, name := range sortedKeys(l.dropped) {
		f := l.dropped[name]
		what := "field kept by the original mcpctl's server, not part of the desired state: ignored"
		if name == "backendId" {
			what += " (a secret is placed by backend, a name; without one it goes to the default backend)"
		}
		if f.count > 1 {
			what += fmt.Sprintf(" here and in %d more resource(s)", f.count-1)
		}
		l.c.warn(f.first, f.resource, name, what)
	}
}

// array decodes a top-level list of documents.
func (d *docCtx) array(n *yaml.Node) {
	d.eachItem(n.Content, "", "a mapping (a manifest document)", func(it *yaml.Node, _ string) {
		d.item(it).mapping(it)
	})
}

// isGrouped reports whether a mapping without apiVersion and kind is the
// original's grouped form: it has secretbackends: or secrets:, or every
// value is a list (an export of its other resources only).
func isGrouped(n *yaml.Node) bool {
	if lookup(n, "secretbackends") != nil || lookup(n, "secrets") != nil {
		return true
	}
	if len(n.Content) == 0 {
		return false
	}
	for i := 1; i < len(n.Content); i += 2 {
		if deref(n.Content[i]).Kind != yaml.SequenceNode {
			return false
		}
	}
	return true
}

// skipGroup warns about one of the original's other resource groups.
func (d *docCtx) skipGroup(key *yaml.Node, list *yaml.Node) {
	n := 0
	if list != nil && list.Kind == yaml.SequenceNode {
		n = len(list.Content)
	}
	d.warnf(key, key.Value, "not a resource of this mcpctl (it manages secret backends and secrets only): %d item(s) skipped", n)
}

// skipKind warns about a flat document of one of the original's other
// kinds and reports whether k is one.
func (d *docCtx) skipKind(doc, kn *yaml.Node, k string) bool {
	if !slices.Contains(originalKinds, strings.ToLower(k)) {
		return false
	}
	what := "document"
	if name := lookupString(doc, "name"); name != "" {
		what = quote(name)
	}
	d.warnf(kn, "kind", "%s is a resource of the original mcpctl that this mcpctl does not manage (it manages secret backends and secrets only): %s skipped", quote(k), what)
	return true
}
