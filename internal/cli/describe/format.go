package describe

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// pairs renders labels or annotations as sorted k=v, comma separated.
func pairs(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, ", ")
}

// when renders a timestamp with its age: "2025-05-01T10:00:00Z (3h ago)".
func when(now, t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), cmdutil.Age(now, t))
}
