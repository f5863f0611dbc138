package drivertest

import (
	"regexp"
	"slices"
	"testing"
)

func TestCaseTable(t *testing.T) {
	names := Cases()
	if len(names) < 40 {
		t.Fatalf("%d conformance cases, the contract asks for at least 40", len(names))
	}
	valid := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Errorf("case %q appears twice", n)
		}
		seen[n] = true
		if !valid.MatchString(n) {
			t.Errorf("case name %q: use lower-case words joined by -", n)
		}
	}
	// Cases every driver runs, whatever its capabilities.
	var core int
	for _, c := range cases {
		if len(c.needs) == 0 {
			core++
		}
	}
	if core < 40 {
		t.Errorf("%d cases need no capability, want at least 40 so every driver runs 40", core)
	}
}

func TestMarkerAndID(t *testing.T) {
	a, b := Marker("x"), Marker("x")
	if a == b || len(a) < 20 {
		t.Fatalf("markers %q and %q are not unique enough", a, b)
	}
	id := NewID()
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) || id == NewID() {
		t.Fatalf("NewID = %q, want a random v4 UUID", id)
	}
	if slices.Contains(Cases(), "") {
		t.Fatal("unnamed case")
	}
}
