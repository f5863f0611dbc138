package plan

import (
	"bufio"
	"io"
	"strings"
)

// TextOptions shape the text rendering. The CLI decides Color (a TTY, and
// neither --no-color nor NO_COLOR); the renderer never looks at the
// environment.
type TextOptions struct {
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBlue   = "\x1b[34m"
	ansiPurple = "\x1b[35m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
)

type painter bool

// paint sanitises s and colours it when colour is on.
func (c painter) paint(code, s string) string {
	s = safe(s)
	if !c || s == "" || code == "" {
		return s
	}
	return code + s + ansiReset
}

func symbolColor(sym string) string {
	switch sym {
	case "+":
		return ansiGreen
	case "~":
		return ansiYellow
	case "-":
		return ansiRed
	case "→":
		return ansiCyan
	}
	return ""
}

func findingColor(t FindingType) string {
	switch t {
	case Drift:
		return ansiYellow
	case Lost:
		return ansiRed
	case Unknown:
		return ansiPurple
	}
	return ansiBlue
}

// RenderText writes the plan for people: one block per action in execution
// order with Terraform-like symbols (+ create/repair, ~ update/write,
// - delete/cleanup, → migrate), key names with "(sensitive)" in place of
// values, then findings, warnings and the summary line.
func RenderText(w io.Writer, p *Plan, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	c := painter(opts.Color)
	line := func(parts ...string) {
		for _, s := range parts {
			bw.WriteString(s)
		}
		bw.WriteByte('\n')
	}

	if len(p.Actions) > 0 {
		line("mcpctl will perform the following actions, in this order:")
		line()
		for i := range p.Actions {
			a := &p.Actions[i]
			sym := Symbol(a.Action)
			line("  ", c.paint(ansiBold+symbolColor(sym), sym+" "+headline(a)))
			line("      ", c.paint(ansiDim, "# "+a.Reason))
			for _, t := range attrs(a) {
				line("      ", c.paint(symbolColor(t.Sym), t.Sym), " ", safe(t.text()))
			}
			if len(a.Deps) > 0 {
				line("      ", c.paint(ansiDim, "after: "+strings.Join(a.Deps, ", ")))
			}
			line()
		}
	}

	if len(p.Findings) > 0 {
		line(c.paint(ansiBold, "Findings:"))
		for _, f := range p.Findings {
			where := f.Resource()
			if f.Backend != "" {
				where += " (on " + f.Backend + ")"
			}
			line("  ", c.paint(findingColor(f.Type), findingSymbol(f.Type)+" "+padRight(string(f.Type), 9)), " ", safe(where+": "+f.Reason))
		}
		line()
	}

	if len(p.Warnings) > 0 {
		line(c.paint(ansiBold+ansiYellow, "Warnings:"))
		for _, s := range p.Warnings {
			line("  - ", safe(s))
		}
		line()
	}

	if fl := findingsLine(p); fl != "" {
		line(fl)
	}
	line(c.paint(ansiBold, SummaryLine(p)))
	return bw.Flush()
}

// safe replaces control characters (a newline or an escape sequence in a
// label, a path or a backend's error text) so nothing from the manifests or
// a server can forge plan output or drive the terminal.
func safe(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			b.WriteString("\\x")
			b.WriteString(hex2(byte(r)))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
