package get

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func TestGetFlags(t *testing.T) {
	cases := []struct {
		args   []string
		kind   string
		names  []string
		output string
		err    string
	}{
		{args: []string{"secrets"}, kind: KindSecrets, output: "table"},
		{args: []string{"secret", "a", "b", "-o", "yaml"}, kind: KindSecrets, names: []string{"a", "b"}, output: "yaml"},
		{args: []string{"secretbackends", "-o", "json"}, kind: KindBackends, output: "json"},
		{args: []string{"secretbackend", "bao"}, kind: KindBackends, names: []string{"bao"}, output: "table"},
		{args: []string{"backends"}, kind: KindBackends, output: "table"},
		{args: []string{"all", "-o", "yaml"}, kind: KindAll, output: "yaml"},
		{args: []string{"all", "x"}, err: `unexpected argument "x"`},
		{args: []string{"secrets", "-o", "xml"}, err: `invalid argument "xml" for "-o, --output" flag: must be one of table|wide|name|yaml|json`},
		{args: []string{}, err: "specify a resource type: one of all, secretbackends, secrets"},
		{args: []string{"pods"}, err: `unknown resource type "pods"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _, _ := cmdutil.TestFactory(t)
			got, _ := cmdutil.FlagCheck(t, f, NewCmdGet, tc.err, tc.args...)
			if tc.err != "" {
				return
			}
			if got.Kind != tc.kind || got.Output != tc.output {
				t.Errorf("kind %q output %q, want %q %q", got.Kind, got.Output, tc.kind, tc.output)
			}
			if diff := cmp.Diff(tc.names, got.Names, cmpEmpty); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })

func TestKeyList(t *testing.T) {
	if got := keyList([]string{"a", "b"}, 4); got != "a,b" {
		t.Errorf("%q", got)
	}
	if got := keyList([]string{"a", "b", "c", "d", "e", "f"}, 4); got != "a,b,c,d,+2" {
		t.Errorf("%q", got)
	}
}
