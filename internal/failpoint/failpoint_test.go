package failpoint

import (
	"strings"
	"testing"
)

func TestFromEnvIsInertWhenUnset(t *testing.T) {
	if h := FromEnv(func(string) string { return "" }); h != nil {
		t.Error("a hook without MCPCTL_FAILPOINT")
	}
	if h := FromEnv(nil); h != nil {
		t.Error("a hook without an environment")
	}
}

func TestHookExitsAtTheNthHitOfItsStep(t *testing.T) {
	for _, tc := range []struct {
		env  string
		hits []string
		want int // index of the call that exits, -1 for none
	}{
		{"migrate.written", []string{"migrate.read", "migrate.written", "migrate.written"}, 1},
		{"migrate.written:3", []string{"migrate.written", "migrate.read", "migrate.written", "migrate.written"}, 3},
		{"migrate.done", []string{"migrate.read"}, -1},
		{"migrate.written:0", []string{"migrate.written:0"}, 0}, // not a count: the whole value is the name
	} {
		name, nth, _ := parse(tc.env)
		var out strings.Builder
		exited := -1
		i := 0
		h := New(name, nth, &out, func(code int) {
			if code != ExitCode {
				t.Errorf("%s: exit %d", tc.env, code)
			}
			if exited < 0 {
				exited = i
			}
		})
		for i = range tc.hits {
			h(tc.hits[i])
		}
		if exited != tc.want {
			t.Errorf("%s: exited at call %d, want %d", tc.env, exited, tc.want)
		}
		if tc.want >= 0 && !strings.Contains(out.String(), "failpoint "+tc.hits[tc.want]+" reached") {
			t.Errorf("%s: said %q", tc.env, out.String())
		}
	}
}
