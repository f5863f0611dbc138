package apply

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Actor names who runs mcpctl for the audit log: the OS user, plus the CI
// run when there is one (GitHub Actions, GitLab CI, or a generic BUILD_URL).
func Actor(getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	name := getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	var ci []string
	switch {
	case getenv("GITHUB_RUN_ID") != "":
		ci = append(ci, fmt.Sprintf("github %s/actions/runs/%s", getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")))
		if a := getenv("GITHUB_ACTOR"); a != "" {
			ci = append(ci, "by "+a)
		}
	case getenv("CI_JOB_URL") != "":
		ci = append(ci, "gitlab "+getenv("CI_JOB_URL"))
		if a := getenv("GITLAB_USER_LOGIN"); a != "" {
			ci = append(ci, "by "+a)
		}
	case getenv("BUILD_URL") != "":
		ci = append(ci, "ci "+getenv("BUILD_URL"))
	case getenv("CI") != "":
		ci = append(ci, "ci")
	}
	if len(ci) > 0 {
		return name + " (" + strings.Join(ci, " ") + ")"
	}
	return name
}

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
