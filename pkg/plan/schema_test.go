package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// schemaValidator checks a JSON document against the subset of JSON Schema
// testdata/plan.schema.json uses: type, const, enum, pattern, required,
// properties, additionalProperties, items and local $ref.
type schemaValidator struct {
	root map[string]any
}

func loadSchema(t testing.TB) *schemaValidator {
	t.Helper()
	b, err := os.ReadFile("testdata/plan.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		t.Fatalf("plan.schema.json: %v", err)
	}
	return &schemaValidator{root: root}
}

func (v *schemaValidator) validate(doc []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return []string{err.Error()}
	}
	var errs []string
	v.check(v.root, x, "$", &errs)
	return errs
}

func (v *schemaValidator) resolve(s map[string]any) map[string]any {
	for {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		cur := any(v.root)
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		s = cur.(map[string]any)
	}
}

func jsonType(x any) string {
	switch t := x.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if strings.ContainsAny(t.String(), ".eE") {
			return "number"
		}
		return "integer"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", x)
}

func (v *schemaValidator) check(s map[string]any, x any, path string, errs *[]string) {
	s = v.resolve(s)
	fail := func(format string, args ...any) { *errs = append(*errs, path+": "+fmt.Sprintf(format, args...)) }
	if want, ok := s["type"]; ok {
		var types []string
		switch w := want.(type) {
		case string:
			types = []string{w}
		case []any:
			for _, e := range w {
				types = append(types, e.(string))
			}
		}
		got := jsonType(x)
		if !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			fail("type %s, want %v", got, types)
			return
		}
	}
	if c, ok := s["const"]; ok && fmt.Sprint(c) != fmt.Sprint(x) {
		fail("%v, want %v", x, c)
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(x) {
				found = true
			}
		}
		if !found {
			fail("%v is not one of %v", x, enum)
		}
	}
	if p, ok := s["pattern"].(string); ok {
		if str, isStr := x.(string); isStr && !regexp.MustCompile(p).MatchString(str) {
			fail("%q does not match %s", str, p)
		}
	}
	if obj, ok := x.(map[string]any); ok {
		for _, r := range asStrings(s["required"]) {
			if _, present := obj[r]; !present {
				fail("missing required %q", r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, e := range obj {
			if ps, ok := props[k].(map[string]any); ok {
				v.check(ps, e, path+"."+k, errs)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("unexpected property %q", k)
				}
			case map[string]any:
				v.check(ap, e, path+"."+k, errs)
			}
		}
	}
	if arr, ok := x.([]any); ok {
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range arr {
				v.check(items, e, fmt.Sprintf("%s[%d]", path, i), errs)
			}
		}
	}
}

func asStrings(x any) []string {
	var out []string
	if arr, ok := x.([]any); ok {
		for _, e := range arr {
			out = append(out, e.(string))
		}
	}
	return out
}

func TestJSONOutputMatchesSchema(t *testing.T) {
	t.Parallel()
	v := loadSchema(t)
	for name, p := range map[string]*Plan{"rich": richPlan(t), "nochanges": noChangesPlan(t)} {
		var b bytes.Buffer
		if err := RenderJSON(&b, p); err != nil {
			t.Fatal(err)
		}
		if errs := v.validate(b.Bytes()); len(errs) > 0 {
			t.Errorf("%s: the JSON output does not match plan.schema.json:\n%s", name, strings.Join(errs, "\n"))
		}
	}
}

// TestSchemaValidatorRejects makes sure the schema test can fail.
func TestSchemaValidatorRejects(t *testing.T) {
	t.Parallel()
	v := loadSchema(t)
	var b bytes.Buffer
	if err := RenderJSON(&b, richPlan(t)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`"row_generation": 0`, `"row_generation": "0"`, "type string, want [integer]"},
		{`"action": "create"`, `"action": "make"`, "is not one of"},
		{`"format_version": "1"`, `"format_version": "1", "extra": 1`, `unexpected property "extra"`},
		{`"from_env": "BAO_TOKEN"`, `"value": "x"`, `unexpected property "value"`},
	} {
		doc := strings.Replace(b.String(), tc.from, tc.to, 1)
		errs := v.validate([]byte(doc))
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tc.want) {
			t.Errorf("%s → %s: errors %v, want %q", tc.from, tc.to, errs, tc.want)
		}
	}
}

// TestSchemaAndDocsCoverEveryField: every JSON field the Go types can write
// is in the schema, and every schema property is documented.
func TestSchemaAndDocsCoverEveryField(t *testing.T) {
	t.Parallel()
	v := loadSchema(t)
	inSchema := map[string]bool{}
	var walk func(x any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if props, ok := t["properties"].(map[string]any); ok {
				for k := range props {
					inSchema[k] = true
				}
			}
			for _, e := range t {
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v.root)

	inGo := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var fields func(rt reflect.Type)
	marshaler := reflect.TypeFor[json.Marshaler]()
	fields = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Map {
			if rt.Implements(marshaler) {
				return
			}
			rt = rt.Elem()
		}
		if rt.Implements(marshaler) || reflect.PointerTo(rt).Implements(marshaler) {
			return
		}
		if rt.Kind() != reflect.Struct || seen[rt] {
			return
		}
		seen[rt] = true
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			inGo[name] = true
			fields(f.Type)
		}
	}
	fields(reflect.TypeFor[Plan]())
	for name := range inGo {
		if !inSchema[name] {
			t.Errorf("field %q is written but not in plan.schema.json", name)
		}
	}
	docs, err := os.ReadFile("../../docs/plan-json.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range inSchema {
		if !strings.Contains(string(docs), "`"+name+"`") {
			t.Errorf("docs/plan-json.md does not document `%s`", name)
		}
	}
}
