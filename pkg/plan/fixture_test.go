package plan

import (
	"testing"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// literalValue is the one value the fixture manifests hold; no rendering
// may contain it.
const literalValue = "hunter2-literal-value"

// richPlan is one plan with every action type, every finding type and a
// warning, computed by Compute from manifests and a snapshot.
func richPlan(t testing.TB) *Plan {
	t.Helper()
	lit := literalValue
	desired := &manifest.Set{
		Backends: []manifest.Backend{
			kv("bao", "https://bao.internal:8200", withToken("bao-token", "token"), bLabels("team", "infra")),
		},
		Secrets: []manifest.Secret{
			{Name: "bao-token", Source: manifest.Source{File: "secrets/bao.yaml", Line: 1},
				Data: manifest.DataOf(map[string]manifest.ValueSource{"token": {FromEnv: "BAO_TOKEN"}})},
			{Name: "openai", Backend: "bao", Source: manifest.Source{File: "secrets/apps.yaml", Line: 1},
				Data: manifest.DataOf(map[string]manifest.ValueSource{"API_KEY": {FromEnv: "OPENAI_API_KEY"}, "ORG": {FromFile: "openai-org.txt"}})},
			{Name: "db-password", Source: manifest.Source{File: "secrets/apps.yaml", Line: 12},
				Data: manifest.DataOf(map[string]manifest.ValueSource{"PASSWORD": {Value: &lit}})},
			{Name: "moved", Source: manifest.Source{File: "secrets/apps.yaml", Line: 20}},
			{Name: "stripe", Source: manifest.Source{File: "secrets/apps.yaml", Line: 25},
				Data: manifest.DataOf(map[string]manifest.ValueSource{"SECRET_KEY": {FromEnv: "STRIPE_SECRET_KEY"}})},
			{Name: "gone", Source: manifest.Source{File: "secrets/apps.yaml", Line: 30},
				Data: manifest.DataOf(map[string]manifest.ValueSource{"TOKEN": {FromEnv: "GONE_TOKEN"}})},
			{Name: "drifty", Source: manifest.Source{File: "secrets/apps.yaml", Line: 35}, Labels: map[string]string{"tier": "web"}},
			{Name: "blind", Source: manifest.Source{File: "secrets/apps.yaml", Line: 40},
				Data: manifest.DataOf(map[string]manifest.ValueSource{"K": {FromEnv: "BLIND_K"}})},
			{Name: "orphan", Backend: "bao", Source: manifest.Source{File: "secrets/apps.yaml", Line: 45}},
		},
		Warnings: []string{`secrets/apps.yaml:12: secret "db-password": spec.data.PASSWORD is a literal value; keep values out of Git (fromEnv, fromFile)`},
		Digest:   "sha256:5f2c9a0e8b7d6c5b4a3928171615141312111009080706050403020100ffeedd",
	}
	old := kvRow("old", "https://old.internal:8200", 3)
	old.Labels = map[string]string{"tier": "legacy"}
	old.ID = "b-old"
	legacy := row("legacy", "old", 5, 2, false, "A", "B")
	legacy.Labels = map[string]string{"tier": "legacy"}
	snap := snapshot([]state.Backend{old},
		row("moved", "old", 2, 4, false, "URL"),
		row("stripe", "default", 3, 3, true, "SECRET_KEY"),
		row("gone", "default", 2, 6, true, "TOKEN"),
		row("drifty", "default", 4, 2, false, "A"),
		row("blind", "default", 1, 1, true, "K"),
		row("orphan", "old", 6, 2, false, "X"),
		row("stray", "default", 1, 1, false, "Z"),
		legacy,
	)
	snap.Objects["gone"] = objState("default", drivers.SoftDeleted, 6, "id-gone")
	snap.Objects["drifty"] = present("default", 3, "id-drifty", "A", "B")
	snap.OpenMigrations = []state.Migration{
		{ID: 12, SecretID: "id-legacy-2", SecretName: "rotated", FromBackend: "default", ToBackend: "old", State: state.MigrationCleanupPending, Error: "backend default: delete rotated: backend unavailable"},
	}
	snap.Leftovers = map[int64]ObjectStatus{12: present("default", 1, "id-legacy-2", "K")}

	fp := Fingerprints{ByName: map[string]string{
		"bao-token":   fpOf("bao-token"),
		"openai":      fpOf("openai"),
		"db-password": fpOf("db-password"),
		"stripe":      fpOf("stripe changed"),
		"gone":        fpOf("gone"),
		// "blind" has no fingerprint: reported unknown.
	}}
	opts := testOpts(Options{Prune: true, Selector: Selector{{Key: "tier", Value: "legacy"}}, Schema: "mcpctl"})
	p, err := Compute(desired, fp, snap, opts)
	if err != nil {
		t.Fatalf("rich plan: %v\n%s", err, dump(p))
	}
	return p
}

// noChangesPlan is a plan of manifests that match state.
func noChangesPlan(t testing.TB) *Plan {
	t.Helper()
	desired := set(nil, sec("openai", "", env("API_KEY")))
	snap := snapshot(nil, row("openai", "default", 1, 1, true, "API_KEY"))
	p, err := Compute(desired, fps([]string{"openai"}), snap, testOpts(Options{Schema: "mcpctl"}))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
