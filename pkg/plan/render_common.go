package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// sensitive is what every renderer prints in place of a value.
const sensitive = "(sensitive)"

// Symbol is the one-character mark of an action type in text and markdown.
func Symbol(t ActionType) string {
	switch t {
	case Create, Repair:
		return "+"
	case Update, Write:
		return "~"
	case Delete, Cleanup:
		return "-"
	case Migrate:
		return "→"
	}
	return "?"
}

// findingSymbol marks findings in text and markdown.
func findingSymbol(t FindingType) string {
	switch t {
	case Drift:
		return "!"
	case Lost:
		return "✗"
	case Unknown:
		return "?"
	case Kept:
		return "≡"
	}
	return "*"
}

// headline says in words what an action does.
func headline(a *Action) string {
	r := a.Resource()
	switch a.Action {
	case Create:
		if a.After != nil && a.After.Backend != "" {
			return r + " will be created on " + a.After.Backend
		}
		return r + " will be created"
	case Update:
		return r + " will be updated in place"
	case Migrate:
		return fmt.Sprintf("%s will move from %s to %s", r, a.Migration.From, a.Migration.To)
	case Write:
		return r + " will have its values written on " + a.After.Backend
	case Delete:
		if a.Before != nil && a.Before.Backend != "" {
			return r + " will be deleted from " + a.Before.Backend
		}
		return r + " will be deleted"
	case Repair:
		return r + " will be repaired on " + a.After.Backend
	case Cleanup:
		c := a.Cleanup
		if !c.DeleteObject {
			return fmt.Sprintf("%s: migration #%d will be closed", r, c.JournalID)
		}
		what := "leftover"
		if c.JournalState == "kept" {
			what = "kept"
		}
		return fmt.Sprintf("%s: the %s %s copy on %s will be removed (migration #%d)", r, what, c.Copy, c.Backend, c.JournalID)
	}
	return r + ": " + string(a.Action)
}

// attr is one displayed attribute line: Sym Name = Old → New, or
// Sym Name = New when Old is empty.
type attr struct {
	Sym  string // "+", "-", "~" or " "
	Name string
	Old  string
	New  string
	Note string // e.g. the source of a managed value
}

func (t attr) text() string {
	s := t.Name + " = "
	if t.Old != "" {
		s += t.Old + " → "
	}
	s += t.New
	if t.Note != "" {
		s += "  # " + t.Note
	}
	return s
}

// attrs lists what an action changes, field by field, values masked.
func attrs(a *Action) []attr {
	var out []attr
	before, after := a.Before, a.After
	switch {
	case before == nil && after == nil, a.Action == Cleanup:
		// A cleanup removes a copy, not the secret (whose Before describes
		// where it lives): the headline and reason say which.
		return nil
	case before == nil:
		before = &Summary{}
	case after == nil:
		after = &Summary{}
	}
	creating, deleting := a.Before == nil, a.After == nil
	field := func(name, old, new string, shownWhenEqual bool) {
		switch {
		case creating:
			if new != "" {
				out = append(out, attr{Sym: "+", Name: name, New: new})
			}
		case deleting:
			if old != "" {
				out = append(out, attr{Sym: "-", Name: name, New: old})
			}
		case old != new:
			if old == "" {
				out = append(out, attr{Sym: "+", Name: name, New: new})
			} else if new == "" {
				out = append(out, attr{Sym: "-", Name: name, New: old})
			} else {
				out = append(out, attr{Sym: "~", Name: name, Old: old, New: new})
			}
		case shownWhenEqual && new != "":
			out = append(out, attr{Sym: " ", Name: name, New: new})
		}
	}
	boolField := func(name string, old, new bool) {
		switch {
		case creating && new:
			out = append(out, attr{Sym: "+", Name: name, New: "true"})
		case deleting && old:
			out = append(out, attr{Sym: "-", Name: name, New: "true"})
		case !creating && !deleting && old != new:
			out = append(out, attr{Sym: "~", Name: name, Old: strconv.FormatBool(old), New: strconv.FormatBool(new)})
		}
	}
	if a.Kind == KindSecretBackend {
		field("type", before.Type, after.Type, false)
		boolField("default", before.Default, after.Default)
		field("description", quoted(before.Description), quoted(after.Description), false)
		field("config", string(before.Config), string(after.Config), false)
	} else {
		field("backend", before.Backend, after.Backend, a.Action != Create && a.Action != Delete)
		field("values", managedText(before, a.Before != nil), managedText(after, a.After != nil), false)
		if before.Version != 0 && after.Version != 0 {
			field("version", strconv.FormatInt(before.Version, 10), strconv.FormatInt(after.Version, 10), false)
		}
	}
	field("labels", mapText(before.Labels), mapText(after.Labels), false)
	field("annotations", mapText(before.Annotations), mapText(after.Annotations), false)
	boolField("protected", before.Protected, after.Protected)
	if a.Kind == KindSecret {
		out = append(out, keyAttrs(a, before.Keys, after.Keys, creating, deleting)...)
	}
	return out
}

