package manifest

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
func ComputeDigest(backends []Backend, secrets []Secret) string {
	var doc struct {
		Backends []digestBackend `json:"backends"`
		Secrets  []digestSecret  `json:"secrets"`
	}
	for _, b := range backends {
		cfg := b.Config
		if len(cfg) == 0 {
			cfg = json.RawMessage("{}")
		}
		// Re-encode so that equivalent configs from different producers
		// (Load, the state store) hash alike.
		var v any
		if json.Unmarshal(cfg, &v) == nil {
			if c, err := json.Marshal(v); err == nil {
				cfg = c
			}
		}
		doc.Backends = append(doc.Backends, digestBackend{
			Name: b.Name, Labels: b.Labels, Annotations: b.Annotations, Type: b.Type,
			Default: b.Default, Description: b.Description, Config: cfg,
		})
	}
	for _, s := range secrets {
		ds := digestSecret{Name: s.Name, Labels: s.Labels, Annotations: s.Annotations, Backend: s.Backend, Managed: s.Data != nil}
		if s.Data != nil {
			ds.Data = make(map[string]digestValue, len(s.Data))
			for _, e := range s.Data {
				ds.Data[e.Key] = digestValue{FromEnv: e.FromEnv, FromFile: e.FromFile, Literal: e.Value != nil}
			}
		}
		doc.Secrets = append(doc.Secrets, ds)
	}
	slices.SortFunc(doc.Backends, func(a, b digestBackend) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(doc.Secrets, func(a, b digestSecret) int { return cmp.Compare(a.Name, b.Name) })
	var buf bytes.Buffer
	buf.WriteString(digestVersion)
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(doc); err != nil {
		// Only maps of strings and RawMessages that were just re-encoded:
		// unreachable, but a digest must never silently collide.
		panic("manifest: digest encoding: " + err.Error())
	}
	sum := sha256.Sum256(buf.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:])
}
