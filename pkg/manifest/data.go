package manifest

import (
	"encoding/json"
	"slices"
	"strings"
)

// KeySource is one key of spec.data and where its value comes from.
type KeySource struct {
	Key string
	ValueSource
}

// Data is spec.data: the keys of a secret's managed values and their
// sources, sorted by key, each key once. nil means the values are unmanaged
// (no spec.data); a non-nil empty Data (`data: {}`) manages no keys.
//
// It is a sorted slice rather than a map because a loaded manifest set
// holds one per secret: two keys take 112 bytes here against about 500 in
// a map, which at 100,000 secrets is most of the difference between
// fitting in 250 MB and not. Data read from a Set may be shared with other
// secrets: replace it, never modify it in place.
type Data []KeySource

// DataOf builds Data from a map (nil for a nil map).
func DataOf(m map[string]ValueSource) Data {
	if m == nil {
		return nil
	}
	d := make(Data, 0, len(m))
	for k, vs := range m {
		d = append(d, KeySource{Key: k, ValueSource: vs})
	}
	d.sort()
	return d
}

func (d Data) sort() {
	slices.SortFunc(d, func(a, b KeySource) int { return strings.Compare(a.Key, b.Key) })
}

// Get returns the source of key.
func (d Data) Get(key string) (ValueSource, bool) {
	i, ok := slices.BinarySearchFunc(d, key, func(e KeySource, k string) int { return strings.Compare(e.Key, k) })
	if !ok {
		return ValueSource{}, false
	}
	return d[i].ValueSource, true
}

// Has reports whether key is declared.
func (d Data) Has(key string) bool {
	_, ok := d.Get(key)
	return ok
}

// Keys returns the key names, sorted (a new slice).
func (d Data) Keys() []string {
	keys := make([]string, len(d))
	for i, e := range d {
		keys[i] = e.Key
	}
	return keys
}

// Map returns the sources as a map (nil for nil Data).
func (d Data) Map() map[string]ValueSource {
	if d == nil {
		return nil
	}
	m := make(map[string]ValueSource, len(d))
	for _, e := range d {
		m[e.Key] = e.ValueSource
	}
	return m
}

// With returns a copy of d with key set to vs (added or replaced); d is not
// modified.
func (d Data) With(key string, vs ValueSource) Data {
	i, found := slices.BinarySearchFunc(d, key, func(e KeySource, k string) int { return strings.Compare(e.Key, k) })
	out := make(Data, 0, len(d)+1)
	out = append(out, d[:i]...)
	out = append(out, KeySource{Key: key, ValueSource: vs})
	if found {
		i++
	}
	return append(out, d[i:]...)
}

// Equal reports whether d and o declare the same keys with the same
// sources (literal values compared by content), and are both nil or both
// non-nil.
func (d Data) Equal(o Data) bool {
	if (d == nil) != (o == nil) || len(d) != len(o) {
		return false
	}
	for i := range d {
		a, b := d[i], o[i]
		if a.Key != b.Key || a.FromEnv != b.FromEnv || a.FromFile != b.FromFile || (a.Value == nil) != (b.Value == nil) ||
			(a.Value != nil && *a.Value != *b.Value) {
			return false
		}
	}
	return true
}

// MarshalJSON encodes Data as the map it stands for ({"KEY": {"fromEnv":
// ...}}, keys sorted; null for nil), as when Data was a map.
func (d Data) MarshalJSON() ([]byte, error) { return json.Marshal(d.Map()) }

// UnmarshalJSON decodes the form MarshalJSON writes.
func (d *Data) UnmarshalJSON(b []byte) error {
	var m map[string]ValueSource
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*d = DataOf(m)
	return nil
}
