package state

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATEs raised by the schema's triggers (migrations/0001_init.sql).
const (
	sqlstateProtected = "MC001"
	sqlstateImmutable = "MC002"
)

// dbError is a store error: what it was about, the sentinel callers test
// with errors.Is, and the underlying cause (usually a *pgconn.PgError, for
// errors.As).
type dbError struct {
	what  string // e.g. `secret "openai"`
	kind  error  // one of the sentinels in types.go, or nil
	msg   string // overrides kind's text when set
	cause error
}

func (e *dbError) Error() string {
	s := e.what
	switch {
	case e.msg != "":
		s += ": " + e.msg
	case e.kind != nil:
		s += ": " + e.kind.Error()
	case e.cause != nil:
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *dbError) Unwrap() []error {
	var out []error
	if e.kind != nil {
		out = append(out, e.kind)
	}
	if e.cause != nil {
		out = append(out, e.cause)
	}
	return out
}

func backendWhat(name string) string { return fmt.Sprintf("backend %q", name) }
func secretWhat(name string) string  { return fmt.Sprintf("secret %q", name) }

// mapErr turns a Postgres error into a store error wrapping the matching
// sentinel. Errors without a Postgres cause are wrapped with what only.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", what, err)
	}
	e := &dbError{what: what, cause: err}
	switch pe.Code {
	case "23505": // unique_violation
		if pe.ConstraintName == "backends_one_default" {
			e.kind = ErrDuplicateDefault
		} else {
			e.kind = ErrExists
		}
	case "23503": // foreign_key_violation
		// Deleting a backend maps this to ErrInUse itself; a secret write
		// meets it when its backend vanished meanwhile.
		e.kind = ErrNotFound
		e.msg = "its backend does not exist"
	case sqlstateProtected:
		e.kind = ErrProtected
		e.msg = pe.Message
	case sqlstateImmutable:
		e.kind = ErrImmutable
		e.msg = pe.Message
	case "42501": // insufficient_privilege
		e.kind = ErrPermissionDenied
		e.msg = pe.Message
	case "3F000", "42P01": // invalid_schema_name, undefined_table
		e.kind = ErrNotInitialized
	default:
		// Never pe.Detail: for constraint violations Postgres puts the whole
		// failing row there, secret values included.
		e.msg = pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	return e
}

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isUninitialized reports an error meaning the schema or its tables do not
// exist yet; reads treat that as an empty installation.
func isUninitialized(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "3F000" || pe.Code == "42P01")
}
