package apply_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpctl/mcpctl/pkg/apply"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/drivers"
	"github.com/mcpctl/mcpctl/pkg/plan"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// applyBreaking applies the world's manifests, running breakage on the
// database (as the schema owner) after planning and before execution: a
// fault that appears mid-run.
func (w *world) applyBreaking(s *state.Store, breakage string) (*apply.Result, error) {
	w.t.Helper()
	ctx := context.Background()
	pool := backends.New(s, s)
	defer pool.Close()
	_, res, err := apply.Run(ctx, apply.RunOptions{
		Store: s, Pool: pool, Manifests: w.load(),
		PlanOptions: plan.Options{LookupEnv: w.lookupEnv},
		LockTimeout: 10 * time.Second,
		Engine:      apply.Engine{Actor: "test", LookupEnv: w.lookupEnv},
		Confirm: func(*plan.Plan) (bool, error) {
			q := strings.ReplaceAll(breakage, "{s}", pgx.Identifier{s.Schema()}.Sanitize())
			_, err := s.Pool().Exec(ctx, q)
			return err == nil, err
		},
	})
	if res == nil {
		w.t.Fatalf("apply did not execute: %v", err)
	}
	return res, err
}

func TestApplyFailsWhenTheFingerprintKeyCannotBeRead(t *testing.T) {
	w, s := seededWorld(t, 1, "")
	w.write("secrets.yaml", w.secretsYAML(2, ""))
	// Without the key the changed-since-plan check cannot be made: the
	// actions fail instead of writing values unchecked.
	res, err := w.applyBreaking(s, `DELETE FROM {s}.installation`)
	if err == nil || res.Failed() != len(res.Outcomes) || len(res.Outcomes) == 0 {
		t.Fatalf("outcomes %+v, err %v; want every action failed", res.Outcomes, err)
	}
	if !strings.Contains(err.Error(), "read the fingerprint key") {
		t.Errorf("error does not say why: %v", err)
	}
}

func TestAuditWriteFailuresAreCounted(t *testing.T) {
	w, s := seededWorld(t, 1, "")
	w.write("secrets.yaml", w.secretsYAML(3, ""))
	res, err := w.applyBreaking(s, `ALTER TABLE {s}.audit_log ADD CONSTRAINT broken CHECK (false) NOT VALID`)
	if err != nil {
		t.Fatalf("the actions themselves must succeed: %v", err)
	}
	if got := res.AuditFailures(); got != 2 {
		t.Errorf("audit failures = %d, want 2 (one per executed action)", got)
	}
	for _, o := range res.Outcomes {
		if o.AuditErr == nil || !strings.Contains(o.AuditErr.Error(), o.Resource) {
			t.Errorf("%s: audit error %v does not name the resource", o.Resource, o.AuditErr)
		}
	}
	if sum := res.Summary(); !strings.Contains(sum, "2 not audited") {
		t.Errorf("summary %q does not count the unaudited actions", sum)
	}
}

// failingJournal is the real store whose journal state updates fail.
type failingJournal struct{ *state.Store }

var errJournal = errors.New("injected journal failure")

func (failingJournal) SetMigrationState(context.Context, int64, state.MigrationState, int64, string) error {
	return errJournal
}

// brokenDrivers is the real pool until broken is set, then fails to open
// any driver.
type brokenDrivers struct {
	*backends.Pool
	broken atomic.Bool
}

func (b *brokenDrivers) Driver(ctx context.Context, name string) (drivers.Driver, error) {
	if b.broken.Load() {
		return nil, errors.New("injected: backend unavailable")
	}
	return b.Pool.Driver(ctx, name)
}

func TestMigratorReportsJournalUpdatesThatFail(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakAt string // protocol step after which drivers fail; "" from the start
		want    []string
		is      error
	}{
		{name: "recording a failed read", want: []string{"read from bao", "journal: record the failure"}},
		{name: "recording cleanup-pending", breakAt: apply.FPFlipped, want: []string{"journal: record cleanup-pending"}, is: apply.ErrCleanupPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, s := seededWorld(t, 1, "bao")
			pool := backends.New(s, s)
			defer pool.Close()
			ds := &brokenDrivers{Pool: pool}
			ds.broken.Store(tc.breakAt == "")
			m := &apply.Migrator{Store: failingJournal{s}, Drivers: ds, Failpoint: func(step string) {
				if step == tc.breakAt {
					ds.broken.Store(true)
				}
			}}
			_, err := m.Migrate(context.Background(), "s000", state.BootstrapBackend, nil, apply.MigrateOptions{})
			if err == nil {
				t.Fatal("the move succeeded")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if !errors.Is(err, errJournal) {
				t.Errorf("error %v does not carry the journal failure", err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}
