package plan

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MarkdownMaxRows bounds each table and list of the markdown rendering: a
// pull-request comment has a size limit (65,536 characters on GitHub) and a
// reviewer reads the first screens; the JSON rendering has everything.
const MarkdownMaxRows = 200

// RenderMarkdown writes the plan as a pull-request comment: a title with the
// counts, a table of the actions, and collapsible sections with each
// action's changes (a diff block: + and - lines render in colour), a Mermaid
// flowchart of the migrations between backends, the findings and warnings.
func RenderMarkdown(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	pf := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	title := "no changes"
	if p.HasChanges() {
		title = strings.TrimSuffix(strings.TrimPrefix(SummaryLine(p), "Plan: "), ".")
	}
	if fl := findingsLine(p); fl != "" {
		title += " · " + strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(fl, "Findings: "), "."))
	}
	pf("### mcpctl plan: %s\n\n", mdText(title))
	meta := []string{"plan `" + mdCode(p.ID) + "`"}
	if p.Schema != "" {
		meta = append(meta, "schema `"+mdCode(p.Schema)+"`")
	}
	meta = append(meta, "default backend `"+mdCode(p.DefaultBackend)+"`")
	if p.ManifestDigest != "" {
		meta = append(meta, "manifests `"+mdCode(shortDigest(p.ManifestDigest))+"`")
	}
	if !p.Initialized {
		meta = append(meta, "database not initialised yet")
	}
	pf("<sub>%s</sub>\n\n", strings.Join(meta, " · "))

	if p.HasChanges() {
		pf("| | Resource | Action | Backend | Reason |\n")
		pf("|:-:|---|---|---|---|\n")
		for i, a := range p.Actions {
			if i == MarkdownMaxRows {
				pf("\n_… and %d more actions; see `mcpctl plan -o json`._\n", len(p.Actions)-i)
				break
			}
			pf("| %s | `%s` | %s | %s | %s |\n", Symbol(a.Action), mdCode(a.Resource()), a.Action, mdCell(backendColumn(&a)), mdCell(a.Reason))
		}
		pf("\n")
		renderMigrations(pf, p)
		renderChanges(pf, p)
	}

	if len(p.Findings) > 0 {
		pf("<details><summary>Findings (%d)</summary>\n\n", len(p.Findings))
		pf("| | Finding | Resource | Backend | Reason |\n")
		pf("|:-:|---|---|---|---|\n")
		for i, f := range p.Findings {
			if i == MarkdownMaxRows {
				pf("\n_… and %d more findings; see `mcpctl plan -o json`._\n", len(p.Findings)-i)
				break
			}
			pf("| %s | %s | `%s` | %s | %s |\n", findingSymbol(f.Type), f.Type, mdCode(f.Resource()), mdCell(f.Backend), mdCell(f.Reason))
		}
		pf("\n</details>\n\n")
	}

	if len(p.Warnings) > 0 {
		pf("<details><summary>Warnings (%d)</summary>\n\n", len(p.Warnings))
		for i, s := range p.Warnings {
			if i == MarkdownMaxRows {
				pf("- … and %d more\n", len(p.Warnings)-i)
				break
			}
			pf("- %s\n", mdCell(s))
		}
		pf("\n</details>\n\n")
	}
	pf("**%s**\n", mdText(SummaryLine(p)))
	return bw.Flush()
}

func backendColumn(a *Action) string {
	switch {
	case a.Migration != nil:
		return a.Migration.From + " → " + a.Migration.To
	case a.Cleanup != nil:
		return a.Cleanup.Backend
	case a.Kind == KindSecretBackend:
		return ""
	case a.After != nil:
		return a.After.Backend
	case a.Before != nil:
		return a.Before.Backend
	}
	return ""
}

