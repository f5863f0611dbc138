package cmdutil

import (
	"bytes"
	"golang.org/x/term"
	"io"
	"os"
)

// IOStreams are the standard streams of one invocation plus how to tell
// whether each is a terminal. Commands never touch os.Stdout directly, so
// tests and in-process callers can capture everything.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// IsStdinTTY and IsStdoutTTY decide prompts, colour and progress bars.
	IsStdinTTY  func() bool
	IsStdoutTTY func() bool
	IsStderrTTY func() bool

	// colorDisabled is set from --no-color and NO_COLOR.
	colorDisabled bool
}

// SystemIO returns the process's streams.
func SystemIO() *IOStreams {
	tty := func(f *os.File) func() bool {
		return func() bool { return isTerminal(f) }
	}
	return &IOStreams{
		In:          os.Stdin,
		Out:         os.Stdout,
		ErrOut:      os.Stderr,
		IsStdinTTY:  tty(os.Stdin),
		IsStdoutTTY: tty(os.Stdout),
		IsStderrTTY: tty(os.Stderr),
	}
}

// TestIO returns streams backed by buffers, none a terminal.
func TestIO() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	no := func() bool { return false }
	return &IOStreams{In: in, Out: out, ErrOut: errOut, IsStdinTTY: no, IsStdoutTTY: no, IsStderrTTY: no}, in, out, errOut
}

// isTerminal asks the kernel (an ioctl), not the file mode: /dev/null is a
// character device too, and CI often gives it as stdin.
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// CanPrompt reports whether a human can answer a question: the answer is
// read from stdin, so stdin must be a terminal (the question goes to
// stderr, and stdout may well be redirected to a file).
func (s *IOStreams) CanPrompt() bool { return s.IsStdinTTY() }

// SetColorDisabled turns colour off (--no-color, NO_COLOR, TERM=dumb).
func (s *IOStreams) SetColorDisabled(v bool) { s.colorDisabled = v }

// ColorEnabled reports whether stdout output may carry ANSI colour: only on a
// terminal, and never when disabled.
func (s *IOStreams) ColorEnabled() bool { return !s.colorDisabled && s.IsStdoutTTY() }

// ColorScheme returns colour helpers for stdout that are the identity when
// colour is disabled.
func (s *IOStreams) ColorScheme() *ColorScheme { return &ColorScheme{enabled: s.ColorEnabled()} }

// ColorScheme wraps text in ANSI colours when enabled.
type ColorScheme struct{ enabled bool }

func (c *ColorScheme) wrap(code, s string) string {
	if !c.enabled || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// Enabled reports whether the scheme emits colour (renderers take it as a flag).
func (c *ColorScheme) Enabled() bool { return c.enabled }

func (c *ColorScheme) Bold(s string) string   { return c.wrap("1", s) }
func (c *ColorScheme) Green(s string) string  { return c.wrap("32", s) }
func (c *ColorScheme) Red(s string) string    { return c.wrap("31", s) }
func (c *ColorScheme) Yellow(s string) string { return c.wrap("33", s) }
func (c *ColorScheme) Gray(s string) string   { return c.wrap("90", s) }
