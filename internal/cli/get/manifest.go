package get

import (
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// toManifest turns state rows into declared resources. Secrets become
// placements only (no spec.data): values stay on their backend, and a
// manifest without data leaves them unmanaged, so applying the output
// changes nothing. The backend is always named, even the default one, so
// the document says where the secret is rather than where it would go.
func toManifest(bs []state.Backend, ss []state.Secret) ([]manifest.Backend, []manifest.Secret) {
	var mb []manifest.Backend
	var ms []manifest.Secret
	for _, b := range bs {
		mb = append(mb, manifest.Backend{
			Name:        b.Name,
			Labels:      b.Labels,
			Annotations: b.Annotations,
			Type:        b.Type,
			Default:     b.IsDefault,
			Description: b.Description,
			Config:      b.Config,
		})
	}
	for _, s := range ss {
		ms = append(ms, manifest.Secret{
			Name:        s.Name,
			Labels:      s.Labels,
			Annotations: s.Annotations,
			Backend:     s.BackendName,
		})
	}
	return mb, ms
}

// marshal prints rows as canonical mcpctl/v1 documents: YAML documents, or
// a JSON kind: List.
func marshal(bs []state.Backend, ss []state.Secret, format string) ([]byte, error) {
	mb, ms := toManifest(bs, ss)
	return manifest.Marshal(mb, ms, format)
}
