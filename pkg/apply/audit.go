package apply

import (
	"context"
	"fmt"

	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// audit records one executed action. Errors carry resource names and
// driver/state messages, never values. A failure to write the entry is
// returned for the outcome: the design says every executed action is
// audited, so a missing entry is a warning the caller shows and counts.
// An action whose entry was written with its last statement (a move,
// CompletionAudit) is not recorded twice.
func (x *executor) audit(ctx context.Context, a *plan.Action, o Outcome) error {
	if _, done := x.audited.Load(a.ID); done && o.Status == StatusOK {
		return nil
	}
	err := x.e.Store.AppendAudit(context.WithoutCancel(ctx), x.auditEntry(a, o))
	if err != nil {
		return fmt.Errorf("%s: audit entry not written: %w", a.Resource(), err)
	}
	return nil
}

// auditEntry is the audit log entry of action a with outcome o.
func (x *executor) auditEntry(a *plan.Action, o Outcome) state.AuditEntry {
	detail := a.Reason
	if o.Err != nil {
		detail = o.Err.Error()
	}
	if len(detail) > 2000 {
		detail = detail[:2000]
	}
	return state.AuditEntry{
		Actor: x.e.Actor, PlanID: x.plan.ID, Action: string(a.Action), Kind: string(a.Kind),
		Name: a.Name, Outcome: string(o.Status), Detail: detail, DurationMS: o.Duration.Milliseconds(),
	}
}
