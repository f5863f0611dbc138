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
func (x *executor) audit(ctx context.Context, a *plan.Action, o Outcome) error {
	detail := a.Reason
	if o.Err != nil {
		detail = o.Err.Error()
	}
	if len(detail) > 2000 {
		detail = detail[:2000]
	}
	err := x.e.Store.AppendAudit(context.WithoutCancel(ctx), state.AuditEntry{
		Actor: x.e.Actor, PlanID: x.plan.ID, Action: string(a.Action), Kind: string(a.Kind),
		Name: a.Name, Outcome: string(o.Status), Detail: detail, DurationMS: o.Duration.Milliseconds(),
	})
	if err != nil {
		return fmt.Errorf("%s: audit entry not written: %w", a.Resource(), err)
	}
	return nil
}
