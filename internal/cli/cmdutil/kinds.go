package cmdutil

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ResourceKind is one kind of resource as the command line names it. Every
// verb (get, describe, create, delete) accepts each of its names, as
// kubectl does: singular, plural and short forms.
type ResourceKind struct {
	Singular string
	Plural   string
	Short    []string // kubectl-style abbreviations and older names
}

// The kinds of resources mcpctl manages.
var (
	KindSecretBackend = ResourceKind{Singular: "secretbackend", Plural: "secretbackends", Short: []string{"sb", "backend", "backends"}}
	KindSecret        = ResourceKind{Singular: "secret", Plural: "secrets"}
)

// Names lists every name of the kind, singular first.
func (k ResourceKind) Names() []string {
	return append([]string{k.Singular, k.Plural}, k.Short...)
}

// AliasesFor is the cobra Aliases of a subcommand whose Use starts with
// use: every other name of the kind.
func (k ResourceKind) AliasesFor(use string) []string {
	var out []string
	for _, n := range k.Names() {
		if n != use {
			out = append(out, n)
		}
	}
	return out
}

// annotationKindVerb marks a group command (get, describe, ...) whose
// subcommands are resource kinds, so KIND/NAME arguments are split for it.
const annotationKindVerb = "mcpctl/kind-verb"

// MarkKindVerb lets cmd's users write `cmd KIND/NAME` for `cmd KIND NAME`.
func MarkKindVerb(cmd *cobra.Command) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotationKindVerb] = "true"
}

// ExpandKindNames rewrites kubectl-style KIND/NAME arguments of a marked
// verb into the KIND NAME... form the command tree understands:
//
//	get secretbackend/bao -o yaml   ->  get secretbackend bao -o yaml
//	get secret/a secret/b           ->  get secret a b
//
// Every positional argument after the verb must then be KIND/NAME of one
// kind. Arguments of other commands, and of verbs used the plain way, are
// returned unchanged.
func ExpandKindNames(root *cobra.Command, args []string) ([]string, error) {
	verb, _, err := root.Find(args)
	if err != nil || verb == root || verb.Annotations[annotationKindVerb] == "" {
		return args, nil
	}
	// Which flags take a value: the verb's own, inherited ones and those
	// of every kind subcommand (a flag may come before KIND/NAME).
	takesValue := map[string]bool{}
	collect := func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.InheritedFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if f.NoOptDefVal == "" {
					takesValue["--"+f.Name] = true
					if f.Shorthand != "" {
						takesValue["-"+f.Shorthand] = true
					}
				}
			})
		}
	}
	collect(verb)
	for _, c := range verb.Commands() {
		collect(c)
	}

	// Find the verb in args (after any global flags), then the positionals.
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == verb.Name() {
			break
		}
		if strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && takesValue[a] {
			i++
		}
	}
	if i >= len(args) {
		return args, nil
	}
	var positions []int
	for j := i + 1; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			if !strings.Contains(a, "=") && takesValue[a] {
				j++
			}
			continue
		}
		positions = append(positions, j)
	}
	if len(positions) == 0 || !strings.Contains(args[positions[0]], "/") {
		return args, nil
	}
	var kindCmd *cobra.Command
	var kindWord string
	names := make([]string, 0, len(positions))
	for _, p := range positions {
		kind, name, ok := strings.Cut(args[p], "/")
		if !ok || kind == "" || name == "" || strings.Contains(name, "/") {
			return nil, FlagErrorf("%s %s: write every argument as KIND/NAME (e.g. secret/openai), or the kind once: %s KIND NAME...", verb.Name(), args[p], verb.CommandPath())
		}
		c := findKind(verb, kind)
		if c == nil {
			return nil, FlagErrorf("unknown resource kind %q in %q: use one of %s", kind, args[p], strings.Join(kindNames(verb), ", "))
		}
		if kindCmd != nil && c != kindCmd {
			return nil, FlagErrorf("%s %s and %s: name one kind of resource per command", verb.Name(), kindWord+"/"+names[0], args[p])
		}
		if kindCmd == nil {
			kindCmd, kindWord = c, kind
		}
		names = append(names, name)
	}
	out := make([]string, 0, len(args)+1)
	out = append(out, args[:positions[0]]...)
	out = append(out, kindWord)
	k := 0
	for j := positions[0]; j < len(args); j++ {
		if k < len(positions) && j == positions[k] {
			out = append(out, names[k])
			k++
			continue
		}
		out = append(out, args[j])
	}
	return out, nil
}

func findKind(verb *cobra.Command, kind string) *cobra.Command {
	for _, c := range verb.Commands() {
		if c.Name() == kind || slices.Contains(c.Aliases, kind) {
			return c
		}
	}
	return nil
}

func kindNames(verb *cobra.Command) []string {
	var out []string
	for _, c := range verb.Commands() {
		if c.IsAvailableCommand() {
			out = append(out, c.Name())
		}
	}
	return out
}
