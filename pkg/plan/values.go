package plan

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
)

// ErrValuesChanged is returned by Action.ResolveValues when the values
// resolved now do not match the fingerprint planned.
var ErrValuesChanged = errors.New("managed values changed since the plan was made")

// newManagedValues records where a declared secret's values come from.
func newManagedValues(s *manifest.Secret, fingerprint string) *ManagedValues {
	mv := &ManagedValues{
		Fingerprint: fingerprint,
		BaseDir:     s.BaseDir,
		Root:        s.Root,
		FilesRoot:   s.FilesRoot,
		DeclaredIn:  Location{File: s.Source.File, Document: s.Source.Document, Line: s.Source.Line},
	}
	var lits map[string]string
	mv.Sources = make([]Source, 0, len(s.Data))
	for _, e := range s.Data {
		k, vs := e.Key, e.ValueSource
		src := Source{Key: k, FromEnv: vs.FromEnv, FromFile: vs.FromFile}
		if vs.Value != nil {
			src.Literal = true
			if lits == nil {
				lits = map[string]string{}
			}
			lits[k] = *vs.Value
		}
		mv.Sources = append(mv.Sources, src)
	}
	if len(lits) > 0 {
		mv.literal = func(k string) (string, bool) { v, ok := lits[k]; return v, ok }
	}
	return mv
}

// Keys are the managed key names, sorted.
func (m *ManagedValues) Keys() []string {
	keys := make([]string, len(m.Sources))
	for i, s := range m.Sources {
		keys[i] = s.Key
	}
	slices.Sort(keys)
	return keys
}

// ResolveValues resolves the action's managed values from their sources
// (environment, files; literals only in the process that computed the plan).
// When key is non-nil it computes their fingerprint and, if the plan recorded
// one, refuses values that differ from what was planned (ErrValuesChanged).
// It returns the values and their fingerprint ("" without a key).
func (a *Action) ResolveValues(key []byte, lookupEnv func(string) (string, bool)) (drivers.Values, string, error) {
	if a.Values == nil {
		return drivers.Values{}, "", fmt.Errorf("%s: the plan manages no values for it", a.Resource())
	}
	m := a.Values
	sec := manifest.Secret{
		Name:      a.Name,
		BaseDir:   m.BaseDir,
		Root:      m.Root,
		FilesRoot: m.FilesRoot,
		Source:    manifest.Source{File: m.DeclaredIn.File, Document: m.DeclaredIn.Document, Line: m.DeclaredIn.Line},
	}
	data := make(map[string]manifest.ValueSource, len(m.Sources))
	for _, s := range m.Sources {
		vs := manifest.ValueSource{FromEnv: s.FromEnv, FromFile: s.FromFile}
		if s.Literal {
			var v string
			ok := false
			if m.literal != nil {
				v, ok = m.literal(s.Key)
			}
			if !ok {
				return drivers.Values{}, "", fmt.Errorf("%s: key %s is a literal value (declared at %s:%d), which saved plans do not carry; apply the manifests with -f instead of a saved plan", a.Resource(), s.Key, m.DeclaredIn.File, m.DeclaredIn.Line)
			}
			vs.Value = &v
		}
		data[s.Key] = vs
	}
	sec.Data = manifest.DataOf(data)
	vals, err := sec.Resolve(lookupEnv)
	if err != nil {
		return drivers.Values{}, "", fmt.Errorf("%s: %w", a.Resource(), err)
	}
	if key == nil {
		return vals, "", nil
	}
	fp := Fingerprint(key, vals)
	if want := m.Fingerprint; want != "" && fp != want {
		return drivers.Values{}, "", fmt.Errorf("%s: %w; plan again", a.Resource(), ErrValuesChanged)
	}
	return vals, fp, nil
}
