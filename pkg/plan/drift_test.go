package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddPlanFindingsSkipsWhatTheStateCheckFound(t *testing.T) {
	state := []DriftFinding{{Type: Changed, Kind: KindSecret, Name: "openai", Backend: "bao", Drift: true}}
	got := addPlanFindings(state, &Plan{
		Findings: []Finding{
			{Type: Drift, Kind: KindSecret, Name: "openai", Backend: "bao", Reason: "changed outside mcpctl"},
			{Type: Unmanaged, Kind: KindSecret, Name: "stray", Backend: "default", Reason: "not declared"},
			{Type: Unknown, Kind: KindSecret, Name: "x", Backend: "default", Reason: "viewer"},
		},
	})
	want := []DriftFinding{
		{Type: Changed, Kind: KindSecret, Name: "openai", Backend: "bao", Drift: true},
		{Type: Unmanaged, Kind: KindSecret, Name: "stray", Backend: "default", Reason: "not declared", Drift: true},
		{Type: Unknown, Kind: KindSecret, Name: "x", Backend: "default", Reason: "viewer"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}
