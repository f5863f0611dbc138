package graph

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Graph is what the drawing shows: plain data, so the renderers are pure
// functions of it.
type Graph struct {
	Backends []Node
	// Tokens are credential dependencies: backend From takes its token from
	// Secret, which lives on backend To.
	Tokens []TokenEdge
	// Moves are the planned migrations, grouped by source and destination.
	Moves []MoveEdge
	// Planned is true when a plan was drawn (-f): counts show before and
	// after, and planned creates and deletes are marked.
	Planned bool
}

// Node is one backend.
type Node struct {
	Name    string
	Type    string
	Default bool
	// Secrets is how many secrets live on it now; After how many will once
	// the plan is applied (equal to Secrets without a plan).
	Secrets, After int
	// Change is "create" or "delete" when the plan does that to it.
	Change planpkg.ActionType
}

// TokenEdge is a credential dependency.
type TokenEdge struct {
	From, To string
	Secret   string
}

// MoveEdge is the planned moves from one backend to another.
type MoveEdge struct {
	From, To string
	Names    []string // sorted
}

// Build draws the backends of snap and, when p is not nil, the changes p
// plans: backends it creates or deletes, the default flag and token
// references as they will be, secret counts after it, and its migrations.
func Build(snap *planpkg.Snapshot, p *planpkg.Plan) *Graph {
	g := &Graph{Planned: p != nil}
	type backend struct {
		node   Node
		typ    string
		config json.RawMessage
	}
	byName := map[string]*backend{}
	rows := slices.Clone(snap.Backends)
	if !snap.Initialized && !slices.ContainsFunc(rows, func(b state.Backend) bool { return b.Name == state.BootstrapBackend }) {
		// The first apply creates it; the planner assumes it too.
		rows = append(rows, state.Backend{Name: state.BootstrapBackend, Type: "plaintext", IsDefault: true})
	}
	for _, b := range rows {
		byName[b.Name] = &backend{node: Node{Name: b.Name, Type: b.Type, Default: b.IsDefault}, typ: b.Type, config: b.Config}
	}
	placed := make(map[string]string, len(snap.Secrets))
	for _, s := range snap.Secrets {
		placed[s.Name] = s.BackendName
		if b := byName[s.BackendName]; b != nil {
			b.node.Secrets++
		}
	}

	moves := map[[2]string][]string{}
	if p != nil {
		for _, a := range p.Actions {
			switch a.Kind {
			case planpkg.KindSecretBackend:
				b := byName[a.Name]
				if b == nil {
					b = &backend{node: Node{Name: a.Name}}
					byName[a.Name] = b
				}
				switch a.Action {
				case planpkg.Create:
					b.node.Change = planpkg.Create
				case planpkg.Delete:
					b.node.Change = planpkg.Delete
				}
				if a.After != nil {
					b.node.Type, b.typ, b.node.Default = a.After.Type, a.After.Type, a.After.Default
				}
				if len(a.Config) > 0 {
					b.config = a.Config
				}
			case planpkg.KindSecret:
				switch a.Action {
				case planpkg.Create:
					placed[a.Name] = a.After.Backend
				case planpkg.Migrate:
					placed[a.Name] = a.Migration.To
					k := [2]string{a.Migration.From, a.Migration.To}
					moves[k] = append(moves[k], a.Name)
				case planpkg.Delete:
					delete(placed, a.Name)
				}
			}
		}
	}
	after := map[string]int{}
	for _, on := range placed {
		after[on]++
	}

	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b := byName[n]
		b.node.After = b.node.Secrets
		if p != nil {
			b.node.After = after[n]
		}
		g.Backends = append(g.Backends, b.node)
		if b.node.Change == planpkg.Delete {
			continue
		}
		edges, err := planpkg.CredentialEdges(n, b.typ, b.config, func(secret string) string { return placed[secret] })
		if err != nil {
			continue // the plan and describe report invalid configs
		}
		for _, e := range edges {
			if e.On != "" {
				g.Tokens = append(g.Tokens, TokenEdge{From: n, To: e.On, Secret: e.Secret})
			}
		}
	}
	slices.SortFunc(g.Tokens, func(a, b TokenEdge) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.Secret, b.Secret))
	})
	g.Tokens = slices.Compact(g.Tokens)
	for k, ns := range moves {
		slices.Sort(ns)
		g.Moves = append(g.Moves, MoveEdge{From: k[0], To: k[1], Names: ns})
	}
	slices.SortFunc(g.Moves, func(a, b MoveEdge) int {
		return cmp.Or(strings.Compare(a.From, b.From), strings.Compare(a.To, b.To))
	})
	return g
}
