package plan

import (
	"fmt"
	"strconv"
	"strings"
)

// LiteralError is returned when a plan that holds literal `value:` sources
// is to be saved. A saved plan never carries values, so such an action could
// only fail at apply time, after the others had run: refusing at plan time
// keeps a saved plan all-or-nothing.
type LiteralError struct {
	// Keys are "secret/NAME key KEY (FILE:LINE)", in plan order.
	Keys []string
}

func (e *LiteralError) Error() string {
	var b strings.Builder
	n := "a literal value"
	if len(e.Keys) > 1 {
		n = fmt.Sprintf("%d literal values", len(e.Keys))
	}
	fmt.Fprintf(&b, "cannot save the plan: a saved plan carries no values, and it would need %s (`value:` in the manifests):", n)
	for _, k := range e.Keys {
		b.WriteString("\n  ")
		b.WriteString(k)
	}
	return b.String()
}

// CheckSaveable returns a *LiteralError naming every key whose value the
// plan could only take from a manifest literal, or nil when the plan can be
// saved and applied later.
func CheckSaveable(p *Plan) error {
	var keys []string
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.Values == nil {
			continue
		}
		for _, s := range a.Values.Sources {
			if !s.Literal {
				continue
			}
			at := a.Values.DeclaredIn.File
			if a.Values.DeclaredIn.Line > 0 {
				at += ":" + strconv.Itoa(a.Values.DeclaredIn.Line)
			}
			k := fmt.Sprintf("%s key %s", a.Resource(), s.Key)
			if at != "" {
				k += " (declared at " + at + ")"
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return &LiteralError{Keys: keys}
}
