package state_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func TestBackendCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)

	b := &state.Backend{Name: "bao", Type: "openbao", Config: []byte(`{"url":"http://127.0.0.1:8200"}`),
		Description: "cluster OpenBao", Labels: map[string]string{"team": "infra"},
		Annotations: map[string]string{"note": "x"}}
	if err := st.CreateBackend(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.ID == "" || b.Generation != 1 || b.CreatedAt.IsZero() {
		t.Fatalf("CreateBackend did not fill ID/generation/timestamps: %+v", b)
	}
	got, err := st.GetBackend(ctx, "bao")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*b, got); diff != "" {
		t.Fatalf("GetBackend differs from what was created (-created +read):\n%s", diff)
	}
	if err := st.CreateBackend(ctx, &state.Backend{Name: "bao", Type: "openbao"}); !errors.Is(err, state.ErrExists) || !strings.Contains(err.Error(), `backend "bao"`) {
		t.Fatalf("second CreateBackend(bao) = %v, want ErrExists naming the backend", err)
	}

	stale := got
	b.Description = "changed"
	if err := st.UpdateBackend(ctx, b); err != nil {
		t.Fatal(err)
	}
	if b.Generation != 2 {
		t.Fatalf("generation after update = %d, want 2", b.Generation)
	}
	stale.Description = "lost update"
	err = st.UpdateBackend(ctx, &stale)
	if !errors.Is(err, state.ErrConflict) || errors.Is(err, state.ErrNotFound) || !containsAll(err.Error(), `backend "bao"`, "expected generation 1, found 2") {
		t.Fatalf("update with a stale generation = %v, want ErrConflict naming both generations", err)
	}
	if err := st.DeleteBackend(ctx, "bao", 1); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("delete with a stale generation = %v, want ErrConflict", err)
	}

	b.Type = "plaintext"
	if err := st.UpdateBackend(ctx, b); !errors.Is(err, state.ErrImmutable) {
		t.Fatalf("changing the type = %v, want ErrImmutable", err)
	}
	b.Type = "openbao"

	if err := st.DeleteBackend(ctx, "bao", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetBackend(ctx, "bao"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetBackend after delete = %v, want ErrNotFound", err)
	}
	if err := st.DeleteBackend(ctx, "bao", 2); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("second delete = %v, want ErrNotFound", err)
	}
	if err := st.UpdateBackend(ctx, b); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("update of a deleted backend = %v, want ErrNotFound", err)
	}
}

func TestSecondDefaultBackendRejectedByTheDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)

	err := st.CreateBackend(ctx, &state.Backend{Name: "other", Type: "plaintext", IsDefault: true})
	if !errors.Is(err, state.ErrDuplicateDefault) {
		t.Fatalf("second default = %v, want ErrDuplicateDefault", err)
	}
	// Enforced by the partial unique index, not by the client.
	_, err = st.Pool().Exec(ctx, `INSERT INTO `+st.Schema()+`.backends (name, type, is_default) VALUES ('raw', 'plaintext', true)`)
	if sqlstate(err) != "23505" {
		t.Fatalf("raw insert of a second default: %v, want unique violation", err)
	}
	// Moving the default is possible in one transaction: clear, then set.
	other := &state.Backend{Name: "other", Type: "plaintext"}
	if err := st.CreateBackend(ctx, other); err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(tx *state.Tx) error {
		def, err := tx.GetBackend(ctx, "default")
		if err != nil {
			return err
		}
		def.IsDefault = false
		if err := tx.UpdateBackend(ctx, &def); err != nil {
			return err
		}
		other.IsDefault = true
		return tx.UpdateBackend(ctx, other)
	})
	if err != nil {
		t.Fatal(err)
	}
	bs, err := st.ListBackends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var defaults []string
	for _, b := range bs {
		if b.IsDefault {
			defaults = append(defaults, b.Name)
		}
	}
	if !slices.Equal(defaults, []string{"other"}) {
		t.Fatalf("defaults = %v, want [other]", defaults)
	}
}

func TestDeleteBackendWithSecretsIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)

	b := &state.Backend{Name: "bao", Type: "openbao"}
	if err := st.CreateBackend(ctx, b); err != nil {
		t.Fatal(err)
	}
	sec := &state.Secret{Name: "openai", BackendName: "bao", Keys: []string{"API_KEY"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	err := st.DeleteBackend(ctx, "bao", b.Generation)
	if !errors.Is(err, state.ErrInUse) || !strings.Contains(err.Error(), `backend "bao"`) {
		t.Fatalf("deleting a backend with secrets = %v, want ErrInUse naming it", err)
	}
	// ON DELETE RESTRICT holds for plain SQL as well.
	_, err = st.Pool().Exec(ctx, `DELETE FROM `+st.Schema()+`.backends WHERE name = 'bao'`)
	if sqlstate(err) != "23503" {
		t.Fatalf("raw delete: %v, want foreign key violation", err)
	}
	if err := st.DeleteSecret(ctx, "openai", sec.Generation); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteBackend(ctx, "bao", b.Generation); err != nil {
		t.Fatalf("delete after its secrets are gone: %v", err)
	}
}

func TestProtectedRowsAreUndeletable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)

	b := &state.Backend{Name: "vault", Type: "openbao", Protected: true}
	if err := st.CreateBackend(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteBackend(ctx, "vault", b.Generation); !errors.Is(err, state.ErrProtected) {
		t.Fatalf("delete of a protected backend = %v, want ErrProtected", err)
	}
	sec := &state.Secret{Name: "db", BackendName: "default", Protected: true, Data: map[string]string{"K": "v"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSecret(ctx, "db", sec.Generation); !errors.Is(err, state.ErrProtected) {
		t.Fatalf("delete of a protected secret = %v, want ErrProtected", err)
	}
	sec.Protected = false
	if err := st.UpdateSecret(ctx, sec, false); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSecret(ctx, "db", sec.Generation); err != nil {
		t.Fatalf("delete after unprotecting: %v", err)
	}
}

func TestSecretCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)

	sec := &state.Secret{Name: "openai", BackendName: "default", Managed: true, Fingerprint: "fp1",
		Data: map[string]string{"B": "two", "A": "one"}, Keys: []string{"ignored"},
		Labels: map[string]string{"app": "x"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	if sec.ID == "" || sec.BackendID == "" || sec.BackendType != "plaintext" || sec.Generation != 1 ||
		sec.DataVersion != 1 || !sec.HasData || !slices.Equal(sec.Keys, []string{"A", "B"}) {
		t.Fatalf("CreateSecret filled %+v", sec)
	}
	noData, err := st.GetSecret(ctx, "openai", false)
	if err != nil {
		t.Fatal(err)
	}
	if noData.Data != nil || !noData.HasData || noData.BackendName != "default" || noData.Labels["app"] != "x" {
		t.Fatalf("GetSecret without data = %+v", noData)
	}
	withData, err := st.GetSecret(ctx, "openai", true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sec.Data, withData.Data); diff != "" {
		t.Fatalf("data read back differs:\n%s", diff)
	}

	// A metadata update of a row read without data keeps the values.
	noData.Fingerprint = "fp2"
	if err := st.UpdateSecret(ctx, &noData, false); err != nil {
		t.Fatal(err)
	}
	if noData.Generation != 2 || noData.DataVersion != 1 {
		t.Fatalf("after a metadata update: generation %d data version %d, want 2 and 1", noData.Generation, noData.DataVersion)
	}
	again, err := st.GetSecret(ctx, "openai", true)
	if err != nil {
		t.Fatal(err)
	}
	if again.Data["A"] != "one" || again.Fingerprint != "fp2" {
		t.Fatal("metadata update lost the values or the fingerprint")
	}

	// A data write bumps the data version; clearing data keeps key names given.
	again.Data = map[string]string{"C": "three"}
	if err := st.UpdateSecret(ctx, &again, true); err != nil {
		t.Fatal(err)
	}
	if again.DataVersion != 2 || !slices.Equal(again.Keys, []string{"C"}) {
		t.Fatalf("after a data write: data version %d keys %v", again.DataVersion, again.Keys)
	}
	bao := &state.Backend{Name: "bao", Type: "openbao"}
	if err := st.CreateBackend(ctx, bao); err != nil {
		t.Fatal(err)
	}
	again.Data, again.BackendID, again.BackendName, again.BackendVersion = nil, "", "bao", 1
	if err := st.UpdateSecret(ctx, &again, true); err != nil {
		t.Fatal(err)
	}
	if again.HasData || again.DataVersion != 3 || again.BackendName != "bao" || again.BackendType != "openbao" ||
		again.BackendID != bao.ID || !slices.Equal(again.Keys, []string{"C"}) {
		t.Fatalf("after the flip to bao: %+v", again)
	}

	// Conflicts and missing rows.
	stale := withData
	err = st.UpdateSecret(ctx, &stale, false)
	if !errors.Is(err, state.ErrConflict) || !strings.Contains(err.Error(), `secret "openai"`) {
		t.Fatalf("update with a stale generation = %v, want ErrConflict naming the secret", err)
	}
	if err := st.DeleteSecret(ctx, "openai", 1); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("delete with a stale generation = %v, want ErrConflict", err)
	}
	again.BackendID, again.BackendName = "", "nope"
	if err := st.UpdateSecret(ctx, &again, false); !errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("update onto a missing backend = %v, want ErrNotFound naming it", err)
	}
	if err := st.CreateSecret(ctx, &state.Secret{Name: "x", BackendName: "nope"}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("create on a missing backend = %v, want ErrNotFound", err)
	}
	if err := st.CreateSecret(ctx, &state.Secret{Name: "openai", BackendName: "default"}); !errors.Is(err, state.ErrExists) {
		t.Fatalf("duplicate create = %v, want ErrExists", err)
	}
	if _, err := st.GetSecret(ctx, "missing", false); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("GetSecret(missing) = %v", err)
	}
	if err := st.DeleteSecret(ctx, "openai", again.Generation); err != nil {
		t.Fatal(err)
	}
}

