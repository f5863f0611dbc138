package drivers

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestErrorMessageAndUnwrap(t *testing.T) {
	t.Parallel()
	cause := errors.New("5 attempts over 3.2s: 503 Service Unavailable")
	e := &Error{Backend: "bao", Ref: "openai", Op: "put", Kind: ErrUnavailable, Err: cause}
	if got, want := e.Error(), "backend bao: put openai: backend unavailable: 5 attempts over 3.2s: 503 Service Unavailable"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("apply: %w", e)
	if !errors.Is(wrapped, ErrUnavailable) || !errors.Is(wrapped, cause) || errors.Is(wrapped, ErrNotFound) {
		t.Fatal("errors.Is through Kind and Err")
	}
	var de *Error
	if !errors.As(wrapped, &de) || de.Ref != "openai" {
		t.Fatal("errors.As")
	}
	for _, c := range []struct {
		e    *Error
		want string
	}{
		{&Error{Backend: "bao", Op: "login", Kind: ErrAuthFailed}, "backend bao: login: authentication failed"},
		{&Error{Backend: "bao", Ref: "x", Op: "get", Kind: ErrNotFound, Err: ErrNotFound}, "backend bao: get x: not found"},
		{&Error{Backend: "pg", Op: "list", Err: context.Canceled}, "backend pg: list: context canceled"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
	if !errors.Is(&Error{Err: fmt.Errorf("x: %w", context.Canceled)}, context.Canceled) {
		t.Fatal("context errors must stay testable")
	}
}
