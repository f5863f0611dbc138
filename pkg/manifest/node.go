package manifest

import (
	"fmt"
	"math"
	"slices"
	"strings"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// docCtx decodes one YAML document. It walks the node tree by hand rather
// than unmarshalling into structs, because only the tree knows the line of
// each field and a struct decoder stops at the first problem.
type docCtx struct {
	l   *loader
	in  input
	src Source // Line is the resource's first line once known
	// resource labels errors, e.g. `secret "openai"`.
	resource   string
	aliasNodes int
}

func (d *docCtx) at(n *yaml.Node) Source {
	s := d.src
	if n != nil && n.Line > 0 {
		s.Line = n.Line
	}
	return s
}

func (d *docCtx) errf(n *yaml.Node, field, format string, args ...any) {
	d.l.c.add(&Error{Source: d.at(n), Resource: d.resource, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (d *docCtx) warnf(n *yaml.Node, field, format string, args ...any) {
	d.l.c.warn(d.at(n), d.resource, field, fmt.Sprintf(format, args...))
}

// precheck enforces the structural limits on a whole document before it is
// decoded: nesting depth, alias expansion (counted as the walk goes, so a
// "billion laughs" document stops at the bound rather than after expanding)
// and merge keys, which would make fields appear that are not written.
func (d *docCtx) precheck(n *yaml.Node, depth int, via *yaml.Node) bool {
	if depth > d.l.lim.MaxDepth {
		d.errf(n, "", "nested deeper than %d levels", d.l.lim.MaxDepth)
		return false
	}
	if via != nil {
		d.aliasNodes++
		if d.aliasNodes > d.l.lim.MaxAliasNodes {
			d.errf(via, "", "YAML aliases expand to more than %d nodes; refusing the document (a YAML bomb?)", d.l.lim.MaxAliasNodes)
			return false
		}
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			d.errf(n, "", "alias *%s refers to no anchor", n.Value)
			return false
		}
		if via == nil {
			via = n // report the outermost alias: that is where the expansion starts
		}
		return d.precheck(n.Alias, depth, via)
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				d.errf(k, "", "merge keys (<<) are not supported; write the fields out")
				return false
			}
		}
		fallthrough
	case yaml.SequenceNode, yaml.DocumentNode:
		for _, c := range n.Content {
			if !d.precheck(c, depth+1, via) {
				return false
			}
		}
	}
	return true
}

// deref follows aliases. precheck has bounded them.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 1000; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node is, for "must be X, got Y" messages. It never
// includes the node's value: the node may be a secret.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int", "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		case "!!timestamp":
			return "a timestamp"
		case "!!binary":
			return "binary data"
		}
		return "a value tagged " + quote(n.ShortTag())
	}
	return "an unexpected YAML node"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// pair is one key/value of a mapping, aliases resolved.
type pair struct {
	key   string
	knode *yaml.Node
	val   *yaml.Node
}

// pairs returns the entries of a mapping (null counts as empty), reporting a
// non-mapping, non-scalar keys and duplicate keys.
func (d *docCtx) pairs(n *yaml.Node, path string) ([]pair, bool) {
	n = deref(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errf(n, path, "must be a mapping, got %s", describe(n))
		return nil, false
	}
	ok := true
	out := make([]pair, 0, len(n.Content)/2)
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || isNull(k) {
			d.errf(k, path, "keys must be strings, got %s", describe(k))
			ok = false
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.errf(k, join(path, k.Value), "duplicate key (first at line %d)", line)
			ok = false
			continue
		}
		first[k.Value] = k.Line
		out = append(out, pair{key: k.Value, knode: k, val: v})
	}
	return out, ok
}

// fields decodes a mapping with a fixed set of keys, reporting unknown ones.
func (d *docCtx) fields(n *yaml.Node, path string, known ...string) (map[string]*yaml.Node, bool) {
	ps, ok := d.pairs(n, path)
	out := make(map[string]*yaml.Node, len(ps))
	for _, p := range ps {
		if !slices.Contains(known, p.key) {
			d.errf(p.knode, join(path, p.key), "unknown field%s (known: %s)", suggest(p.key, known), strings.Join(known, ", "))
			ok = false
			continue
		}
		out[p.key] = p.val
	}
	return out, ok
}

// suggest returns ` (did you mean "x"?)` for a key that differs from a known
// one only in case or by a missing/extra "s".
func suggest(key string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, key) || strings.EqualFold(k+"s", key) || strings.EqualFold(k, key+"s") {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return ""
}

// lookup finds a key without reporting anything; used to dispatch on kind.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// lookupString is lookup for a string scalar, "" otherwise.
func lookupString(n *yaml.Node, key string) string {
	v := lookup(n, key)
	if v == nil || v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
		return ""
	}
	return v.Value
}

// str decodes a string field; null and absent are "". Numbers and booleans
// are not silently turned into strings: `version: 1.10` would become "1.1".
func (d *docCtx) str(n *yaml.Node, field string) (string, bool) {
	n = deref(n)
	if isNull(n) {
		return "", true
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return n.Value, true
	}
	hint := ""
	if n.Kind == yaml.ScalarNode {
		hint = " (quote it to make it a string)"
	}
	d.errf(n, field, "must be a string, got %s%s", describe(n), hint)
	return "", false
}

func (d *docCtx) boolean(n *yaml.Node, field string) (bool, bool) {
	n = deref(n)
	if isNull(n) {
		return false, true
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	hint := ""
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && (strings.EqualFold(n.Value, "true") || strings.EqualFold(n.Value, "false")) {
		hint = " (remove the quotes)"
	}
	d.errf(n, field, "must be true or false, got %s%s", describe(n), hint)
	return false, false
}

// stringMap decodes a map of strings (labels, annotations). Null and {}
// are both nil: an empty label set is no label set.
func (d *docCtx) stringMap(n *yaml.Node, field string) (map[string]string, []pair, bool) {
	ps, ok := d.pairs(n, field)
	if len(ps) == 0 {
		return nil, nil, ok
	}
	out := make(map[string]string, len(ps))
	for _, p := range ps {
		v, vok := d.str(p.val, join(field, p.key))
		if !vok {
			ok = false
			continue
		}
		out[p.key] = v
	}
	return out, ps, ok
}

// toValue converts a free-form subtree (spec.config) to the value
// encoding/json would produce, so the driver validates exactly what the
// state store will hold.
func (d *docCtx) toValue(n *yaml.Node, field string) (any, bool) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		ps, ok := d.pairs(n, field)
		m := make(map[string]any, len(ps))
		for _, p := range ps {
			v, vok := d.toValue(p.val, join(field, p.key))
			ok = ok && vok
			m[p.key] = v
		}
		return m, ok
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		ok := true
		for i, c := range n.Content {
			v, vok := d.toValue(c, fmt.Sprintf("%s[%d]", field, i))
			ok = ok && vok
			s = append(s, v)
		}
		return s, ok
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			return n.Value, true
		case "!!null":
			return nil, true
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err == nil {
				return b, true
			}
		case "!!int":
			var i int64
			if err := n.Decode(&i); err == nil {
				return i, true
			}
			var u uint64
			if err := n.Decode(&u); err == nil {
				return u, true
			}
			d.errf(n, field, "integer out of range")
			return nil, false
		case "!!float":
			var f float64
			if err := n.Decode(&f); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, true
			}
			d.errf(n, field, "must be a finite number")
			return nil, false
		}
	}
	d.errf(n, field, "unsupported value: %s", describe(n))
	return nil, false
}
