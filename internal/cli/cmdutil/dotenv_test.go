package cmdutil

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDotenvRoundTrip(t *testing.T) {
	env := map[string]string{
		"PLAIN":     "abc123",
		"URL":       "postgres://u@h:5432/db?sslmode=disable",
		"SPACES":    "two words",
		"QUOTE":     "it's",
		"DOUBLE":    `say "hi"`,
		"DOLLAR":    "$HOME and `cmd`",
		"NEWLINES":  "line1\nline2\n",
		"EMPTY":     "",
		"BACKSLASH": `C:\path\n`,
		"UNICODE":   "päss—wörd ✓",
		"HASH":      "a#b # c",
	}
	for name, format := range map[string]func(w *bytes.Buffer) error{
		"dotenv": func(w *bytes.Buffer) error { return FormatDotenv(w, env) },
		"export": func(w *bytes.Buffer) error { return FormatExport(w, env) },
	} {
		var buf bytes.Buffer
		if err := format(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := ParseDotenv(buf.String(), "out.env")
		if err != nil {
			t.Fatalf("%s: parse of our own output: %v\n%s", name, err, buf.String())
		}
		if diff := cmp.Diff(env, got); diff != "" {
			t.Errorf("%s: round trip (-want +got):\n%s\noutput:\n%s", name, diff, buf.String())
		}
		prefix := map[string]string{"dotenv": "", "export": "export "}[name]
		if !strings.Contains(buf.String(), "\n"+prefix+"PLAIN=abc123\n") {
			t.Errorf("%s: a harmless value should be printed bare:\n%s", name, buf.String())
		}
	}
}

func TestParseDotenvForms(t *testing.T) {
	in := `# comment
export A=1
B = two
C="x\ty\n"   # trailing comment
D='lit\n'
E=a'b c'"d"
F="multi
line"

G=
`
	got, err := ParseDotenv(in, "f.env")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "1", "B": "two", "C": "x\ty\n", "D": `lit\n`, "E": "ab cd", "F": "multi\nline", "G": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseDotenvErrorsNameLineNotValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{"A=1\nnot an assignment\n", "f.env:2: expected KEY=VALUE"},
		{"1BAD=canary-value\n", `f.env:1: invalid variable name "1BAD"`},
		{"A='canary-value\n", "f.env:1: A: unterminated single quote"},
		{"A=\"canary-value\n", "f.env:1: A: unterminated double quote"},
		{"A=canary value\n", "f.env:1: A: unquoted whitespace in value: quote the value"},
		{"A=1\nA=canary-value\n", "f.env:2: A is set twice"},
	}
	for _, tc := range cases {
		_, err := ParseDotenv(tc.in, "f.env")
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseDotenv(%q) error = %v, want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "canary") {
			t.Errorf("error leaks the value: %v", err)
		}
	}
}
