package cmdutil

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// SecretReader reads a secret's values through the placement its row names
// at that moment; *backends.Pool is one.
type SecretReader interface {
	Read(ctx context.Context, secret string) (drivers.Values, error)
}

// ReadForConsumer reads the named secrets for a consumer (exec, env) and
// merges their keys, a later secret's key winning over an earlier one's
// (with a warning naming the key). Each read is audited under action, and
// the values are withheld if the audit entry cannot be written: a consumer
// read nobody can see afterwards is what the audit log exists to prevent.
func ReadForConsumer(ctx context.Context, r SecretReader, a Auditor, ios *IOStreams, action, detail string, names []string) (map[string]string, error) {
	env := map[string]string{}
	from := map[string]string{}
	var entries []state.AuditEntry
	var readErr error
	for _, name := range names {
		start := time.Now()
		vals, err := r.Read(ctx, name)
		e := state.AuditEntry{
			Actor: Actor(), Action: action, Kind: "secret", Name: name, Outcome: "ok",
			Detail: detail, DurationMS: time.Since(start).Milliseconds(),
		}
		if err != nil {
			e.Outcome = "failed"
			entries = append(entries, e)
			readErr = err
			break
		}
		entries = append(entries, e)
		for _, k := range vals.Keys() {
			if prev, dup := from[k]; dup {
				fmt.Fprintf(ios.ErrOut, "Warning: key %s of secret %s overrides the one from secret %s\n", k, name, prev)
			}
			v, _ := vals.Get(k)
			env[k], from[k] = v, name
		}
	}
	if err := a.AppendAudit(context.WithoutCancel(ctx), entries...); err != nil {
		return nil, fmt.Errorf("values withheld because the audit entry could not be written: %w", err)
	}
	if readErr != nil {
		return nil, readErr
	}
	return env, nil
}
