package cmdutil

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// dotenvKey is what a dotenv line may assign: a shell variable name.
var dotenvKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseDotenv reads KEY=VALUE assignments, one per line: blank lines and
// # comments are skipped and an "export " prefix is allowed. A value is any
// concatenation of bare text (\ escapes the next character), 'single quoted'
// text (literal, may span lines) and "double quoted" text (\n \t \r \" \\ \$
// escapes as dotenv loaders read them, may span lines), so FormatDotenv's
// output reads back unchanged. Errors name the file and line, never a value.
func ParseDotenv(data, file string) (map[string]string, error) {
	p := &dotenvParser{s: data, line: 1}
	out := map[string]string{}
	for {
		p.skipBlank()
		if p.eof() {
			return out, nil
		}
		line := p.line
		rest := p.s[p.i:]
		if strings.HasPrefix(rest, "export ") {
			p.i += len("export ")
			rest = p.s[p.i:]
		}
		eq := strings.IndexAny(rest, "=\n")
		if eq < 0 || rest[eq] != '=' {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", file, line)
		}
		key := strings.TrimSpace(rest[:eq])
		if !dotenvKey.MatchString(key) {
			return nil, fmt.Errorf("%s:%d: invalid variable name %q", file, line, key)
		}
		p.i += eq + 1
		val, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %w", file, line, key, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%s:%d: %s is set twice", file, line, key)
		}
		out[key] = val
	}
}

type dotenvParser struct {
	s    string
	i    int
	line int
}

func (p *dotenvParser) eof() bool { return p.i >= len(p.s) }

func (p *dotenvParser) next() byte {
	c := p.s[p.i]
	p.i++
	if c == '\n' {
		p.line++
	}
	return c
}

// skipBlank skips whitespace, empty lines and comment lines.
func (p *dotenvParser) skipBlank() {
	for !p.eof() {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.next()
		case '#':
			for !p.eof() && p.s[p.i] != '\n' {
				p.next()
			}
		default:
			return
		}
	}
}

// value reads one value up to the end of its line.
func (p *dotenvParser) value() (string, error) {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.next()
	}
	var b strings.Builder
	for !p.eof() {
		c := p.next()
		switch c {
		case '\n':
			return b.String(), nil
		case '\r':
			// tolerate CRLF files
		case '\\':
			if p.eof() {
				return "", fmt.Errorf("trailing backslash")
			}
			b.WriteByte(p.next())
		case '\'':
			end := strings.IndexByte(p.s[p.i:], '\'')
			if end < 0 {
				return "", fmt.Errorf("unterminated single quote")
			}
			for range end {
				b.WriteByte(p.next())
			}
			p.next()
		case '"':
			if err := p.doubleQuoted(&b); err != nil {
				return "", err
			}
		case ' ', '\t':
			// Bare whitespace ends the value; only a comment may follow.
			for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
				p.next()
			}
			if !p.eof() && p.s[p.i] != '\n' && p.s[p.i] != '#' {
				return "", fmt.Errorf("unquoted whitespace in value: quote the value")
			}
			for !p.eof() && p.s[p.i] != '\n' {
				p.next()
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func (p *dotenvParser) doubleQuoted(b *strings.Builder) error {
	for !p.eof() {
		c := p.next()
		switch c {
		case '"':
			return nil
		case '\\':
			if p.eof() {
				return fmt.Errorf("unterminated double quote")
			}
			switch e := p.next(); e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '"', '\\', '$', '`':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return fmt.Errorf("unterminated double quote")
}

// FormatDotenv writes sorted KEY=VALUE lines that a POSIX shell (`eval`,
// `set -a; . ./file`) and ParseDotenv read back exactly: a value is bare when
// it holds only harmless characters, else single-quoted, with a single quote
// written as '\” (close, escaped quote, reopen).
func FormatDotenv(w io.Writer, env map[string]string) error {
	return formatLines(w, "", env)
}

// FormatExport is FormatDotenv with "export " before each line, so that
// `eval` in a POSIX shell also puts the variables in the environment of the
// programs it starts. ParseDotenv reads it back too.
func FormatExport(w io.Writer, env map[string]string) error {
	return formatLines(w, "export ", env)
}

func formatLines(w io.Writer, prefix string, env map[string]string) error {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, err := fmt.Fprintf(w, "%s%s=%s\n", prefix, k, quoteValue(env[k])); err != nil {
			return err
		}
	}
	return nil
}

func quoteValue(v string) string {
	safe := v != "" && !strings.ContainsFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,:/@%+=", r))
	})
	if safe {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
