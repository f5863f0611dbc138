package plan

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

func itoa[T ~int | ~int64](i T) string { return strconv.FormatInt(int64(i), 10) }

// nonEmpty returns nil for an empty map so summaries compare and serialise
// alike whether a field was absent or empty.
// nonEmpty is m, nil when empty. The map is shared, not copied: labels and
// annotations maps of manifests, rows and summaries are only ever replaced,
// never modified in place, and a copy per secret is most of a large plan's
// memory.
func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func protectedBy(annotations map[string]string) bool {
	return strings.EqualFold(annotations["mcpctl/prevent-destroy"], "true")
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

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// nameList shortens a list of names for messages: "a, b, c and 12 more".
func nameList(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + " and " + itoa(len(names)-max) + " more"
}
