package drivertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// cases is the conformance table. Each case runs on a fresh store.
var cases = []testCase{
	// --- reads of what is not there ---
	{name: "stat-absent", run: func(e *env) {
		e.prepare("ghost")
		m := e.mustStat("ghost")
		if m.State != drivers.Absent || m.Version != 0 || len(m.Keys) != 0 || m.Exists() {
			e.t.Fatalf("Stat of a missing object = %+v, want absent with version 0 and no keys", m)
		}
	}},
	{name: "get-missing-not-found", run: func(e *env) {
		e.prepare("ghost")
		_, _, err := e.get(e.d, "ghost")
		e.wantErr(err, drivers.ErrNotFound, "Get of a missing object")
	}},
	{name: "errors-name-the-object", run: func(e *env) {
		e.prepare("ghost-object")
		_, _, err := e.get(e.d, "ghost-object")
		var de *drivers.Error
		if !errors.As(err, &de) {
			e.t.Fatalf("Get error %v is not a *drivers.Error", err)
		}
		if de.Ref != "ghost-object" || !strings.Contains(err.Error(), "ghost-object") {
			e.t.Fatalf("error %q does not name the object", err)
		}
	}},
	{name: "delete-absent-is-noop", run: func(e *env) {
		e.prepare("ghost")
		e.mustDel("ghost", drivers.DeleteOptions{})
		e.mustDel("ghost", drivers.DeleteOptions{Destroy: true})
		if m := e.mustStat("ghost"); m.State != drivers.Absent {
			e.t.Fatalf("after deleting nothing, Stat = %s, want absent", m.State)
		}
	}},
	{name: "list-empty-store", run: func(e *env) {
		if refs := e.list(e.d); len(refs) != 0 {
			e.t.Fatalf("List of an empty store = %q, want nothing", refs)
		}
	}},

	// --- writes and round trips ---
	{name: "round-trip", run: func(e *env) {
		v := e.vals(map[string]string{"API_KEY": Marker("api"), "URL": Marker("url")})
		e.create("openai", v)
		e.wantValues("openai", v)
	}},
	{name: "put-returns-meta", run: func(e *env) {
		v := e.vals(map[string]string{"B": Marker("b"), "A": Marker("a")})
		m := e.create("meta", v)
		if m.State != drivers.Present || m.Version < 1 || !slices.Equal(m.Keys, []string{"A", "B"}) ||
			m.OwnerID != e.owner || !m.ManagedBy {
			e.t.Fatalf("Put meta = %+v, want present, version>=1, keys [A B], owner %s, managed", m, e.owner)
		}
	}},
	{name: "stat-matches-put", run: func(e *env) {
		pm := e.create("s", e.vals(map[string]string{"K1": Marker("k1"), "K2": Marker("k2")}))
		sm := e.mustStat("s")
		if sm.State != drivers.Present || sm.Version != pm.Version || !slices.Equal(sm.Keys, pm.Keys) ||
			sm.OwnerID != pm.OwnerID || sm.ManagedBy != pm.ManagedBy {
			e.t.Fatalf("Stat = %+v, Put returned %+v", sm, pm)
		}
	}},
	{name: "get-meta-matches-stat", run: func(e *env) {
		e.create("s", e.secret("TOKEN"))
		_, gm := e.mustGet("s")
		sm := e.mustStat("s")
		if gm.State != sm.State || gm.Version != sm.Version || !slices.Equal(gm.Keys, sm.Keys) || gm.OwnerID != sm.OwnerID {
			e.t.Fatalf("Get meta %+v differs from Stat %+v", gm, sm)
		}
	}},
	{name: "updated-time-set", run: func(e *env) {
		before := time.Now().Add(-time.Hour)
		m := e.create("s", e.secret("K"))
		sm := e.mustStat("s")
		for _, u := range []time.Time{m.Updated, sm.Updated} {
			if u.Before(before) || u.After(time.Now().Add(time.Hour)) {
				e.t.Fatalf("Updated = %v, want about now", u)
			}
		}
	}},
	{name: "keys-sorted", run: func(e *env) {
		e.create("s", e.vals(map[string]string{"zeta": Marker("z"), "Alpha": Marker("a"), "mid": Marker("m"), "_x": Marker("x")}))
		if k := e.mustStat("s").Keys; !slices.IsSorted(k) || len(k) != 4 {
			e.t.Fatalf("Stat keys = %q, want 4 sorted names", k)
		}
	}},
	{name: "second-driver-sees-writes", run: func(e *env) {
		v := e.secret("K")
		m := e.create("shared", v)
		d2 := e.open()
		sm, err := e.stat(d2, "shared")
		if err != nil || sm.Version != m.Version || sm.OwnerID != e.owner {
			e.t.Fatalf("second driver Stat = %+v, %v; want version %d owned by %s", sm, err, m.Version, e.owner)
		}
		got, _, err := e.get(d2, "shared")
		if err != nil || !got.Equal(v) {
			e.t.Fatalf("second driver Get: err %v, equal=%v", err, got.Equal(v))
		}
	}},
	{name: "update-with-cas", run: func(e *env) {
		m1 := e.create("s", e.secret("K"))
		v2 := e.vals(map[string]string{"K": Marker("k2"), "NEW": Marker("new")})
		m2 := e.mustPut("s", v2, drivers.PutOptions{CAS: m1.Version})
		if m2.Version <= m1.Version || !slices.Equal(m2.Keys, []string{"K", "NEW"}) {
			e.t.Fatalf("update meta = %+v, want version > %d and keys [K NEW]", m2, m1.Version)
		}
		e.wantValues("s", v2)
		if sm := e.mustStat("s"); sm.Version != m2.Version || !slices.Equal(sm.Keys, m2.Keys) {
			e.t.Fatalf("Stat after update = %+v, want %+v", sm, m2)
		}
	}},
	{name: "versions-increase", run: func(e *env) {
		m := e.create("s", e.secret("K"))
		last := m.Version
		for i := range 3 {
			m = e.mustPut("s", e.secret(fmt.Sprintf("K%d", i)), drivers.PutOptions{CAS: last})
			if m.Version <= last {
				e.t.Fatalf("write %d: version %d does not follow %d", i, m.Version, last)
			}
			last = m.Version
		}
		if k := e.mustStat("s").Keys; !slices.Equal(k, []string{"K2"}) {
			e.t.Fatalf("keys after rewrites = %q, want [K2]", k)
		}
	}},
	{name: "remove-a-key", run: func(e *env) {
		m := e.create("s", e.vals(map[string]string{"A": Marker("a"), "B": Marker("b")}))
		v := e.vals(map[string]string{"A": Marker("a2")})
		e.mustPut("s", v, drivers.PutOptions{CAS: m.Version})
		e.wantValues("s", v)
		if k := e.mustStat("s").Keys; !slices.Equal(k, []string{"A"}) {
			e.t.Fatalf("keys = %q, want [A]", k)
		}
	}},
	{name: "cas-negative-reads-version", run: func(e *env) {
		e.prepare("s")
		m1 := e.mustPut("s", e.secret("K"), drivers.PutOptions{CAS: -1})
		v := e.secret("K")
		m2 := e.mustPut("s", v, drivers.PutOptions{CAS: -1})
		if m2.Version <= m1.Version {
			e.t.Fatalf("CAS -1 update: version %d after %d", m2.Version, m1.Version)
		}
		e.wantValues("s", v)
	}},

	// --- check-and-set ---
	{name: "cas-create-on-existing-conflicts", run: func(e *env) {
		v := e.secret("K")
		e.create("s", v)
		_, err := e.put(e.d, "s", e.secret("K"), drivers.PutOptions{CAS: 0})
		e.wantErr(err, drivers.ErrCASConflict, "create over an existing object")
		e.wantValues("s", v)
	}},
	{name: "cas-stale-version-conflicts", run: func(e *env) {
		m1 := e.create("s", e.secret("K"))
		v2 := e.secret("K")
		e.mustPut("s", v2, drivers.PutOptions{CAS: m1.Version})
		_, err := e.put(e.d, "s", e.secret("K"), drivers.PutOptions{CAS: m1.Version})
		e.wantErr(err, drivers.ErrCASConflict, "write with a stale version")
		e.wantValues("s", v2)
	}},
	{name: "cas-future-version-conflicts", run: func(e *env) {
		m := e.create("s", e.secret("K"))
		_, err := e.put(e.d, "s", e.secret("K"), drivers.PutOptions{CAS: m.Version + 5})
		e.wantErr(err, drivers.ErrCASConflict, "write with a future version")
	}},
	{name: "cas-version-on-absent-conflicts", run: func(e *env) {
		e.prepare("s")
		_, err := e.put(e.d, "s", e.secret("K"), drivers.PutOptions{CAS: 3})
		e.wantErr(err, drivers.ErrCASConflict, "update of a missing object")
		if m := e.mustStat("s"); m.Exists() {
			e.t.Fatalf("a failed CAS write created the object: %+v", m)
		}
	}},
	{name: "cas-concurrent-writers-one-wins", run: func(e *env) {
		m := e.create("s", e.secret("K"))
		const n = 8
		ds := []drivers.Driver{e.d, e.open(), e.open(), e.open()}
		vs := make([]drivers.Values, n)
		for i := range vs {
			vs[i] = e.secret("K")
		}
		errs := make([]error, n)
		metas := make([]drivers.Meta, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				metas[i], errs[i] = e.put(ds[i%len(ds)], "s", vs[i], drivers.PutOptions{CAS: m.Version})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				e.t.Fatalf("writers %d and %d both succeeded with CAS %d", winner, i, m.Version)
			case err == nil:
				winner = i
			case !errors.Is(err, drivers.ErrCASConflict):
				e.t.Fatalf("writer %d: %v, want a CAS conflict", i, err)
			}
		}
		if winner < 0 {
			e.t.Fatal("no concurrent writer succeeded")
		}
		got := e.wantValues("s", vs[winner])
		if got.Version != metas[winner].Version || got.Version <= m.Version {
			e.t.Fatalf("version %d after the race, winner reported %d", got.Version, metas[winner].Version)
		}
	}},
	{name: "cas-concurrent-creators-one-wins", run: func(e *env) {
		e.prepare("s")
		const n = 6
		ds := []drivers.Driver{e.d, e.open(), e.open()}
		vs := make([]drivers.Values, n)
		for i := range vs {
			vs[i] = e.secret("K")
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, errs[i] = e.put(ds[i%len(ds)], "s", vs[i], drivers.PutOptions{CAS: 0})
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					e.t.Fatalf("creators %d and %d both succeeded", winner, i)
				}
				winner = i
			} else if !errors.Is(err, drivers.ErrCASConflict) {
				e.t.Fatalf("creator %d: %v, want a CAS conflict", i, err)
			}
		}
		if winner < 0 {
			e.t.Fatal("no creator succeeded")
		}
		e.wantValues("s", vs[winner])
		if m := e.mustStat("s"); m.OwnerID != e.owner || !m.ManagedBy {
			e.t.Fatalf("after the race Stat = %+v, want owned by %s", m, e.owner)
		}
	}},

	// --- delete ---
	{name: "delete-soft-hides-values", run: func(e *env) {
		e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		_, _, err := e.get(e.d, "s")
		e.wantErr(err, drivers.ErrNotFound, "Get after a soft delete")
		if m := e.mustStat("s"); m.Exists() {
			e.t.Fatalf("Stat after a soft delete = %+v, want not present", m)
		}
	}},
	{name: "delete-soft-stat-soft-deleted", needs: []need{softDelete}, run: func(e *env) {
		m := e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		sm := e.mustStat("s")
		if sm.State != drivers.SoftDeleted || sm.Version != m.Version || sm.OwnerID != e.owner || !sm.ManagedBy {
			e.t.Fatalf("Stat after soft delete = %+v, want soft-deleted version %d owned by %s", sm, m.Version, e.owner)
		}
	}},
	{name: "delete-soft-stays-listed", needs: []need{softDelete}, run: func(e *env) {
		e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		if refs := e.list(e.d); !slices.Equal(refs, []drivers.Ref{"s"}) {
			e.t.Fatalf("List after soft delete = %q, want [s] (history remains)", refs)
		}
	}},
	{name: "delete-soft-twice", needs: []need{softDelete}, run: func(e *env) {
		e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		e.mustDel("s", drivers.DeleteOptions{})
		if m := e.mustStat("s"); m.State != drivers.SoftDeleted {
			e.t.Fatalf("Stat = %s, want soft-deleted", m.State)
		}
	}},
	{name: "delete-version-read", run: func(e *env) {
		e.create("s", e.secret("K"))
		_, m := e.mustGet("s")
		e.mustDel("s", drivers.DeleteOptions{Version: m.Version, OwnerID: e.owner})
		_, _, err := e.get(e.d, "s")
		e.wantErr(err, drivers.ErrNotFound, "Get after deleting the version read")
		sm := e.mustStat("s")
		if sm.Exists() || (e.caps.SoftDelete && (sm.State != drivers.SoftDeleted || sm.Version != m.Version)) {
			e.t.Fatalf("Stat after deleting version %d = %+v, want it not present (soft-deleted where versions are kept)", m.Version, sm)
		}
	}},
	{name: "delete-version-leaves-newer", run: func(e *env) {
		m1 := e.create("s", e.secret("K"))
		v2 := e.vals(map[string]string{"K": Marker("newer")})
		m2 := e.mustPut("s", v2, drivers.PutOptions{CAS: m1.Version})
		e.mustDel("s", drivers.DeleteOptions{Version: m1.Version, OwnerID: e.owner})
		e.wantValues("s", v2)
		if sm := e.mustStat("s"); sm.State != drivers.Present || sm.Version != m2.Version {
			e.t.Fatalf("Stat after deleting the older version %d = %+v, want version %d present", m1.Version, sm, m2.Version)
		}
	}},
	{name: "delete-version-leaves-foreign-newer", needs: []need{foreign}, run: func(e *env) {
		m1 := e.create("s", e.secret("K"))
		e.s.WriteForeign(e.t, "s", map[string]string{"K": Marker("outside")})
		e.mustDel("s", drivers.DeleteOptions{Version: m1.Version, OwnerID: e.owner})
		if sm := e.mustStat("s"); sm.State != drivers.Present || sm.Version <= m1.Version {
			e.t.Fatalf("Stat after deleting version %d under a version written outside mcpctl = %+v, want the later one present", m1.Version, sm)
		}
		if _, _, err := e.get(e.d, "s"); err != nil {
			e.t.Fatalf("the later version is not readable: %v", err)
		}
	}},
	{name: "delete-version-absent", run: func(e *env) {
		e.prepare("ghost")
		e.mustDel("ghost", drivers.DeleteOptions{Version: 3, OwnerID: e.owner})
		if m := e.mustStat("ghost"); m.State != drivers.Absent {
			e.t.Fatalf("after deleting a version of nothing, Stat = %s, want absent", m.State)
		}
		m := e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{Version: m.Version})
		e.mustDel("s", drivers.DeleteOptions{Version: m.Version}) // already deleted
		e.mustDel("s", drivers.DeleteOptions{Version: m.Version + 5})
	}},
	{name: "delete-destroy-absent", run: func(e *env) {
		e.create("s", e.secret("K"))
		e.create("keep", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{Destroy: true})
		if m := e.mustStat("s"); m.State != drivers.Absent || m.Version != 0 {
			e.t.Fatalf("Stat after destroy = %+v, want absent", m)
		}
		if refs := e.list(e.d); !slices.Equal(refs, []drivers.Ref{"keep"}) {
			e.t.Fatalf("List after destroy = %q, want [keep]", refs)
		}
	}},
	{name: "destroy-soft-deleted", needs: []need{softDelete}, run: func(e *env) {
		e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		e.mustDel("s", drivers.DeleteOptions{Destroy: true})
		if m := e.mustStat("s"); m.State != drivers.Absent {
			e.t.Fatalf("Stat = %s, want absent", m.State)
		}
	}},
	{name: "recreate-after-soft-delete-cas0", run: func(e *env) {
		m := e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		v := e.secret("K")
		m2 := e.mustPut("s", v, drivers.PutOptions{CAS: 0})
		if m2.State != drivers.Present {
			e.t.Fatalf("re-create meta = %+v", m2)
		}
		if e.caps.SoftDelete && m2.Version <= m.Version {
			e.t.Fatalf("re-create version %d does not follow %d", m2.Version, m.Version)
		}
		e.wantValues("s", v)
	}},
	{name: "recreate-after-soft-delete-with-version", needs: []need{softDelete}, run: func(e *env) {
		m := e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		v := e.secret("K")
		if m2 := e.mustPut("s", v, drivers.PutOptions{CAS: m.Version}); m2.Version != m.Version+1 {
			e.t.Fatalf("version after re-create = %d, want %d", m2.Version, m.Version+1)
		}
		e.wantValues("s", v)
	}},
	{name: "recreate-after-destroy", run: func(e *env) {
		e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{Destroy: true})
		v := e.secret("K")
		e.mustPut("s", v, drivers.PutOptions{CAS: 0})
		e.wantValues("s", v)
	}},

	// --- ownership ---
	{name: "ownership-put-refused", needs: []need{ownership}, run: func(e *env) {
		v := e.secret("K")
		e.create("s", v)
		_, err := e.put(e.d, "s", e.secret("K"), drivers.PutOptions{CAS: -1, OwnerID: NewID()})
		e.wantErr(err, drivers.ErrNotOwned, "Put by another owner")
		e.wantValues("s", v)
		if m := e.mustStat("s"); m.OwnerID != e.owner {
			e.t.Fatalf("owner changed to %s after a refused write", m.OwnerID)
		}
	}},
	{name: "ownership-adopt", needs: []need{ownership}, run: func(e *env) {
		e.create("s", e.secret("K"))
		other := NewID()
		v := e.secret("K")
		m := e.mustPut("s", v, drivers.PutOptions{CAS: -1, OwnerID: other, Adopt: true})
		if m.OwnerID != other {
			e.t.Fatalf("Put with Adopt: owner %s, want %s", m.OwnerID, other)
		}
		if sm := e.mustStat("s"); sm.OwnerID != other || !sm.ManagedBy {
			e.t.Fatalf("Stat after adopt = %+v, want owner %s", sm, other)
		}
		e.wantValues("s", v)
	}},
	{name: "ownership-create-over-deleted-refused", needs: []need{ownership, softDelete}, run: func(e *env) {
		e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{})
		_, err := e.put(e.d, "s", e.secret("K"), drivers.PutOptions{CAS: 0, OwnerID: NewID()})
		e.wantErr(err, drivers.ErrNotOwned, "create over another owner's soft-deleted object")
	}},
	{name: "ownership-delete-refused", needs: []need{ownership}, run: func(e *env) {
		v := e.secret("K")
		e.create("s", v)
		err := e.del(e.d, "s", drivers.DeleteOptions{OwnerID: NewID()})
		e.wantErr(err, drivers.ErrNotOwned, "soft delete by another owner")
		err = e.del(e.d, "s", drivers.DeleteOptions{OwnerID: NewID(), Destroy: true})
		e.wantErr(err, drivers.ErrNotOwned, "destroy by another owner")
		e.wantValues("s", v)
	}},
	{name: "ownership-delete-by-owner", needs: []need{ownership}, run: func(e *env) {
		e.create("s", e.secret("K"))
		e.mustDel("s", drivers.DeleteOptions{OwnerID: e.owner, Destroy: true})
		if m := e.mustStat("s"); m.State != drivers.Absent {
			e.t.Fatalf("Stat = %s after the owner destroyed it", m.State)
		}
	}},
	{name: "foreign-object-stat", needs: []need{foreign}, run: func(e *env) {
		e.prepare("legacy")
		e.s.WriteForeign(e.t, "legacy", map[string]string{"USER": Marker("u"), "PASS": Marker("p")})
		m := e.mustStat("legacy")
		if m.State != drivers.Present || m.ManagedBy || m.OwnerID != "" || !slices.Equal(m.Keys, []string{"PASS", "USER"}) {
			e.t.Fatalf("Stat of a foreign object = %+v, want present, unmanaged, keys [PASS USER]", m)
		}
	}},
	{name: "foreign-object-put-refused", needs: []need{foreign, ownership}, run: func(e *env) {
		e.prepare("legacy")
		e.s.WriteForeign(e.t, "legacy", map[string]string{"USER": Marker("u")})
		_, err := e.put(e.d, "legacy", e.secret("K"), drivers.PutOptions{CAS: -1})
		e.wantErr(err, drivers.ErrNotOwned, "Put over a foreign object")
		if m := e.mustStat("legacy"); m.ManagedBy || !slices.Equal(m.Keys, []string{"USER"}) {
			e.t.Fatalf("refused write changed the object: %+v", m)
		}
	}},
	{name: "foreign-object-adopt", needs: []need{foreign, ownership}, run: func(e *env) {
		e.prepare("legacy")
		e.s.WriteForeign(e.t, "legacy", map[string]string{"USER": Marker("u")})
		v := e.secret("K")
		m := e.mustPut("legacy", v, drivers.PutOptions{CAS: -1, Adopt: true})
		if !m.ManagedBy || m.OwnerID != e.owner {
			e.t.Fatalf("adopted object meta = %+v", m)
		}
		e.wantValues("legacy", v)
	}},
	{name: "foreign-object-delete-refused", needs: []need{foreign, ownership}, run: func(e *env) {
		e.prepare("legacy")
		e.s.WriteForeign(e.t, "legacy", map[string]string{"USER": Marker("u")})
		err := e.del(e.d, "legacy", drivers.DeleteOptions{OwnerID: e.owner, Destroy: true})
		e.wantErr(err, drivers.ErrNotOwned, "destroy of a foreign object")
		if m := e.mustStat("legacy"); !m.Exists() {
			e.t.Fatalf("foreign object gone after a refused delete: %+v", m)
		}
	}},
	{name: "stat-sees-external-version", needs: []need{foreign}, run: func(e *env) {
		m := e.create("s", e.vals(map[string]string{"OLD": Marker("old")}))
		e.s.WriteForeign(e.t, "s", map[string]string{"NEW1": Marker("n1"), "NEW2": Marker("n2")})
		sm := e.mustStat("s")
		if sm.Version <= m.Version || !slices.Equal(sm.Keys, []string{"NEW1", "NEW2"}) {
			e.t.Fatalf("Stat after an outside write = %+v, want version > %d and keys [NEW1 NEW2]", sm, m.Version)
		}
		_, err := e.put(e.d, "s", e.secret("K"), drivers.PutOptions{CAS: m.Version})
		e.wantErr(err, drivers.ErrCASConflict, "write with the version before an outside write")
	}},

	// --- list ---
	{name: "list-under-prefix", run: func(e *env) {
		for _, r := range []drivers.Ref{"c", "a", "b"} {
			e.create(r, e.secret("K"))
		}
		if refs := e.list(e.d); !slices.Equal(refs, []drivers.Ref{"a", "b", "c"}) {
			e.t.Fatalf("List = %q, want [a b c]", refs)
		}
	}},
	{name: "list-nothing-outside-prefix", needs: []need{outside}, run: func(e *env) {
		e.create("inside", e.secret("K"))
		e.s.WriteOutside(e.t, "outside")
		if refs := e.list(e.d); !slices.Equal(refs, []drivers.Ref{"inside"}) {
			e.t.Fatalf("List = %q, want only [inside]", refs)
		}
	}},
	{name: "list-nested-refs", needs: []need{nestedRefs}, run: func(e *env) {
		refs := []drivers.Ref{"team-a/db", "team-a/deep/api", "top"}
		for _, r := range refs {
			e.create(r, e.secret("K"))
		}
		if got := e.list(e.d); !slices.Equal(got, refs) {
			e.t.Fatalf("List = %q, want %q", got, refs)
		}
		if m := e.mustStat("team-a/deep/api"); !m.Exists() {
			e.t.Fatalf("Stat of a nested ref = %+v", m)
		}
	}},
	{name: "list-early-stop", run: func(e *env) {
		for _, r := range []drivers.Ref{"a", "b", "c"} {
			e.create(r, e.secret("K"))
		}
		n := 0
		for _, err := range e.d.List(e.ctx) {
			if e.record(err) != nil {
				e.t.Fatal(err)
			}
			n++
			break
		}
		if n != 1 {
			e.t.Fatalf("List yielded %d refs before the break, want 1", n)
		}
	}},
	{name: "list-many", run: func(e *env) {
		var want []drivers.Ref
		for i := range 30 {
			want = append(want, drivers.Ref(fmt.Sprintf("s-%02d", i)))
		}
		e.prepare(want...)
		var wg sync.WaitGroup
		errs := make([]error, len(want))
		for i, r := range want {
			wg.Go(func() { _, errs[i] = e.put(e.d, r, e.secret("K"), drivers.PutOptions{}) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			e.t.Fatalf("parallel creates: %v", err)
		}
		if got := e.list(e.d); !slices.Equal(got, want) {
			e.t.Fatalf("List returned %d refs, want %d", len(got), len(want))
		}
	}},

	// --- values ---
	{name: "values-unicode", run: func(e *env) {
		v := e.vals(map[string]string{
			"ключ":  "значение-" + Marker("ru"),
			"鍵":     "値🔑-" + Marker("jp"),
			"emoji": "👩‍💻🏳️‍🌈" + Marker("em"),
			"rtl":   "\u202eمرحبا" + Marker("ar"),
		})
		e.create("u", v)
		e.wantValues("u", v)
	}},
	{name: "values-binary-safe-strings", run: func(e *env) {
		v := e.vals(map[string]string{
			"nul":     "a\x00b" + Marker("nul"),
			"ctl":     "\x01\x02\x1b[31m\x7f" + Marker("ctl"),
			"ws":      " \t\r\n lead and trail \n" + Marker("ws"),
			"quotes":  `"'` + "`\\" + `{"json":true}` + Marker("q"),
			"pem":     "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n" + Marker("pem"),
			"percent": "%s %v %%d %x" + Marker("pct"),
		})
		e.create("b", v)
		e.wantValues("b", v)
	}},
	{name: "values-invalid-utf8-not-corrupted", run: func(e *env) {
		bad := "\xff\xfe" + Marker("bad")
		e.prepare("b")
		_, err := e.put(e.d, "b", e.vals(map[string]string{"K": bad}), drivers.PutOptions{})
		if err != nil {
			return // refusing is fine; the leak check still inspects the error
		}
		got, _ := e.mustGet("b")
		if g, _ := got.Get("K"); g != bad {
			e.t.Fatalf("invalid UTF-8 value accepted but read back changed (%d bytes, valid=%v)", len(g), utf8.ValidString(g))
		}
	}},
	{name: "values-empty-string", run: func(e *env) {
		v := e.vals(map[string]string{"EMPTY": "", "FULL": Marker("f")})
		e.create("e", v)
		e.wantValues("e", v)
		if k := e.mustStat("e").Keys; !slices.Equal(k, []string{"EMPTY", "FULL"}) {
			e.t.Fatalf("keys = %q", k)
		}
	}},
	{name: "values-no-keys", run: func(e *env) {
		v := e.vals(nil)
		m := e.create("e", v)
		if m.State != drivers.Present || len(m.Keys) != 0 {
			e.t.Fatalf("empty secret meta = %+v", m)
		}
		e.wantValues("e", v)
	}},
	{name: "values-1mib", run: func(e *env) {
		big := Marker("big")
		big += strings.Repeat("x", 1<<20-len(big))
		v := e.vals(map[string]string{"BLOB": big})
		e.create("big", v)
		e.wantValues("big", v)
	}},
	{name: "values-100-keys", run: func(e *env) {
		m := map[string]string{}
		var want []string
		for i := range 100 {
			k := fmt.Sprintf("SOME_RATHER_LONG_KEY_NAME_%03d", i)
			m[k] = Marker("k")
			want = append(want, k)
		}
		v := e.vals(m)
		pm := e.create("many", v)
		if !slices.Equal(pm.Keys, want) {
			e.t.Fatalf("Put keys = %d names, want 100", len(pm.Keys))
		}
		if sm := e.mustStat("many"); !slices.Equal(sm.Keys, want) {
			e.t.Fatalf("Stat keys = %d names, want the 100 written", len(sm.Keys))
		}
		e.wantValues("many", v)
	}},
	{name: "key-names-with-separators", run: func(e *env) {
		v := e.vals(map[string]string{
			"a,b": Marker("c"), "x=y": Marker("e"), "with space": Marker("s"),
			"dot.ted": Marker("d"), "per%cent": Marker("p"), "semi;colon": Marker("sc"),
		})
		e.create("sep", v)
		want := v.Keys()
		if k := e.mustStat("sep").Keys; !slices.Equal(k, want) {
			e.t.Fatalf("Stat keys = %q, want %q", k, want)
		}
		e.wantValues("sep", v)
	}},
	{name: "key-name-long", run: func(e *env) {
		k := strings.Repeat("K", 300)
		v := e.vals(map[string]string{k: Marker("long"), "short": Marker("s")})
		e.create("long", v)
		if got := e.mustStat("long").Keys; !slices.Equal(got, []string{k, "short"}) {
			e.t.Fatalf("Stat keys: got %d names, want the long one and short", len(got))
		}
	}},
	{name: "values-formatting-redacted", run: func(e *env) {
		v := e.secret("K")
		m := e.create("f", v)
		got, _ := e.mustGet("f")
		s := fmt.Sprintf("%v %+v %#v %s", got, got, m, []any{got})
		if !strings.Contains(s, "(sensitive)") {
			e.t.Fatalf("formatted Values do not say (sensitive)")
		}
	}},

	// --- plan-level access ---
	{name: "stat-never-needs-values", needs: []need{readOnly}, run: func(e *env) {
		v := e.vals(map[string]string{"A": Marker("a"), "B": Marker("b")})
		pm := e.create("s", v)
		ro := e.track(e.s.OpenReadOnly(e.t))
		m, err := e.stat(ro, "s")
		if err != nil || m.Version != pm.Version || !slices.Equal(m.Keys, []string{"A", "B"}) || m.OwnerID != e.owner {
			e.t.Fatalf("read-only Stat = %+v, %v; want version %d keys [A B]", m, err, pm.Version)
		}
		if refs := e.list(ro); !slices.Equal(refs, []drivers.Ref{"s"}) {
			e.t.Fatalf("read-only List = %q", refs)
		}
		if _, _, err := e.get(ro, "s"); err == nil {
			e.t.Fatal("read-only credentials could read values; the case proves nothing")
		}
	}},
	{name: "stat-never-needs-values-after-outside-write", needs: []need{readOnly, foreign}, run: func(e *env) {
		e.create("s", e.secret("A"))
		e.s.WriteForeign(e.t, "s", map[string]string{"C": Marker("c")})
		ro := e.track(e.s.OpenReadOnly(e.t))
		if m, err := e.stat(ro, "s"); err != nil || !slices.Equal(m.Keys, []string{"C"}) {
			e.t.Fatalf("read-only Stat after an outside write = %+v, %v; want keys [C]", m, err)
		}
	}},

	// --- auth, namespaces ---
	{name: "login-once-per-driver", needs: []need{logins}, run: func(e *env) {
		before := e.s.Logins()
		d := e.open()
		e.prepare("a", "b", "c", "d")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i, r := range []drivers.Ref{"a", "b", "c", "d"} {
			wg.Go(func() {
				if _, err := e.put(d, r, e.secret("K"), drivers.PutOptions{}); err != nil {
					errs[i] = err
					return
				}
				_, errs[i] = e.stat(d, r)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			e.t.Fatal(err)
		}
		e.list(d)
		if n := e.s.Logins() - before; n != 1 {
			e.t.Fatalf("one driver logged in %d times for 9 calls, want 1", n)
		}
	}},
	{name: "login-lazy", needs: []need{logins}, run: func(e *env) {
		before := e.s.Logins()
		e.open()
		if n := e.s.Logins() - before; n != 0 {
			e.t.Fatalf("opening a driver logged in %d times, want 0 until first use", n)
		}
	}},
	{name: "namespace-sent", needs: []need{namespace}, run: func(e *env) {
		d, seen := e.s.OpenNamespaced(e.t, "team-a")
		e.track(d)
		e.prepare("s")
		if _, err := e.stat(d, "s"); err != nil {
			e.t.Fatalf("Stat with a namespace: %v", err)
		}
		got := seen()
		if len(got) == 0 {
			e.t.Fatal("no request recorded")
		}
		for i, ns := range got {
			if ns != "team-a" {
				e.t.Fatalf("request %d carried namespace %q, want team-a", i, ns)
			}
		}
	}},

	// --- context and optional capabilities ---
	{name: "context-cancelled", run: func(e *env) {
		e.create("s", e.secret("K"))
		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		_, err := e.d.Stat(ctx, "s")
		if e.record(err) == nil || !errors.Is(err, context.Canceled) {
			e.t.Fatalf("Stat with a cancelled context: %v, want context.Canceled", err)
		}
		_, err = e.d.Put(ctx, "s", e.secret("K"), drivers.PutOptions{CAS: -1, OwnerID: e.owner})
		if e.record(err) == nil || !errors.Is(err, context.Canceled) {
			e.t.Fatalf("Put with a cancelled context: %v, want context.Canceled", err)
		}
	}},
	{name: "bulk-stat-matches-stat", run: func(e *env) {
		e.create("a", e.secret("K"))
		e.create("b", e.vals(map[string]string{"X": Marker("x"), "Y": Marker("y")}))
		e.create("gone", e.secret("K"))
		e.mustDel("gone", drivers.DeleteOptions{})
		bs, ok := e.d.(drivers.BulkStater)
		if !ok {
			return // not a BulkStater: callers Stat each object, which other cases cover
		}
		all, err := bs.StatAll(e.ctx)
		if e.record(err) != nil {
			if !errors.Is(err, drivers.ErrUnsupported) {
				e.t.Fatalf("StatAll: %v, want a result or ErrUnsupported", err)
			}
			return
		}
		for _, r := range e.list(e.d) {
			want := e.mustStat(r)
			got, ok := all[r]
			if !ok || got.State != want.State || got.Version != want.Version ||
				!slices.Equal(got.Keys, want.Keys) || got.OwnerID != want.OwnerID {
				e.t.Fatalf("StatAll[%s] = %+v (present %v), Stat = %+v", r, got, ok, want)
			}
		}
		if st, ok := e.d.(drivers.BulkStreamer); ok {
			streamed := map[drivers.Ref]drivers.Meta{}
			if err := st.StatEach(e.ctx, func(r drivers.Ref, m drivers.Meta) { streamed[r] = m }); err != nil {
				e.t.Fatalf("StatEach: %v after StatAll succeeded", err)
			}
			if len(streamed) != len(all) {
				e.t.Fatalf("StatEach reported %d objects, StatAll %d", len(streamed), len(all))
			}
			for r, want := range all {
				got := streamed[r]
				if got.State != want.State || got.Version != want.Version || !slices.Equal(got.Keys, want.Keys) || got.OwnerID != want.OwnerID {
					e.t.Fatalf("StatEach[%s] = %+v, StatAll = %+v", r, got, want)
				}
			}
		}
	}},
	{name: "optional-interfaces", run: func(e *env) {
		// Locator and Checker are optional; a driver that has them must
		// answer sensibly. The round trip keeps the case meaningful for
		// drivers that have neither.
		v := e.secret("K")
		e.create("some-secret", v)
		e.wantValues("some-secret", v)
		if l, ok := e.d.(drivers.Locator); ok {
			if loc := l.Location("some-secret"); !strings.Contains(loc, "some-secret") {
				e.t.Fatalf("Location = %q, want it to contain the ref", loc)
			}
		}
		if c, ok := e.d.(drivers.Checker); ok {
			if h := c.Check(e.ctx); !h.Reachable || h.Err != nil {
				e.t.Fatalf("Check = %+v, want reachable without error", h)
			}
		}
	}},
}
