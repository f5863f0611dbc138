package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found while loading manifests. Its message never
// contains a secret value.
type Error struct {
	Source Source
	// Resource is the resource the problem belongs to, e.g. `secret "openai"`;
	// empty when the problem is about the file or the document.
	Resource string
	// Field is the path of the offending field inside the resource, e.g.
	// "spec.backend" or "spec.data.API_KEY.fromFile".
	Field string
	Msg   string
	// Err is the underlying cause, if any, for errors.Is / errors.As.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source.String())
	for _, part := range []string{e.Resource, e.Field, e.Msg} {
		if part != "" {
			b.WriteString(": ")
			b.WriteString(part)
		}
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors are all the problems of one load, in file, document and line order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.Is and errors.As look at every collected error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors bounds how many errors one load collects, so a hostile input
// cannot make the report itself the denial of service.
const maxErrors = 1000

// collector accumulates errors and warnings for one load.
type collector struct {
	errs      Errors
	warnings  []*Error
	truncated bool
	// order ranks files by when they were first seen, for sorting.
	order map[string]int
}

func (c *collector) add(e *Error) {
	if len(c.errs) >= maxErrors {
		c.truncated = true
		return
	}
	c.errs = append(c.errs, e)
}

func (c *collector) addf(src Source, resource, field, format string, args ...any) {
	c.add(&Error{Source: src, Resource: resource, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *collector) warn(src Source, resource, field, msg string) {
	c.warnings = append(c.warnings, &Error{Source: src, Resource: resource, Field: field, Msg: msg})
}

func (c *collector) rank(file string) int {
	if r, ok := c.order[file]; ok {
		return r
	}
	return len(c.order)
}

func (c *collector) sort(es []*Error) {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(c.rank(a.Source.File), c.rank(b.Source.File)),
			cmp.Compare(a.Source.Document, b.Source.Document),
			cmp.Compare(a.Source.Line, b.Source.Line),
		)
	})
}

// result returns the sorted errors (nil when there are none).
func (c *collector) result() error {
	if len(c.errs) == 0 {
		return nil
	}
	c.sort(c.errs)
	if c.truncated {
		last := c.errs[len(c.errs)-1]
		c.errs = append(c.errs, &Error{Source: Source{File: last.Source.File, Document: -1},
			Msg: fmt.Sprintf("too many errors; only the first %d are shown", maxErrors)})
	}
	return c.errs
}

func (c *collector) warningStrings() []string {
	c.sort(c.warnings)
	out := make([]string, len(c.warnings))
	for i, w := range c.warnings {
		out[i] = w.Error()
	}
	return out
}

// quote renders user-supplied text (names, keys, types — never values) in an
// error, truncated so a hostile document cannot blow up the message.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
