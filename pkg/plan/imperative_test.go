package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpctl/mcpctl/pkg/state"
)

const imperativeValue = "canary-imperative-value"

func TestBuildChange(t *testing.T) {
	t.Parallel()
	bao := kvRowToken("bao", "https://bao", 2, "bao-token", "token")
	token := row("bao-token", "default", 1, 1, false, "token")
	app := row("app", "bao", 3, 4, false, "K")
	cases := []struct {
		name string
		ch   Change
		snap *Snapshot
		want []act
		err  string // a refusal error (not a plan problem)
		errs []string
	}{
		{
			name: "create secret on the default",
			ch:   Change{Action: Create, Kind: KindSecret, Name: "new", Values: map[string]string{"K": imperativeValue}},
			snap: snapshot(nil),
			want: []act{{ID: "secret/new", Action: Create, Reason: "mcpctl create secret new: keys K on backend default"}},
		},
		{
			name: "create secret on a backend waits for nothing",
			ch:   Change{Action: Create, Kind: KindSecret, Name: "new", Backend: "bao", Values: map[string]string{"K": "v"}},
			snap: snapshot([]state.Backend{bao}, token),
			want: []act{{ID: "secret/new", Action: Create, Reason: "on backend bao"}},
		},
		{
			name: "create secret: the name is taken",
			ch:   Change{Action: Create, Kind: KindSecret, Name: "app", Values: map[string]string{"K": "v"}},
			snap: snapshot([]state.Backend{bao}, token, app),
			err:  `secret "app": already exists`,
		},
		{
			name: "create secret: an object mcpctl did not write is in the way",
			ch:   Change{Action: Create, Kind: KindSecret, Name: "new", Backend: "bao", Values: map[string]string{"K": "v"}},
			snap: func() *Snapshot {
				s := snapshot([]state.Backend{bao}, token)
				s.Targets["new"] = present("bao", 1, "")
				return s
			}(),
			errs: []string{"secret/new: backend bao already holds an object at its location that mcpctl did not write"},
		},
		{
			name: "create an openbao-like default: the old default gives the flag up first",
			ch: Change{Action: Create, Kind: KindSecretBackend, Name: "bao2", Type: testKV, Default: true,
				Config: json.RawMessage(`{"url":"https://bao2","tokenSecretRef":{"name":"bao-token","key":"token"}}`)},
			snap: snapshot([]state.Backend{bao}, token, app),
			want: []act{
				{ID: "secretbackend/default", Action: Update, Reason: "bao2 is the default backend now"},
				{ID: "secretbackend/bao2", Action: Create, Deps: []string{"secretbackend/default"}, Reason: "mcpctl create secretbackend bao2"},
			},
		},
		{
			name: "create backend: its credential secret is missing",
			ch: Change{Action: Create, Kind: KindSecretBackend, Name: "bao2", Type: testKV,
				Config: json.RawMessage(`{"url":"https://bao2","tokenSecretRef":{"name":"nope","key":"token"}}`)},
			snap: snapshot(nil),
			err:  `secretbackend "bao2": its config refers to secret "nope", which does not exist`,
		},
		{
			name: "delete secret",
			ch:   Change{Action: Delete, Kind: KindSecret, Name: "app"},
			snap: snapshot([]state.Backend{bao}, token, app),
			want: []act{{ID: "secret/app", Action: Delete, Reason: "mcpctl delete secret app"}},
		},
		{
			name: "delete secret: its interrupted migration's leftover goes first",
			ch:   Change{Action: Delete, Kind: KindSecret, Name: "app"},
			snap: func() *Snapshot {
				s := snapshot([]state.Backend{bao}, token, app)
				s.OpenMigrations = []state.Migration{
					{ID: 7, SecretID: app.ID, SecretName: "app", FromBackend: "default", ToBackend: "bao", State: state.MigrationCleanupPending},
					{ID: 8, SecretID: token.ID, SecretName: "bao-token", FromBackend: "bao", ToBackend: "default", State: state.MigrationCleanupPending},
				}
				s.Leftovers[7] = present("default", 1, app.ID, "K")
				return s
			}(),
			want: []act{
				{ID: "secret/app:cleanup:7", Action: Cleanup, Reason: "migration #7 from default to bao"},
				{ID: "secret/app", Action: Delete, Deps: []string{"secret/app:cleanup:7"}, Reason: "mcpctl delete secret app"},
			},
		},
		{
			name: "delete secret: a backend's credential",
			ch:   Change{Action: Delete, Kind: KindSecret, Name: "bao-token"},
			snap: snapshot([]state.Backend{bao}, token, app),
			err:  `secret "bao-token": still referenced: backend "bao" reads its credentials from it (key "token")`,
		},
		{
			name: "delete secret: protected",
			ch:   Change{Action: Delete, Kind: KindSecret, Name: "app"},
			snap: func() *Snapshot {
				p := app
				p.Protected = true
				return snapshot([]state.Backend{bao}, token, p)
			}(),
			err: `secret "app" is protected`,
		},
		{
			name: "delete backend holding secrets",
			ch:   Change{Action: Delete, Kind: KindSecretBackend, Name: "bao"},
			snap: snapshot([]state.Backend{bao}, token, app),
			err:  `backend "bao": secrets are still placed on it (app)`,
		},
		{
			name: "delete an empty backend",
			ch:   Change{Action: Delete, Kind: KindSecretBackend, Name: "bao"},
			snap: snapshot([]state.Backend{bao}, token),
			want: []act{{ID: "secretbackend/bao", Action: Delete, Reason: "mcpctl delete secretbackend bao"}},
		},
		{
			name: "delete the bootstrap backend",
			ch:   Change{Action: Delete, Kind: KindSecretBackend, Name: "default"},
			snap: snapshot(nil),
			err:  `backend "default" is the bootstrap backend`,
		},
		{
			name: "not initialised",
			ch:   Change{Action: Create, Kind: KindSecret, Name: "x", Values: map[string]string{"K": "v"}},
			snap: &Snapshot{},
			err:  state.ErrNotInitialized.Error(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := BuildChange(tc.ch, fps([]string{tc.ch.Name}), tc.snap, testOpts(Options{}))
			var pe *Error
			switch {
			case tc.err != "":
				if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want a refusal containing %q", err, tc.err)
				}
				return
			case tc.errs != nil:
				checkProblems(t, err, tc.errs)
				return
			case err != nil:
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, acts(p), reasonContains); diff != "" {
				t.Errorf("actions (-want +got):\n%s\n%s", diff, dump(p))
			}
			if len(p.Findings) != 0 {
				t.Errorf("findings about other resources: %v", p.Findings)
			}
		})
	}
}

