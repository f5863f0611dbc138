package cmdutil

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Table prints aligned columns, kubectl style: an upper-case header, then
// one row per resource.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table with the given column headers.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)}
	t.Row(headers...)
	return t
}

// Row adds one row; tabs and newlines in cells are flattened so they cannot
// break the layout.
func (t *Table) Row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// Flush writes the table.
func (t *Table) Flush() error { return t.tw.Flush() }

// WriteJSON writes v as indented JSON with a trailing newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Age renders how long ago t was, kubectl style ("5m", "3h", "12d").
func Age(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < 2*time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
}

// enumValue is a flag value restricted to a set of choices, so a typo fails
// at flag parsing with the list of valid values.
type enumValue struct {
	target  *string
	choices []string
}

func (e *enumValue) String() string { return *e.target }
func (e *enumValue) Type() string   { return "string" }
func (e *enumValue) Set(s string) error {
	for _, c := range e.choices {
		if s == c {
			*e.target = s
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(e.choices, "|"))
}

// EnumFlag defines a string flag that accepts only choices (the first is the
// default) and completes them in the shell.
func EnumFlag(cmd *cobra.Command, fs *pflag.FlagSet, target *string, name, short, usage string, choices ...string) {
	*target = choices[0]
	fs.VarP(&enumValue{target: target, choices: choices}, name, short, fmt.Sprintf("%s: %s", usage, strings.Join(choices, "|")))
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp))
}

// OutputFlag is EnumFlag for the conventional -o/--output.
func OutputFlag(cmd *cobra.Command, target *string, choices ...string) {
	EnumFlag(cmd, cmd.Flags(), target, "output", "o", "Output format", choices...)
}
