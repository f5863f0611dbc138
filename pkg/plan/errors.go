package plan

import (
	"slices"
	"strconv"
	"strings"
)

// Error is returned by Compute when the plan must not be applied: lost
// secrets, dependency cycles, protected or too many deletes, unobservable
// objects... It lists every problem found, not just the first. Compute still
// returns the Plan next to it so the caller can show the findings; that plan
// must not be saved or applied.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "plan refused: " + e.Problems[0]
	}
	var b strings.Builder
	b.WriteString("plan refused (")
	b.WriteString(strconv.Itoa(len(e.Problems)))
	b.WriteString(" problems):")
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p)
	}
	return b.String()
}

// problems collects plan errors, deduplicated and sorted for stable output.
type problems []string

func (p *problems) add(s string) { *p = append(*p, s) }

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	out := slices.Clone(p)
	slices.Sort(out)
	return &Error{Problems: slices.Compact(out)}
}

// nameList shortens a list of names for messages: "a, b, c and 12 more".
func nameList(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + " and " + strconv.Itoa(len(names)-max) + " more"
}
