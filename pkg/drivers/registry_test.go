package drivers

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	t.Parallel()
	var built []string
	Register(Type{
		Name:    "regtest",
		Aliases: []string{"regtest-alias"},
		Validate: func(raw json.RawMessage) ([]SecretRef, error) {
			if string(raw) == "bad" {
				return nil, ErrInvalidConfig
			}
			return []SecretRef{{Name: "tok", Key: "k"}}, nil
		},
		New: func(_ context.Context, cfg Config) (Driver, error) {
			built = append(built, cfg.Name)
			return nil, nil
		},
	})
	if !slices.Contains(Types(), "regtest") || slices.Contains(Types(), "regtest-alias") {
		t.Fatalf("Types = %v: want canonical names only", Types())
	}
	if Canonical("regtest-alias") != "regtest" || Canonical("nope") != "nope" {
		t.Fatal("Canonical")
	}
	deps, err := Validate("regtest-alias", nil)
	if err != nil || len(deps) != 1 || deps[0].Name != "tok" {
		t.Fatalf("Validate via alias = %v, %v", deps, err)
	}
	if _, err := Validate("regtest", json.RawMessage("bad")); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate bad = %v", err)
	}
	if _, err := Validate("nosuch", nil); err == nil || !strings.Contains(err.Error(), `unknown backend type "nosuch"`) {
		t.Fatalf("Validate unknown = %v", err)
	}
	if _, err := Open(context.Background(), "regtest-alias", Config{Name: "b1"}); err != nil || !slices.Equal(built, []string{"b1"}) {
		t.Fatalf("Open via alias: %v, built %v", err, built)
	}
	if _, err := Open(context.Background(), "nosuch", Config{Name: "b2"}); err == nil || !strings.Contains(err.Error(), "backend b2") {
		t.Fatalf("Open unknown = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering an alias twice did not panic")
		}
	}()
	Register(Type{Name: "regtest-other", Aliases: []string{"regtest-alias"}})
}

func TestMetaAndStates(t *testing.T) {
	t.Parallel()
	for s, want := range map[ObjectState]string{Absent: "absent", Present: "present", SoftDeleted: "soft-deleted", Destroyed: "destroyed", 9: "unknown"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
	if (Meta{State: SoftDeleted}).Exists() || !(Meta{State: Present}).Exists() {
		t.Fatal("Exists")
	}
}