func TestSecretValuesRoundTripByteForByte(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	odd := map[string]string{
		"quote": `"'\`, "newline": "a\nb", "unicode": "日本語 ✓", "empty": "", "ctl": "\x01\x1f",
		"nul": "a\x00b", "invalid-utf8": "\xff\xfe", "looks-encoded": `{"base64":"AA=="}`,
	}
	sec := &state.Secret{Name: "odd", BackendName: "default", Data: odd}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "odd", true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(odd, got.Data); diff != "" {
		t.Fatalf("values changed on the way through the store:\n%s", diff)
	}
	want := slices.Sorted(maps.Keys(odd))
	if !slices.Equal(got.Keys, want) {
		t.Fatalf("keys = %q, want %q", got.Keys, want)
	}
	all, err := st.ListSecrets(ctx, true)
	if err != nil || len(all) != 1 || !maps.Equal(all[0].Data, odd) {
		t.Fatalf("ListSecrets with data did not read the values back exactly (err %v)", err)
	}

	const canary = "canary-value"
	err = st.CreateSecret(ctx, &state.Secret{Name: "badkey", BackendName: "default", Data: map[string]string{"K\x00": canary}})
	if err == nil || strings.Contains(err.Error(), canary) || !containsAll(err.Error(), `secret "badkey"`, "key") {
		t.Fatalf("key with NUL: %v, want a refusal naming secret and key, without the value", err)
	}

	empty := &state.Secret{Name: "empty", BackendName: "default", Data: map[string]string{}}
	if err := st.CreateSecret(ctx, empty); err != nil {
		t.Fatal(err)
	}
	e, err := st.GetSecret(ctx, "empty", true)
	if err != nil || !e.HasData || e.Data == nil || len(e.Data) != 0 || len(e.Keys) != 0 {
		t.Fatalf("an empty value map is values with no keys; got HasData=%v data nil=%v keys=%v (%v)", e.HasData, e.Data == nil, e.Keys, err)
	}
}

func TestDataOwner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	sec := &state.Secret{Name: "s", BackendName: "default", Data: map[string]string{"K": "v"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	if sec.DataOwner != sec.ID {
		t.Fatalf("values inserted with the row: owner %q, want the row id %q", sec.DataOwner, sec.ID)
	}
	sec.DataOwner = "11111111-2222-4333-8444-555555555555"
	if err := st.UpdateSecret(ctx, sec, true); err != nil {
		t.Fatal(err)
	}
	if sec.DataOwner != "11111111-2222-4333-8444-555555555555" {
		t.Fatalf("owner after a write for another owner = %q", sec.DataOwner)
	}
	sec.Fingerprint = "x"
	sec.DataOwner = "ignored without data"
	if err := st.UpdateSecret(ctx, sec, false); err != nil {
		t.Fatal(err)
	}
	if sec.DataOwner != "11111111-2222-4333-8444-555555555555" {
		t.Fatalf("a metadata-only write changed the owner to %q", sec.DataOwner)
	}
	sec.Data = nil
	if err := st.UpdateSecret(ctx, sec, true); err != nil {
		t.Fatal(err)
	}
	if sec.DataOwner != "" || sec.HasData {
		t.Fatalf("without data: owner %q has data %v, want none", sec.DataOwner, sec.HasData)
	}
	// Values written outside mcpctl have no owner.
	if _, err := st.Pool().Exec(ctx, `UPDATE `+st.Schema()+`.secrets SET data = '{"Z":"1","A":"2"}'`); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "s", false)
	if err != nil || got.DataOwner != "" || !slices.Equal(got.Keys, []string{"A", "Z"}) {
		t.Fatalf("after an outside write: %+v, %v; want no owner and keys from the data", got, err)
	}
}

func TestTransactionRollsBackTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	sec := &state.Secret{Name: "s", BackendName: "default", Data: map[string]string{"K": "v"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx *state.Tx) error {
		m := &state.Migration{SecretID: sec.ID, SecretName: "s", FromBackend: "default", ToBackend: "bao"}
		if err := tx.StartMigration(ctx, m); err != nil {
			return err
		}
		s, err := tx.GetSecret(ctx, "s", true)
		if err != nil {
			return err
		}
		s.Data = nil
		if err := tx.UpdateSecret(ctx, &s, true); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, state.AuditEntry{Action: "migrate", Kind: "secret", Name: "s"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the callback's error", err)
	}
	got, err := st.GetSecret(ctx, "s", true)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := st.ListMigrations(ctx, 0)
	as, _ := st.ListAudit(ctx, 0)
	if got.Data["K"] != "v" || got.Generation != 1 || len(ms) != 0 || len(as) != 0 {
		t.Fatalf("rollback left changes: data kept=%v generation=%d journal=%d audit=%d", got.Data["K"] == "v", got.Generation, len(ms), len(as))
	}
}

func TestJournalAndAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)

	var ids []int64
	for _, name := range []string{"a", "b", "c"} {
		m := &state.Migration{SecretName: name, FromBackend: "default", ToBackend: "bao", PlanID: "p1", SourceVersion: 4, KeepSource: true}
		if err := st.StartMigration(ctx, m); err != nil {
			t.Fatal(err)
		}
		if m.ID == 0 || m.State != state.MigrationStarted {
			t.Fatalf("StartMigration filled %+v", m)
		}
		ids = append(ids, m.ID)
	}
	if err := st.SetMigrationState(ctx, ids[0], state.MigrationDone, 7, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMigrationState(ctx, ids[2], state.MigrationCleanupPending, 0, "delete source: timeout"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMigrationState(ctx, 1<<40, state.MigrationDone, 0, ""); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("SetMigrationState(unknown) = %v, want ErrNotFound", err)
	}
	if err := st.SetMigrationState(ctx, ids[1], "bogus", 0, ""); err == nil {
		t.Fatal("an unknown journal state was accepted")
	}
	open, err := st.OpenMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 || open[0].SecretName != "b" || open[1].SecretName != "c" ||
		open[1].State != state.MigrationCleanupPending || open[1].Error != "delete source: timeout" || !open[0].KeepSource {
		t.Fatalf("OpenMigrations = %+v", open)
	}
	all, err := st.ListMigrations(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].SecretName != "c" {
		t.Fatalf("ListMigrations(2) = %+v, want newest first", all)
	}
	done, _ := st.ListMigrations(ctx, 0)
	if done[2].DestVersion != 7 || done[2].SourceVersion != 4 || done[2].State != state.MigrationDone {
		t.Fatalf("first entry = %+v", done[2])
	}

	entries := make([]state.AuditEntry, 250)
	for i := range entries {
		entries[i] = state.AuditEntry{Actor: "ci", PlanID: "p1", Action: "write", Kind: "secret", Name: "s" + string(rune('a'+i%26)), Outcome: "ok", DurationMS: int64(i)}
	}
	if err := st.AppendAudit(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	got, err := st.ListAudit(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].DurationMS != 249 || got[2].DurationMS != 247 || got[0].At.IsZero() || got[0].Actor != "ci" {
		t.Fatalf("ListAudit(3) = %+v, want the last three, newest first", got)
	}
	all2, _ := st.ListAudit(ctx, 0)
	if len(all2) != 250 {
		t.Fatalf("ListAudit(0) returned %d entries, want 250", len(all2))
	}
}

func TestGenerationBumpsOnOutsideEdits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	sec := &state.Secret{Name: "s", BackendName: "default", Data: map[string]string{"K": "v"}}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	// An operator edits the row with psql: generation and data version move,
	// so plan sees drift and a stale writer gets a conflict.
	_, err := st.Pool().Exec(ctx, `UPDATE `+st.Schema()+`.secrets SET data = '{"K":"w"}' WHERE name = 's'`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.GetSecret(ctx, "s", false)
	if err != nil {
		t.Fatal(err)
	}
	if got.Generation != 2 || got.DataVersion != 2 {
		t.Fatalf("after an outside edit: generation %d data version %d, want 2 and 2", got.Generation, got.DataVersion)
	}
	if err := st.UpdateSecret(ctx, sec, false); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("stale write after an outside edit = %v, want ErrConflict", err)
	}
}

// Any backend type may be the default (DESIGN §2): nothing in the schema
// (partial unique index, triggers, the bootstrap row) assumes a plaintext
// default. The bootstrap backend gives the flag to an openbao row and stays
// undeletable; the flag comes back the same way.
func TestOpenBaoBackendMayBeTheDefault(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	bao := &state.Backend{Name: "bao", Type: "openbao", Config: []byte(`{"url":"https://bao.internal:8200"}`)}
	if err := st.CreateBackend(ctx, bao); err != nil {
		t.Fatal(err)
	}
	move := func(from, to string) {
		t.Helper()
		err := st.InTx(ctx, func(tx *state.Tx) error {
			a, err := tx.GetBackend(ctx, from)
			if err != nil {
				return err
			}
			a.IsDefault = false
			if err := tx.UpdateBackend(ctx, &a); err != nil {
				return err
			}
			b, err := tx.GetBackend(ctx, to)
			if err != nil {
				return err
			}
			b.IsDefault = true
			return tx.UpdateBackend(ctx, &b)
		})
		if err != nil {
			t.Fatalf("default %s -> %s: %v", from, to, err)
		}
		got, err := st.GetBackend(ctx, to)
		if err != nil || !got.IsDefault {
			t.Fatalf("%s after the move: %+v, %v", to, got, err)
		}
	}
	move(state.BootstrapBackend, "bao")
	boot, err := st.GetBackend(ctx, state.BootstrapBackend)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteBackend(ctx, state.BootstrapBackend, boot.Generation); !errors.Is(err, state.ErrProtected) {
		t.Fatalf("delete of the bootstrap backend while bao is the default = %v, want ErrProtected", err)
	}
	if err := st.CreateBackend(ctx, &state.Backend{Name: "vault", Type: "openbao", Config: []byte(`{}`), IsDefault: true}); !errors.Is(err, state.ErrDuplicateDefault) {
		t.Fatalf("a second openbao default = %v, want ErrDuplicateDefault", err)
	}
	move("bao", state.BootstrapBackend)
}
