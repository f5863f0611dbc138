package state_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// EachSecret hands over the rows in name order one at a time, and an error
// from the callback stops the read and comes back as is.
func TestEachSecretStreamsInNameOrderAndStopsOnError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	for _, n := range []string{"c", "a", "b"} {
		if err := st.CreateSecret(ctx, &state.Secret{Name: n, BackendName: "default", Data: map[string]string{"K": "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	if err := st.EachSecret(ctx, true, func(s *state.Secret) error {
		if s.Data["K"] != "v" || s.BackendName != "default" {
			return fmt.Errorf("%s: row not complete: backend %q", s.Name, s.BackendName)
		}
		seen = append(seen, s.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[a b c]" {
		t.Fatalf("EachSecret saw %v, want [a b c]", seen)
	}
	stop := errors.New("stop")
	seen = nil
	err := st.EachSecret(ctx, false, func(s *state.Secret) error {
		seen = append(seen, s.Name)
		return stop
	})
	if err != stop || len(seen) != 1 {
		t.Fatalf("EachSecret = %v after %v, want the callback's error after one row", err, seen)
	}
}

// A bulk read keeps one copy of the labels and annotations that repeat
// over rows (a team's labels), instead of a map per row.
func TestBulkReadSharesRepeatedLabelMaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	for i := range 4 {
		s := state.Secret{Name: fmt.Sprintf("s-%d", i), BackendName: "default",
			Labels: map[string]string{"team": fmt.Sprint(i % 2)}, Annotations: map[string]string{"a": "b"}}
		if err := st.CreateSecret(ctx, &s); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.ListSecrets(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b map[string]string) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}
	if !same(rows[0].Labels, rows[2].Labels) || !same(rows[1].Labels, rows[3].Labels) || same(rows[0].Labels, rows[1].Labels) {
		t.Fatalf("labels %v: equal maps not shared, or different ones merged", []map[string]string{rows[0].Labels, rows[1].Labels, rows[2].Labels, rows[3].Labels})
	}
	if !same(rows[0].Annotations, rows[3].Annotations) || rows[3].Annotations["a"] != "b" {
		t.Fatalf("annotations not shared: %v", rows[3].Annotations)
	}
}
