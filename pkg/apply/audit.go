package apply

import (
	"context"

	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// audit records one executed action. Errors carry resource names and
// driver/state messages, never values.
func (x *executor) audit(ctx context.Context, a *plan.Action, o Outcome) {
	detail := a.Reason
	if o.Err != nil {
		detail = o.Err.Error()
	}
	if len(detail) > 2000 {
		detail = detail[:2000]
	}
	_ = x.e.Store.AppendAudit(context.WithoutCancel(ctx), state.AuditEntry{
		Actor: x.e.Actor, PlanID: x.plan.ID, Action: string(a.Action), Kind: string(a.Kind),
		Name: a.Name, Outcome: string(o.Status), Detail: detail, DurationMS: o.Duration.Milliseconds(),
	})
}
