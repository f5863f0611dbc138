package plan

import (
	"fmt"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// benchInputs: n declared secrets over three backends — a quarter created,
// a quarter moved, a quarter with changed values, a quarter unchanged — plus
// n/10 undeclared rows reported unmanaged.
func benchInputs(n int) (*manifest.Set, Fingerprints, *Snapshot) {
	backends := []manifest.Backend{kv("bao", "https://bao"), kv("vault", "https://vault", withToken("vault-token", "token"))}
	var secrets []manifest.Secret
	var rows []state.Secret
	names := []string{"vault-token"}
	secrets = append(secrets, sec("vault-token", "", env("token")))
	rows = append(rows, row("vault-token", "default", 1, 1, true, "token"))
	var changed []string
	for i := range n {
		name := fmt.Sprintf("app-%05d", i)
		backend := []string{"default", "bao", "vault"}[i%3]
		secrets = append(secrets, sec(name, backend, env("API_KEY", "URL")))
		names = append(names, name)
		switch i % 4 {
		case 0: // create
		case 1: // move
			other := []string{"bao", "vault", "default"}[i%3]
			rows = append(rows, row(name, other, 2, 3, true, "API_KEY", "URL"))
		case 2: // write
			rows = append(rows, row(name, backend, 2, 3, true, "API_KEY", "URL"))
			changed = append(changed, name)
		case 3: // unchanged
			rows = append(rows, row(name, backend, 2, 3, true, "API_KEY", "URL"))
		}
	}
	for i := range n / 10 {
		rows = append(rows, row(fmt.Sprintf("stray-%05d", i), "default", 1, 1, false))
	}
	snap := snapshot([]state.Backend{kvRow("bao", "https://bao", 1), kvRowToken("vault", "https://vault", 1, "vault-token", "token")}, rows...)
	return set(backends, secrets...), fps(names, changed...), snap
}

func BenchmarkCompute10k(b *testing.B) {
	desired, fp, snap := benchInputs(10_000)
	opts := testOpts(Options{})
	b.ReportAllocs()
	var p *Plan
	for b.Loop() {
		var err error
		p, err = Compute(desired, fp, snap, opts)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(p.Actions)), "actions")
}
