package manifest

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"slices"
)

// digestVersion changes whenever the canonical form below changes, so two
// digests are only ever compared when computed the same way.
const digestVersion = "mcpctl-manifest-digest/v1\n"

type digestBackend struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Type        string            `json:"type"`
	Default     bool              `json:"default"`
	Description string            `json:"description"`
	Config      json.RawMessage   `json:"config"`
}

type digestValue struct {
	FromEnv  string `json:"fromEnv,omitempty"`
	FromFile string `json:"fromFile,omitempty"`
	Literal  bool   `json:"literal,omitempty"`
}

type digestSecret struct {
	Name        string                 `json:"name"`
	Labels      map[string]string      `json:"labels"`
	Annotations map[string]string      `json:"annotations"`
	Backend     string                 `json:"backend"`
	Managed     bool                   `json:"managed"`
	Data        map[string]digestValue `json:"data"`
}

// ComputeDigest returns "sha256:<hex>" over a canonical JSON form of the
// resources, sorted by name. It covers everything a plan depends on except
// values: a literal `value:` contributes only the fact that it is literal,
// because the digest is written to saved plans and an unsalted hash of a
// short literal would let anyone holding the plan guess it. (Value changes
// are caught by the plan's keyed fingerprints instead.) Where a resource was
// declared (file, line, directories) is not part of it.
//
// The canonical form is the JSON encoding of {"backends": [...], "secrets":
// [...]} followed by a newline; it is written to the hash one resource at a
// time, so that hashing 100,000 secrets does not hold their whole document
// (tens of MB) in memory.
func ComputeDigest(backends []Backend, secrets []Secret) string {
	var dBackends []digestBackend
	for _, b := range backends {
		dBackends = append(dBackends, digestBackend{
			Name: b.Name, Labels: b.Labels, Annotations: b.Annotations, Type: b.Type,
			Default: b.Default, Description: b.Description, Config: canonicalConfig(b.Config),
		})
	}
	slices.SortFunc(dBackends, func(a, b digestBackend) int { return cmp.Compare(a.Name, b.Name) })
	order := make([]int, len(secrets))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(secrets[a].Name, secrets[b].Name) })

	h := sha256.New()
	h.Write([]byte(digestVersion))
	h.Write([]byte(`{"backends":`))
	if dBackends == nil {
		h.Write([]byte("null"))
	} else {
		writeJSON(h, dBackends)
	}
	h.Write([]byte(`,"secrets":`))
	if len(secrets) == 0 {
		h.Write([]byte("null"))
	} else {
		h.Write([]byte("["))
		for i, idx := range order {
			s := &secrets[idx]
			ds := digestSecret{Name: s.Name, Labels: s.Labels, Annotations: s.Annotations, Backend: s.Backend, Managed: s.Data != nil}
			if s.Data != nil {
				ds.Data = make(map[string]digestValue, len(s.Data))
				for _, e := range s.Data {
					ds.Data[e.Key] = digestValue{FromEnv: e.FromEnv, FromFile: e.FromFile, Literal: e.Value != nil}
				}
			}
			if i > 0 {
				h.Write([]byte(","))
			}
			writeJSON(h, ds)
		}
		h.Write([]byte("]"))
	}
	h.Write([]byte("}\n"))
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// writeJSON writes v as json.Marshal encodes it (as an element of the
// document json.Encoder would write).
func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings and RawMessages that were just re-encoded:
		// unreachable, but a digest must never silently collide.
		panic("manifest: digest encoding: " + err.Error())
	}
	w.Write(b)
}

// canonicalConfig re-encodes a backend's spec.config ("{}" when absent) so
// that equivalent configs from different producers (Load, the state store)
// hash alike.
func canonicalConfig(cfg json.RawMessage) json.RawMessage {
	if len(cfg) == 0 {
		return json.RawMessage("{}")
	}
	var v any
	if json.Unmarshal(cfg, &v) == nil {
		if c, err := json.Marshal(v); err == nil {
			return c
		}
	}
	return cfg
}
