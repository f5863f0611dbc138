package plan

import (
	"cmp"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// CredentialEdge says that backend Backend reads its credentials from key
// Key of secret Secret (auth.tokenSecretRef and the like), and that this
// secret lives on backend On. On is "" when the caller gave no placement or
// the secret is placed nowhere (not declared, not in state, or deleted).
type CredentialEdge struct {
	Backend string
	Secret  string
	Key     string
	On      string
}

// CredentialEdges is the one place that finds a backend's credential edges:
// every caller that needs to know which secrets a backend takes its
// credentials from (plan computing, migrate, delete, graph) goes through it
// rather than calling drivers.Validate and walking the refs itself.
//
// It validates config strictly with the driver registered for typ (no I/O)
// and returns one edge per secret reference the config holds, in the order
// the driver reports them. placedOn tells which backend each referenced
// secret lives on in the state the caller reasons about (now, after a plan,
// after a move); it may be nil, leaving every On empty.
//
// The error is the driver's verdict on the config (unknown type, unknown
// key, bad reference). Whether that is a plan problem, a warning or
// something to skip is the caller's call, so no edge is returned with it.
func CredentialEdges(backend, typ string, config []byte, placedOn func(secret string) string) ([]CredentialEdge, error) {
	refs, err := drivers.Validate(typ, config)
	if err != nil {
		return nil, err
	}
	out := make([]CredentialEdge, 0, len(refs))
	for _, r := range refs {
		e := CredentialEdge{Backend: backend, Secret: r.Name, Key: r.Key}
		if placedOn != nil {
			e.On = placedOn(r.Name)
		}
		out = append(out, e)
	}
	return out, nil
}

// CredentialCycle is a closed chain of credential edges: each edge's On is
// the next edge's Backend and the last edge's On is the first's Backend.
// A backend on such a chain can never be opened, since reading its
// credential needs itself.
type CredentialCycle []CredentialEdge

// String names the cycle as "a -> secret/t -> b -> secret/u -> a".
func (c CredentialCycle) String() string {
	if len(c) == 0 {
		return ""
	}
	var sb strings.Builder
	for _, e := range c {
		sb.WriteString(e.Backend + " -> secret/" + e.Secret + " -> ")
	}
	sb.WriteString(c[0].Backend)
	return sb.String()
}

// From returns the cycle rotated to start at backend b (unchanged when b is
// not on it).
func (c CredentialCycle) From(b string) CredentialCycle {
	i := slices.IndexFunc(c, func(e CredentialEdge) bool { return e.Backend == b })
	if i <= 0 {
		return c
	}
	return append(slices.Clone(c[i:]), c[:i]...)
}

// Backends lists the backends on the cycle, sorted.
func (c CredentialCycle) Backends() []string {
	out := make([]string, 0, len(c))
	for _, e := range c {
		out = append(out, e.Backend)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// CredentialCycles is the one cycle search over credential edges. Edges
// with an empty On are ignored. For every edge that lies on some cycle it
// returns a shortest cycle through that edge, so no edge on a cycle goes
// unreported (a colour-marking depth-first search misses cycles closed
// through already finished backends). Each cycle starts at its smallest
// backend, is returned once, and the list is sorted by String.
func CredentialCycles(edges []CredentialEdge) []CredentialCycle {
	edges = slices.Clone(edges)
	slices.SortFunc(edges, compareEdges)
	edges = slices.Compact(edges)
	out := map[string][]CredentialEdge{}
	from := map[string][]CredentialEdge{}
	for _, e := range edges {
		if e.On != "" {
			from[e.Backend] = append(from[e.Backend], e)
		}
	}
	for _, e := range edges {
		if e.On == "" {
			continue
		}
		path, ok := shortestPath(from, e.On, e.Backend)
		if !ok {
			continue
		}
		cyc := CredentialCycle(append([]CredentialEdge{e}, path...))
		cyc = cyc.From(cyc.Backends()[0])
		out[cyc.String()] = cyc
	}
	keys := sortedKeys(out)
	res := make([]CredentialCycle, 0, len(keys))
	for _, k := range keys {
		res = append(res, out[k])
	}
	return res
}

// shortestPath finds the fewest edges leading from backend a to backend b
// (none when a == b), breadth first, taking edges in sorted order so the
// answer is deterministic.
func shortestPath(from map[string][]CredentialEdge, a, b string) ([]CredentialEdge, bool) {
	if a == b {
		return nil, true
	}
	via := map[string]CredentialEdge{a: {}}
	queue := []string{a}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range from[cur] {
			if _, seen := via[e.On]; seen {
				continue
			}
			via[e.On] = e
			if e.On == b {
				var path []CredentialEdge
				for n := b; n != a; n = via[n].Backend {
					path = append(path, via[n])
				}
				slices.Reverse(path)
				return path, true
			}
			queue = append(queue, e.On)
		}
	}
	return nil, false
}

func compareEdges(a, b CredentialEdge) int {
	return cmp.Or(
		strings.Compare(a.Backend, b.Backend),
		strings.Compare(a.Secret, b.Secret),
		strings.Compare(a.Key, b.Key),
		strings.Compare(a.On, b.On),
	)
}
