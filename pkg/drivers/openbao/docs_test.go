package openbao

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// The policies in docs/secret-backends.md are the ones the tests run with,
// and every config key is documented.
func TestDocsMatchCode(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../../docs/secret-backends.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, hcl := range map[string]string{"plan": PlanPolicy(Config{}), "apply": ApplyPolicy(Config{})} {
		if !strings.Contains(doc, "```hcl\n"+hcl+"```") {
			t.Errorf("docs/secret-backends.md does not show the %s policy PlanPolicy/ApplyPolicy render:\n%s", name, hcl)
		}
	}
	var keys func(reflect.Type, string)
	keys = func(typ reflect.Type, prefix string) {
		for f := range typ.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			if f.Type.Kind() == reflect.Struct {
				keys(f.Type, prefix+tag+".") // tls, auth: their keys are the rows
				continue
			}
			if !strings.Contains(doc, "`"+prefix+tag+"`") {
				t.Errorf("config key %s%s is not in the table of docs/secret-backends.md", prefix, tag)
			}
		}
	}
	keys(reflect.TypeFor[Config](), "")
}
