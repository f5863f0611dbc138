package drivers

import (
	"fmt"
	"maps"
	"slices"
)

const redacted = "(sensitive)"

// Values are the key/value pairs of one secret. Every way of printing them
// (String, GoString, %v, %+v, %#v, %s, %q, JSON, slog) yields "(sensitive)"
// so a value cannot reach a log, an error or a plan by accident. Read them
// only through Get, Keys, Len and Map.
type Values struct {
	m map[string]string
}

// NewValues copies m into a Values.
func NewValues(m map[string]string) Values {
	return Values{m: maps.Clone(m)}
}

// Get returns the value of key k.
func (v Values) Get(k string) (string, bool) {
	s, ok := v.m[k]
	return s, ok
}

// Keys returns the sorted key names.
func (v Values) Keys() []string {
	return slices.Sorted(maps.Keys(v.m))
}

// Len is the number of keys.
func (v Values) Len() int { return len(v.m) }

// Map returns a copy of the key/value pairs, for code that must hand them to
// a backend or a child process. Never log the result.
func (v Values) Map() map[string]string { return maps.Clone(v.m) }

// Equal reports whether both hold the same keys and values.
func (v Values) Equal(o Values) bool { return maps.Equal(v.m, o.m) }

func (v Values) String() string   { return redacted }
func (v Values) GoString() string { return redacted }

// Format makes every fmt verb print "(sensitive)".
func (v Values) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON prints "(sensitive)" so a Values field in a JSON document never
// carries values. Code that must serialise values uses Map explicitly.
func (v Values) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText covers encoders that prefer text (YAML, slog's text handler).
func (v Values) MarshalText() ([]byte, error) { return []byte(redacted), nil }
