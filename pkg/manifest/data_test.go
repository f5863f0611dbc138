package manifest

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDataOrderAndLookup(t *testing.T) {
	t.Parallel()
	lit := "v"
	m := map[string]ValueSource{"b": {FromEnv: "B"}, "A": {FromFile: "a.txt"}, "a.b": {Value: &lit}, "_": {FromEnv: "U"}}
	d := DataOf(m)
	if got, want := d.Keys(), []string{"A", "_", "a.b", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %v, want %v (byte order, as sorting map keys gave)", got, want)
	}
	for k, want := range m {
		if got, ok := d.Get(k); !ok || got != want {
			t.Errorf("Get(%q) = %v, %v; want %v", k, got, ok, want)
		}
	}
	if _, ok := d.Get("c"); ok || d.Has("c") || !d.Has("A") {
		t.Error("Get/Has of an absent key")
	}
	if !reflect.DeepEqual(d.Map(), m) {
		t.Errorf("Map = %v, want %v", d.Map(), m)
	}

	// nil (unmanaged) and empty (data: {}) stay apart.
	if DataOf(nil) != nil || DataOf(map[string]ValueSource{}) == nil || Data(nil).Map() != nil || (Data{}).Map() == nil {
		t.Error("nil and empty Data are not kept apart")
	}
	if Data(nil).Equal(Data{}) || !Data(nil).Equal(nil) || !(Data{}).Equal(Data{}) {
		t.Error("Equal does not tell nil from empty")
	}

	// With copies: the original (which may be shared) is left alone.
	d2 := d.With("b", ValueSource{FromEnv: "OTHER"}).With("0", ValueSource{FromEnv: "Z"})
	if got, _ := d.Get("b"); got.FromEnv != "B" {
		t.Error("With modified its receiver")
	}
	if got, want := d2.Keys(), []string{"0", "A", "_", "a.b", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("With: keys %v, want %v", got, want)
	}
	if got, _ := d2.Get("b"); got.FromEnv != "OTHER" || d2.Equal(d) || !d.Equal(DataOf(m)) {
		t.Error("With did not replace, or Equal is wrong")
	}
	other := "w"
	if d.Equal(d.With("a.b", ValueSource{Value: &other})) || !d.Equal(d.With("a.b", ValueSource{Value: new(string)}).With("a.b", ValueSource{Value: &lit})) {
		t.Error("Equal does not compare literals by content")
	}
}

func TestDataJSON(t *testing.T) {
	t.Parallel()
	d := DataOf(map[string]ValueSource{"b": {FromEnv: "B"}, "a": {FromFile: "f"}})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"fromFile":"f"},"b":{"fromEnv":"B"}}`; string(b) != want {
		t.Errorf("JSON = %s, want %s (the map form)", b, want)
	}
	var back Data
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(d) {
		t.Errorf("round trip = %v, %v", back, err)
	}
	for in, wantNil := range map[string]bool{"null": true, "{}": false} {
		var x Data
		if err := json.Unmarshal([]byte(in), &x); err != nil || (x == nil) != wantNil {
			t.Errorf("Unmarshal(%s) = %#v, %v", in, x, err)
		}
	}
	if b, _ := json.Marshal(Data(nil)); string(b) != "null" {
		t.Errorf("nil Data = %s", b)
	}
}

// BenchmarkDataGet is a lookup in a secret's data, which plan and the
// validator do per secret.
func BenchmarkDataGet(b *testing.B) {
	d := DataOf(map[string]ValueSource{"USER": {FromEnv: "U"}, "PASSWORD": {FromEnv: "P"}, "HOST": {FromEnv: "H"}})
	for b.Loop() {
		if !d.Has("USER") {
			b.Fatal("missing")
		}
	}
}
