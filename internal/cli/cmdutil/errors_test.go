package cmdutil

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), 1},
		{FlagErrorf("bad flag"), 1},
		{Changes, 2},
		{fmt.Errorf("wrapped: %w", Changes), 2},
		{&ExitError{Code: 42}, 42},
		{WithHint(&ExitError{Code: 3, Err: errors.New("x")}, "do y"), 3},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestHint(t *testing.T) {
	err := fmt.Errorf("outer: %w", WithHint(errors.New("inner"), "run %s", "this"))
	if got := Hint(err); got != "run this" {
		t.Errorf("Hint = %q", got)
	}
	if err.Error() != "outer: inner" {
		t.Errorf("the hint must not change the message: %q", err.Error())
	}
	if WithHint(nil, "x") != nil {
		t.Error("WithHint(nil) must stay nil")
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	cases := map[time.Duration]string{
		5 * time.Second: "5s", 90 * time.Second: "90s", 5 * time.Minute: "5m",
		3 * time.Hour: "3h", 47 * time.Hour: "47h", 72 * time.Hour: "3d", -time.Minute: "0s",
	}
	for d, want := range cases {
		if got := Age(now, now.Add(-d)); got != want {
			t.Errorf("Age(%s) = %q, want %q", d, got, want)
		}
	}
	if got := Age(now, time.Time{}); got != "<unknown>" {
		t.Errorf("zero time: %q", got)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "bao-token", "x1", "a-b-c"} {
		if err := ValidateName("secret", ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A", "-a", "a-", "a_b", "a.b", string(make([]byte, 64))} {
		if err := ValidateName("secret", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestColorOnlyOnTTYAndNotDisabled(t *testing.T) {
	ios, _, _, _ := TestIO()
	if ios.ColorScheme().Red("x") != "x" {
		t.Error("colour on a non-terminal")
	}
	ios.IsStdoutTTY = func() bool { return true }
	if ios.ColorScheme().Red("x") == "x" {
		t.Error("no colour on a terminal")
	}
	ios.SetColorDisabled(true)
	if ios.ColorScheme().Red("x") != "x" {
		t.Error("colour despite --no-color / NO_COLOR")
	}
}
