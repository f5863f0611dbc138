package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

type metaJSON struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type objectJSON struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   metaJSON `json:"metadata"`
	Spec       any      `json:"spec"`
}

type backendSpecJSON struct {
	Type        string          `json:"type"`
	Default     bool            `json:"default,omitempty"`
	Description string          `json:"description,omitempty"`
	Config      json.RawMessage `json:"config,omitempty"`
}

type secretSpecJSON struct {
	Backend string `json:"backend,omitempty"`
	// A pointer so that declared-but-empty data ({}) survives, distinct
	// from no data (values unmanaged).
	Data *map[string]ValueSource `json:"data,omitempty"`
}

type listJSON struct {
	APIVersion string       `json:"apiVersion"`
	Kind       string       `json:"kind"`
	Items      []objectJSON `json:"items"`
}

// Marshal renders resources as canonical mcpctl/v1 manifests that Load
// accepts and that plan as no change: format "yaml" gives one document per
// resource (backends first, in the order given), "json" a kind: List.
// Literal values in Data are printed as given; callers printing state pass
// resources without them.
func Marshal(backends []Backend, secrets []Secret, format string) ([]byte, error) {
	objs := make([]objectJSON, 0, len(backends)+len(secrets))
	for _, b := range backends {
		spec := backendSpecJSON{Type: b.Type, Default: b.Default, Description: b.Description}
		if len(b.Config) > 0 && !bytes.Equal(bytes.TrimSpace(b.Config), []byte("{}")) && !bytes.Equal(bytes.TrimSpace(b.Config), []byte("null")) {
			if !json.Valid(b.Config) {
				return nil, fmt.Errorf("backend %s: config is not valid JSON", quote(b.Name))
			}
			spec.Config = b.Config
		}
		objs = append(objs, objectJSON{
			APIVersion: APIVersion, Kind: KindSecretBackend,
			Metadata: metaJSON{Name: b.Name, Labels: b.Labels, Annotations: b.Annotations},
			Spec:     spec,
		})
	}
	for _, s := range secrets {
		spec := secretSpecJSON{Backend: s.Backend}
		if s.Data != nil {
			data := s.Data.Map()
			spec.Data = &data
		}
		objs = append(objs, objectJSON{
			APIVersion: APIVersion, Kind: KindSecret,
			Metadata: metaJSON{Name: s.Name, Labels: s.Labels, Annotations: s.Annotations},
			Spec:     spec,
		})
	}
	switch format {
	case "json":
		out, err := json.MarshalIndent(listJSON{APIVersion: APIVersion, Kind: KindList, Items: objs}, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(out, '\n'), nil
	case "yaml":
		return marshalYAML(objs)
	}
	return nil, fmt.Errorf("unknown output format %q (yaml or json)", format)
}

// marshalYAML goes through JSON so both formats share one field order and
// one encoding of the config, then re-parses the JSON as a YAML node tree
// and drops its flow style and quotes; the encoder quotes again only the
// strings that would otherwise read as another type ("true", "123").
func marshalYAML(objs []objectJSON) ([]byte, error) {
	if len(objs) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, o := range objs {
		j, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		var n yaml.Node
		if err := yaml.Unmarshal(j, &n); err != nil {
			return nil, err
		}
		blockStyle(&n)
		if err := enc.Encode(&n); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

func blockStyle(n *yaml.Node) {
	switch n.Kind {
	case yaml.ScalarNode:
		n.Style = 0
		if n.Tag == "!!str" && yaml11Bools[n.Value] {
			// YAML 1.1 readers (PyYAML, older tools) take these as booleans.
			n.Style = yaml.DoubleQuotedStyle
		}
	case yaml.MappingNode, yaml.SequenceNode:
		if len(n.Content) > 0 {
			n.Style = 0
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}