// renderMigrations draws the moves as backend → backend edges labelled with
// how many secrets move and the first few names.
func renderMigrations(pf func(string, ...any), p *Plan) {
	type edge struct{ from, to string }
	moves := map[edge][]string{}
	var order []edge
	for _, a := range p.Actions {
		if a.Action != Migrate {
			continue
		}
		e := edge{a.Migration.From, a.Migration.To}
		if _, ok := moves[e]; !ok {
			order = append(order, e)
		}
		moves[e] = append(moves[e], a.Name)
	}
	if len(order) == 0 {
		return
	}
	slices.SortFunc(order, func(a, b edge) int { return strings.Compare(a.from+"\x00"+a.to, b.from+"\x00"+b.to) })
	ids := map[string]string{}
	var nodes []string
	node := func(name string) string {
		if id, ok := ids[name]; ok {
			return id
		}
		// Mermaid ids are positional so no backend name can collide with
		// a keyword ("end", "default"...); the name is the label.
		id := fmt.Sprintf("b%d", len(ids))
		ids[name] = id
		nodes = append(nodes, fmt.Sprintf("  %s[\"%s\"]", id, mermaidText(name)))
		return id
	}
	var edges []string
	total := 0
	for _, e := range order {
		names := moves[e]
		total += len(names)
		label := fmt.Sprintf("%d secret", len(names))
		if len(names) != 1 {
			label += "s"
		}
		label += ": " + nameList(names, 3)
		edges = append(edges, fmt.Sprintf("  %s -->|\"%s\"| %s", node(e.from), mermaidText(label), node(e.to)))
	}
	pf("<details><summary>Migrations (%d)</summary>\n\n", total)
	pf("```mermaid\nflowchart LR\n%s\n%s\n```\n\n", strings.Join(nodes, "\n"), strings.Join(edges, "\n"))
	pf("</details>\n\n")
}

// renderChanges shows each action's attribute changes as a diff block.
func renderChanges(pf func(string, ...any), p *Plan) {
	var b strings.Builder
	for i := range p.Actions {
		if i == MarkdownMaxRows {
			fmt.Fprintf(&b, "# … and %d more actions; see mcpctl plan -o json\n", len(p.Actions)-i)
			break
		}
		a := &p.Actions[i]
		fmt.Fprintf(&b, "%s %s\n", diffMark(Symbol(a.Action)), safe(headline(a)))
		fmt.Fprintf(&b, "  # %s\n", safe(a.Reason))
		for _, t := range attrs(a) {
			fmt.Fprintf(&b, "%s     %s\n", diffMark(t.Sym), safe(t.text()))
		}
		if len(a.Deps) > 0 {
			fmt.Fprintf(&b, "  # after: %s\n", strings.Join(a.Deps, ", "))
		}
		b.WriteString("\n")
	}
	body := strings.TrimRight(b.String(), "\n")
	fence := "```"
	for strings.Contains(body, fence) {
		fence += "`"
	}
	pf("<details><summary>Changes (%d)</summary>\n\n%sdiff\n%s\n%s\n\n</details>\n\n", len(p.Actions), fence, body, fence)
}

// diffMark maps symbols onto diff line prefixes GitHub colours: + and -;
// changes in place and moves start with "!" so they stand out uncoloured.
func diffMark(sym string) string {
	switch sym {
	case "+", "-":
		return sym
	case " ":
		return " "
	}
	return "!"
}

// mdCell makes text safe inside a table cell: no pipes, no line breaks, no
// HTML.
func mdCell(s string) string {
	return strings.ReplaceAll(mdText(s), "|", "\\|")
}

func mdText(s string) string {
	s = safe(s)
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// mdCode is text inside a `code span`: it may not contain a backtick.
func mdCode(s string) string {
	return strings.ReplaceAll(safe(s), "`", "'")
}

func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "|", "#124;").Replace(safe(s))
}

func shortDigest(d string) string {
	if i := strings.IndexByte(d, ':'); i >= 0 && len(d) > i+13 {
		return d[:i+13]
	}
	if len(d) > 12 {
		return d[:12]
	}
	return d
}
