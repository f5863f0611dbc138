package plan

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

func itoa[T ~int | ~int64](i T) string { return strconv.FormatInt(int64(i), 10) }

// nonEmpty returns nil for an empty map so summaries compare and serialise
// alike whether a field was absent or empty.
func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
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

// credentialWords mark config fields whose string values are treated as
// credentials in displayed summaries.
var credentialWords = []string{"password", "passwd", "token", "secret", "credential", "privatekey", "apikey"}

func looksLikeCredential(key string) bool {
	k := strings.ToLower(key)
	for _, suffix := range []string{"ref", "file", "path", "method"} {
		if strings.HasSuffix(k, suffix) {
			return false
		}
	}
	for _, w := range credentialWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// maskConfig returns the canonical config with credential-looking string
// fields replaced by "(sensitive)". Backend configs are meant to reference
// credentials (tokenSecretRef), so this is a second line of defence for
// display, not the only one. An undecodable config is shown as a string
// saying so rather than verbatim.
func maskConfig(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return json.RawMessage(`"(invalid JSON)"`)
	}
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(mask(v))
	return b
}

func mask(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if _, isString := e.(string); isString && looksLikeCredential(k) {
				out[k] = "(sensitive)"
				continue
			}
			out[k] = mask(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = mask(e)
		}
		return out
	}
	return v
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