// Values typed on the command line reach the engine through the in-memory
// action only: the plan's JSON, its renderings and fmt never show them, and
// a plan holding them cannot be saved.
func TestChangeValuesStayInMemory(t *testing.T) {
	t.Parallel()
	ch := Change{Action: Create, Kind: KindSecret, Name: "new", Values: map[string]string{"K": imperativeValue}}
	p, err := BuildChange(ch, fps([]string{"new"}), snapshot(nil), testOpts(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Action("secret/new")
	vals, _, err := a.ResolveValues(nil, nil)
	if err != nil || vals.Map()["K"] != imperativeValue {
		t.Fatalf("the engine cannot resolve the value: %v", err)
	}
	if a.After.Managed {
		t.Error("a secret created imperatively is recorded as managed by manifests")
	}
	var out bytes.Buffer
	if err := RenderJSON(&out, p); err != nil {
		t.Fatal(err)
	}
	if err := RenderText(&out, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderMarkdown(&out, p); err != nil {
		t.Fatal(err)
	}
	chJSON, _ := json.Marshal(ch)
	out.Write(chJSON)
	out.WriteString(sprintAll(p) + sprintAll(*a) + sprintAll(a.Values))
	if strings.Contains(out.String(), imperativeValue) {
		t.Error("an imperative value is serialised, rendered or printed")
	}
	if err := CheckSaveable(p); err == nil {
		t.Error("a plan holding command-line values can be saved")
	}
}
