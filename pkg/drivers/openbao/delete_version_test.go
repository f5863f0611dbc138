package openbao

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// deletedVersions reads, with the root token, which versions of ref carry
// a deletion time.
func (s *store) deletedVersions(t *testing.T, ref string) []string {
	t.Helper()
	sec, err := s.f.root.Logical().Read(s.kvPath("metadata", ref))
	if err != nil || sec == nil {
		t.Fatalf("read metadata %s: %v", ref, err)
	}
	vs, _ := sec.Data["versions"].(map[string]any)
	var out []string
	for n, v := range vs {
		if m, _ := v.(map[string]any); m != nil && m["deletion_time"] != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// Delete with a Version soft-deletes exactly that version in one request
// (no metadata read), leaves a later version alone, and takes an absent
// object or version as done.
func TestDeleteVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newVaultFixture(t).newStore(t)
	d := s.open(t)
	p := s.prefix + "/"
	requests := s.requestsDuring
	mustDel := func(ref string, o drivers.DeleteOptions) {
		t.Helper()
		if err := d.Delete(ctx, drivers.Ref(ref), o); err != nil {
			t.Fatalf("Delete %s %+v: %v", ref, o, err)
		}
	}

	// The version read is the one deleted, in one request.
	if _, err := d.Put(ctx, "read", vals(map[string]string{"K": "v1"}), drivers.PutOptions{OwnerID: "o"}); err != nil {
		t.Fatal(err)
	}
	_, m, err := d.Get(ctx, "read")
	if err != nil || m.Version != 1 || m.OwnerID != "o" {
		t.Fatalf("Get = %+v, %v", m, err)
	}
	if got := requests(func() { mustDel("read", drivers.DeleteOptions{Version: m.Version, OwnerID: "o"}) }); !slices.Equal(got, []string{"PUT delete/" + p + "read"}) {
		t.Errorf("Delete of version %d made requests %q, want one versioned delete and no metadata read", m.Version, got)
	}
	if sm, err := d.Stat(ctx, "read"); err != nil || sm.State != drivers.SoftDeleted || sm.Version != 1 {
		t.Errorf("after the versioned delete Stat = %+v, %v; want version 1 soft-deleted", sm, err)
	}

	// A version written in between (outside mcpctl: the owner metadata,
	// which KV v2 keeps per path, still names us) is left alone.
	if _, err := d.Put(ctx, "newer", vals(map[string]string{"K": "v1"}), drivers.PutOptions{OwnerID: "o"}); err != nil {
		t.Fatal(err)
	}
	s.writeForeign(t, "newer", map[string]string{"K": "v2"})
	mustDel("newer", drivers.DeleteOptions{Version: 1, OwnerID: "o"})
	v, nm, err := d.Get(ctx, "newer")
	if got, _ := v.Get("K"); err != nil || got != "v2" || nm.Version != 2 {
		t.Errorf("after deleting version 1 under version 2: Get = %q version %d, %v; want v2 readable", got, nm.Version, err)
	}
	if del := s.deletedVersions(t, "newer"); !slices.Equal(del, []string{"1"}) {
		t.Errorf("deleted versions = %v, want [1]", del)
	}

	// Absent: no object, a version that never was, a version already deleted.
	mustDel("ghost", drivers.DeleteOptions{Version: 4, OwnerID: "o"})
	mustDel("newer", drivers.DeleteOptions{Version: 9})
	mustDel("newer", drivers.DeleteOptions{Version: 1})
	if sm, err := d.Stat(ctx, "ghost"); err != nil || sm.State != drivers.Absent {
		t.Errorf("Stat of the never written object = %+v, %v", sm, err)
	}
	if del := s.deletedVersions(t, "newer"); !slices.Equal(del, []string{"1"}) {
		t.Errorf("deleted versions after the no-ops = %v, want [1]", del)
	}
}

// A token whose apply policy predates the <mount>/delete/ rule is refused
// the versioned request once; Delete then reads metadata and deletes the
// current version only while it is still the version asked for.
func TestDeleteVersionWithoutDeleteRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newVaultFixture(t).newStore(t)
	cfg := Config{Mount: s.f.mount, PathPrefix: s.prefix}
	var old []string
	for _, block := range strings.SplitAfter(ApplyPolicy(cfg), "}\n") {
		if !strings.Contains(block, "/delete/") {
			old = append(old, block)
		}
	}
	name := "old-apply-" + s.prefix
	s.f.v.WritePolicy(t, name, strings.Join(old, ""))
	d := s.open(t, s.withToken("old-apply", s.f.v.NewToken(t, name)))

	for _, ref := range []drivers.Ref{"current", "newer"} {
		if _, err := d.Put(ctx, ref, vals(map[string]string{"K": "v1"}), drivers.PutOptions{OwnerID: "o"}); err != nil {
			t.Fatal(err)
		}
	}
	s.writeForeign(t, "newer", map[string]string{"K": "v2"})
	if err := d.Delete(ctx, "current", drivers.DeleteOptions{Version: 1, OwnerID: "o"}); err != nil {
		t.Fatalf("Delete of the current version without the delete/ rule: %v", err)
	}
	if sm, err := d.Stat(ctx, "current"); err != nil || sm.State != drivers.SoftDeleted {
		t.Errorf("Stat = %+v, %v; want soft-deleted", sm, err)
	}
	if err := d.Delete(ctx, "newer", drivers.DeleteOptions{Version: 1, OwnerID: "o"}); err != nil {
		t.Fatalf("Delete of a superseded version without the delete/ rule: %v", err)
	}
	if _, nm, err := d.Get(ctx, "newer"); err != nil || nm.Version != 2 {
		t.Errorf("the later version: %+v, %v; want version 2 readable", nm, err)
	}
	if n := len(s.proxy.requests("PUT", "/delete/")); n != 1 {
		t.Errorf("%d versioned delete requests, want 1 (refused once, not asked again)", n)
	}
	if !strings.Contains(s.logs.String(), "may not soft-delete a given version") {
		t.Errorf("no warning about the missing policy rule in the logs:\n%s", s.logs.String())
	}
}
