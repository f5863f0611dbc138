package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// snakeJSON checks that every field name in the JSON on stdout is
// snake_case, the one casing of mcpctl's -o json reports. Objects whose
// keys are user data (a backend's config, labels, annotations, selectors)
// are not field names and are skipped.
//
//	snakejson
func snakeJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: snakejson")
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v); err != nil {
		ts.Fatalf("stdout is not JSON: %v", err)
	}
	var bad []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snakeKey.MatchString(k) {
					bad = append(bad, path+"."+k)
				}
				switch k {
				case "config", "labels", "annotations", "selector":
					continue
				}
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", v)
	if len(bad) > 0 {
		sort.Strings(bad)
		ts.Fatalf("field names not in snake_case: %s", strings.Join(bad, ", "))
	}
}

var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
