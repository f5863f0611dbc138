package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpctl/mcpctl/pkg/state"
)

// Auditor appends to the audit log; *state.Store is one.
type Auditor interface {
	AppendAudit(ctx context.Context, entries ...state.AuditEntry) error
}

// Actor names who runs mcpctl, for the audit log: OS user and host, plus the
// CI run URL when there is one.
func Actor() string { return state.Actor() }

// Audit records the outcome of an imperative change (create, delete). The
// entry is skipped when nothing was attempted (lock not obtained, schema
// missing, interrupted before starting). Failing to write it is reported
// on stderr but does not hide the outcome of the change itself.
func Audit(ctx context.Context, a Auditor, ios *IOStreams, action, kind, name, detail string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		var locked *state.LockedError
		if errors.As(err, &locked) || errors.Is(err, state.ErrNotInitialized) || errors.Is(err, context.Canceled) {
			return
		}
		outcome = "failed"
		// Store and driver errors name resources, never values.
		if detail != "" {
			detail += ": "
		}
		detail += err.Error()
	}
	e := state.AuditEntry{
		Actor: Actor(), Action: action, Kind: kind, Name: name,
		Outcome: outcome, Detail: detail, DurationMS: time.Since(start).Milliseconds(),
	}
	if aerr := a.AppendAudit(context.WithoutCancel(ctx), e); aerr != nil {
		fmt.Fprintf(ios.ErrOut, "Warning: could not write the audit entry: %v\n", aerr)
	}
}
