package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes, DESIGN.md §7.
const (
	CodeOK      = 0
	CodeError   = 1
	CodeChanges = 2 // plan --detailed-exitcode with changes; drift found
)

// ExitError ends the run with Code. With a nil Err nothing is printed: the
// command has already said what it had to (a drift report, a child process
// that exited non-zero). With an Err, it is printed like any error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// SilentError exits 1 without printing anything more.
var SilentError = &ExitError{Code: CodeError}

// Changes is what a command returns to say "done, and there are changes or
// drift" (exit 2) after printing its report.
var Changes = &ExitError{Code: CodeChanges}

// ErrCancelled is returned when the user declined a confirmation.
var ErrCancelled = errors.New("cancelled")

// FlagError is a usage mistake: printed with a pointer to --help.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// hintError carries a next step for the user, printed after the error line.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// WithHint attaches what to do next to err. A nil err stays nil.
func WithHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: fmt.Sprintf(format, args...)}
}

// Hint returns the outermost hint attached to err, if any.
func Hint(err error) string {
	var h *hintError
	if errors.As(err, &h) {
		return h.hint
	}
	return ""
}

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return CodeOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeError
}
