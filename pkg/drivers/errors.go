package drivers

import (
	"errors"
	"fmt"
)

// Sentinel errors. Drivers wrap them (fmt.Errorf("...: %w", ErrNotFound)) or
// return an *Error whose Kind is one of them, so callers use errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrNotOwned      = errors.New("object not owned by this secret")
	ErrCASConflict   = errors.New("check-and-set conflict")
	ErrAuthFailed    = errors.New("authentication failed")
	ErrUnavailable   = errors.New("backend unavailable")
	ErrUnsupported   = errors.New("not supported by this backend")
	ErrInvalidConfig = errors.New("invalid backend config")
)

// Error is a driver error carrying the backend, the object and what was tried.
// It never carries values.
type Error struct {
	Backend string // backend name
	Ref     Ref    // object, if any
	Op      string // "stat", "get", "put", "delete", "list", "login"
	Kind    error  // one of the sentinels above, or nil
	Err     error  // underlying cause
}

func (e *Error) Error() string {
	s := "backend " + e.Backend
	if e.Ref != "" {
		s += fmt.Sprintf(": %s %s", e.Op, e.Ref)
	} else if e.Op != "" {
		s += ": " + e.Op
	}
	if e.Kind != nil {
		s += ": " + e.Kind.Error()
	}
	if e.Err != nil && e.Err != e.Kind {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() []error {
	var out []error
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}
