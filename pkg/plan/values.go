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

// dataShare gives the secrets of one Compute that share their manifest
// Data (manifest.Load shares equal spec.data between secrets) one Sources
// slice and one list of key names, instead of a copy per action: at
// 100,000 secrets created that is ~14 MB of a plan. Plans, like manifest
// sets, are read-only once built: Sources and Summary.Keys are replaced,
// never modified in place.
type dataShare struct {
	m map[*manifest.KeySource]sharedData
}

type sharedData struct {
	n       int
	keys    []string
	sources []Source // nil until asked for
}

// maxDataShare bounds how many distinct Data a dataShare remembers.
const maxDataShare = 4096

func (ds *dataShare) entry(d manifest.Data) *sharedData {
	if len(d) == 0 {
		return nil
	}
	e, ok := ds.m[&d[0]]
	if ok && e.n == len(d) {
		return &e
	}
	return nil
}

func (ds *dataShare) put(d manifest.Data, e sharedData) {
	if len(d) == 0 {
		return
	}
	if ds.m == nil {
		ds.m = map[*manifest.KeySource]sharedData{}
	}
	if _, ok := ds.m[&d[0]]; ok || len(ds.m) < maxDataShare {
		e.n = len(d)
		ds.m[&d[0]] = e
	}
}

// keys returns d's key names, sorted.
func (ds *dataShare) keys(d manifest.Data) []string {
	if e := ds.entry(d); e != nil {
		return e.keys
	}
	keys := d.Keys()
	ds.put(d, sharedData{keys: keys})
	return keys
}

// newManagedValues records where a declared secret's values come from.
func (ds *dataShare) newManagedValues(s *manifest.Secret, fingerprint string) *ManagedValues {
	mv := newManagedValues(s, fingerprint, ds.entry(s.Data))
	if mv.literal == nil {
		e := ds.entry(s.Data)
		if e == nil {
			e = &sharedData{keys: s.Data.Keys()}
		}
		if e.sources == nil {
			e.sources = mv.Sources
			ds.put(s.Data, *e)
		}
	}
	return mv
}

// newManagedValues records where a declared secret's values come from,
// taking Sources from shared when it has them.
func newManagedValues(s *manifest.Secret, fingerprint string, shared *sharedData) *ManagedValues {
	mv := &ManagedValues{
		Fingerprint: fingerprint,
		BaseDir:     s.BaseDir,
		Root:        s.Root,
		FilesRoot:   s.FilesRoot,
		DeclaredIn:  Location{File: s.Source.File, Document: s.Source.Document, Line: s.Source.Line},
	}
	if shared != nil && shared.sources != nil {
		mv.Sources = shared.sources
		return mv
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
