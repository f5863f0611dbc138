package plan

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzReadPlan: Load never panics, and whatever it accepts saves and loads
// back to the same plan. The seed corpus (testdata/fuzz/FuzzReadPlan) holds
// the golden plans and damaged variants of them.
func FuzzReadPlan(f *testing.F) {
	for _, p := range []*Plan{richPlan(f), noChangesPlan(f)} {
		var b bytes.Buffer
		if err := Save(&b, p); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load(bytes.NewReader(data))
		if err != nil {
			if p != nil {
				t.Fatal("Load returned a plan with an error")
			}
			return
		}
		var b bytes.Buffer
		if err := Save(&b, p); err != nil {
			t.Fatalf("saving a loaded plan: %v", err)
		}
		again, err := Load(&b)
		if err != nil {
			t.Fatalf("a saved plan does not load: %v\n%s", err, b.String())
		}
		if diff := cmp.Diff(p, again, planCmp...); diff != "" {
			t.Fatalf("save/load changes the plan:\n%s", diff)
		}
	})
}
