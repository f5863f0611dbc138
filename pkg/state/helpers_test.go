package state_test

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func sqlstate(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func names[T state.Backend | state.Secret](rows []T) []string {
	var out []string
	for _, r := range rows {
		switch v := any(r).(type) {
		case state.Backend:
			out = append(out, v.Name)
		case state.Secret:
			out = append(out, v.Name)
		}
	}
	return out
}