func keyAttrs(a *Action, before, after []string, creating, deleting bool) []attr {
	sources := map[string]string{}
	if a.Values != nil {
		for _, s := range a.Values.Sources {
			switch {
			case s.FromEnv != "":
				sources[s.Key] = "from env " + s.FromEnv
			case s.FromFile != "":
				sources[s.Key] = "from file " + s.FromFile
			case s.Literal:
				sources[s.Key] = "literal in the manifest"
			}
		}
	}
	all := append(slices.Clone(before), after...)
	slices.Sort(all)
	all = slices.Compact(all)
	var out []attr
	for _, k := range all {
		inBefore, inAfter := slices.Contains(before, k), slices.Contains(after, k)
		t := attr{Name: k, New: sensitive, Note: sources[k]}
		switch {
		case deleting || (inBefore && !inAfter):
			t.Sym, t.Note = "-", ""
		case creating || a.Action == Repair || (!inBefore && inAfter):
			t.Sym = "+"
		case a.Values != nil:
			t.Sym = "~"
		default:
			t.Sym = " "
		}
		out = append(out, t)
	}
	return out
}

func managedText(s *Summary, present bool) string {
	switch {
	case !present:
		return ""
	case s.Managed:
		return "managed"
	}
	return "unmanaged"
}

func quoted(s string) string {
	if s == "" {
		return ""
	}
	return strconv.Quote(s)
}

func mapText(m map[string]string) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// SummaryLine is the one-line outcome of a plan: "Plan: 2 to create, 1 to
// migrate, 0 to delete." (create and delete always, the others when not
// zero), or the no-changes sentence.
func SummaryLine(p *Plan) string {
	if !p.HasChanges() {
		return "No changes. Your secret placement matches the manifests."
	}
	n := p.Summary
	parts := []string{strconv.Itoa(n.Create) + " to create"}
	for _, e := range []struct {
		n    int
		verb string
	}{
		{n.Update, "update"},
		{n.Write, "write"},
		{n.Migrate, "migrate"},
		{n.Repair, "repair"},
		{n.Cleanup, "clean up"},
	} {
		if e.n > 0 {
			parts = append(parts, strconv.Itoa(e.n)+" to "+e.verb)
		}
	}
	parts = append(parts, strconv.Itoa(n.Delete)+" to delete")
	return "Plan: " + strings.Join(parts, ", ") + "."
}

// findingsLine summarises findings: "Findings: 1 drift, 2 unmanaged." or "".
func findingsLine(p *Plan) string {
	n := p.Summary
	var parts []string
	for _, e := range []struct {
		n    int
		name string
	}{{n.Drift, "drift"}, {n.Lost, "lost"}, {n.Unknown, "unknown"}, {n.Unmanaged, "unmanaged"}, {n.Kept, "kept"}} {
		if e.n > 0 {
			parts = append(parts, strconv.Itoa(e.n)+" "+e.name)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Findings: " + strings.Join(parts, ", ") + "."
}
