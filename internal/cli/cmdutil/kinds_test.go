package cmdutil

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func kindTree() *cobra.Command {
	root := &cobra.Command{Use: "mcpctl"}
	root.PersistentFlags().String("schema", "", "")
	get := &cobra.Command{Use: "get"}
	MarkKindVerb(get)
	sb := &cobra.Command{Use: "secretbackends", Aliases: KindSecretBackend.AliasesFor("secretbackends"), Run: func(*cobra.Command, []string) {}}
	sb.Flags().StringP("output", "o", "", "")
	s := &cobra.Command{Use: "secrets", Aliases: KindSecret.AliasesFor("secrets"), Run: func(*cobra.Command, []string) {}}
	s.Flags().StringP("output", "o", "", "")
	get.AddCommand(sb, s)
	version := &cobra.Command{Use: "version", Run: func(*cobra.Command, []string) {}}
	root.AddCommand(get, version)
	return root
}

func TestExpandKindNames(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{in: "get secretbackend/bao", want: "get secretbackend bao"},
		{in: "get sb/bao -o yaml", want: "get sb bao -o yaml"},
		{in: "get -o name secret/a secret/b", want: "get -o name secret a b"},
		{in: "--schema x/y get secrets/a", want: "--schema x/y get secrets a"},
		{in: "get secrets a/b", want: "get secrets a/b"}, // the plain form is left alone
		{in: "get secrets", want: "get secrets"},
		{in: "version", want: "version"},
		{in: "get secret/a secretbackend/b", err: "name one kind of resource per command"},
		{in: "get secret/a b", err: "write every argument as KIND/NAME"},
		{in: "get pod/a", err: `unknown resource kind "pod"`},
		{in: "get secret/", err: "write every argument as KIND/NAME"},
	}
	for _, tc := range cases {
		got, err := ExpandKindNames(kindTree(), strings.Fields(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, strings.Fields(tc.want)) {
			t.Errorf("%q -> %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestKindNames(t *testing.T) {
	if got := KindSecretBackend.AliasesFor("secretbackend"); !slices.Equal(got, []string{"secretbackends", "sb", "backend", "backends"}) {
		t.Errorf("secretbackend aliases = %v", got)
	}
}
