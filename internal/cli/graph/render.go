package graph

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	planpkg "github.com/mcpctl/mcpctl/pkg/plan"
)

// maxNames is how many secret names a move's label lists before "and N
// more": the picture is for seeing the shape, plan has the full list.
const maxNames = 3

// nodeLines are the lines of a backend's label: name, type (and default),
// the secret count (before → after when a plan changes it), and a planned
// create or delete.
func nodeLines(n Node, planned bool) []string {
	kind := n.Type
	if kind == "" {
		kind = "?"
	}
	if n.Default {
		kind += " · default"
	}
	count := plural(n.Secrets, "secret")
	if planned && n.After != n.Secrets {
		count = fmt.Sprintf("%s → %d", count, n.After)
	}
	lines := []string{n.Name, kind, count}
	switch n.Change {
	case planpkg.Create:
		lines = append(lines, "(to be created)")
	case planpkg.Delete:
		lines = append(lines, "(to be deleted)")
	}
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(clean(l), "\n", " ")
	}
	return lines
}

func moveLabel(m MoveEdge) string {
	names := m.Names
	list := strings.Join(names, ", ")
	if len(names) > maxNames {
		list = strings.Join(names[:maxNames], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNames)
	}
	return plural(len(names), "secret") + ": " + list
}

func tokenLabel(t TokenEdge) string { return "token: " + t.Secret }

// ids gives nodes positional ids, so no backend name can collide with a
// keyword of either language ("end", "graph", "node"...).
func ids(g *Graph) map[string]string {
	m := make(map[string]string, len(g.Backends))
	for i, n := range g.Backends {
		m[n.Name] = "b" + strconv.Itoa(i)
	}
	return m
}

// RenderMermaid writes a Mermaid flowchart (GitHub and GitLab render it
// inside a ```mermaid fence): backends as boxes, dotted arrows from a
// backend to where its token lives, thick labelled arrows for the moves.
func RenderMermaid(w io.Writer, g *Graph) error {
	id := ids(g)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, n := range g.Backends {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id[n.Name], mermaidText(strings.Join(nodeLines(n, g.Planned), "\n")))
	}
	for _, t := range g.Tokens {
		fmt.Fprintf(&b, "  %s -.->|\"%s\"| %s\n", id[t.From], mermaidText(tokenLabel(t)), id[t.To])
	}
	for _, m := range g.Moves {
		fmt.Fprintf(&b, "  %s ==>|\"%s\"| %s\n", id[m.From], mermaidText(moveLabel(m)), id[m.To])
	}
	for _, n := range g.Backends {
		switch n.Change {
		case planpkg.Create:
			fmt.Fprintf(&b, "  style %s stroke-dasharray: 5 5\n", id[n.Name])
		case planpkg.Delete:
			fmt.Fprintf(&b, "  style %s stroke-dasharray: 2 2,color:#999\n", id[n.Name])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mermaidText escapes a label: quotes and pipes as entities, line breaks
// as <br/>, and no other markup.
func mermaidText(s string) string {
	s = strings.NewReplacer(
		"&", "#amp;", `"`, "#quot;", "|", "#124;", "<", "#lt;", ">", "#gt;",
	).Replace(clean(s))
	return strings.ReplaceAll(s, "\n", "<br/>")
}

// RenderDOT writes a Graphviz digraph of the same picture (`dot -Tsvg`).
func RenderDOT(w io.Writer, g *Graph) error {
	id := ids(g)
	var b strings.Builder
	b.WriteString("digraph mcpctl {\n")
	b.WriteString("  rankdir=LR;\n")
	b.WriteString("  node [shape=box, style=rounded];\n")
	for _, n := range g.Backends {
		attrs := []string{"label=" + dotString(strings.Join(nodeLines(n, g.Planned), "\n"))}
		switch {
		case n.Change == planpkg.Create:
			attrs = append(attrs, `style="rounded,dashed"`)
		case n.Change == planpkg.Delete:
			attrs = append(attrs, `style="rounded,dotted"`, `fontcolor="gray40"`)
		case n.Default:
			attrs = append(attrs, "penwidth=2")
		}
		fmt.Fprintf(&b, "  %s [%s];\n", id[n.Name], strings.Join(attrs, ", "))
	}
	for _, t := range g.Tokens {
		fmt.Fprintf(&b, "  %s -> %s [style=dashed, label=%s];\n", id[t.From], id[t.To], dotString(tokenLabel(t)))
	}
	for _, m := range g.Moves {
		fmt.Fprintf(&b, "  %s -> %s [style=bold, color=\"#1f6feb\", label=%s];\n", id[m.From], id[m.To], dotString(moveLabel(m)))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// dotString quotes s as a DOT string; "\n" is DOT's centred line break.
func dotString(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(clean(s))
	return `"` + strings.ReplaceAll(s, "\n", `\n`) + `"`
}

// clean drops control characters other than the line breaks the renderers
// put in themselves, so no name or type can break out of a label.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
