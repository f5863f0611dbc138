package manifest

import (
	"path/filepath"
	"reflect"
	"testing"
)

// Equal labels and annotations blocks load as one shared map: at 100,000
// secrets a map each was tens of megabytes of a plan's memory.
func TestEqualLabelBlocksShareOneMap(t *testing.T) {
	dir := t.TempDir()
	doc := func(name, team string) string {
		return "---\napiVersion: mcpctl/v1\nkind: Secret\nmetadata:\n  name: " + name +
			"\n  labels: {team: " + team + ", tier: web}\n  annotations: {owner: ops}\nspec:\n  data:\n    K: {fromEnv: K}\n"
	}
	write(t, filepath.Join(dir, "a.yaml"), doc("a", "x")+doc("b", "y"))
	write(t, filepath.Join(dir, "b.yaml"), doc("c", "x"))
	set, err := load(t, []string{dir}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Secret{}
	for _, s := range set.Secrets {
		byName[s.Name] = s
	}
	same := func(a, b map[string]string) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}
	a, b, c := byName["a"], byName["b"], byName["c"]
	if !same(a.Labels, c.Labels) || same(a.Labels, b.Labels) || b.Labels["team"] != "y" || c.Labels["tier"] != "web" {
		t.Fatalf("labels a=%v b=%v c=%v: equal blocks not shared, or different ones merged", a.Labels, b.Labels, c.Labels)
	}
	if !same(a.Annotations, b.Annotations) || !same(b.Annotations, c.Annotations) {
		t.Fatalf("equal annotations not shared")
	}
}
