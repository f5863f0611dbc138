package state_test

import (
	"context"
	"fmt"
	"testing"
)

func TestBulkReadsOf10kRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := migratedStore(t)
	const n = 10_000
	// Names inserted in reverse so the ordering is the query's, not the heap's.
	_, err := st.Pool().Exec(ctx, `
		INSERT INTO `+st.Schema()+`.backends (name, type, config)
		SELECT 'b-' || lpad(i::text, 5, '0'), 'openbao', '{"mount":"secret"}' FROM generate_series($1::int, 1, -1) i`, n)
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Pool().Exec(ctx, `
		INSERT INTO `+st.Schema()+`.secrets (name, backend_id, data, keys, labels)
		SELECT 's-' || lpad(i::text, 5, '0'),
			(SELECT id FROM `+st.Schema()+`.backends WHERE name = CASE WHEN i % 2 = 0 THEN 'default' ELSE 'b-00001' END),
			CASE WHEN i % 2 = 0 THEN jsonb_build_object('K', 'v' || i) END,
			CASE WHEN i % 2 = 0 THEN '{}'::text[] ELSE ARRAY['A', 'B'] END,
			jsonb_build_object('n', i::text)
		FROM generate_series($1::int, 1, -1) i`, n)
	if err != nil {
		t.Fatal(err)
	}

	bs, err := st.ListBackends(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != n+1 || bs[0].Name != "b-00001" || bs[n-1].Name != fmt.Sprintf("b-%05d", n) || bs[n].Name != "default" {
		t.Fatalf("ListBackends: %d rows, first %q, last %q", len(bs), bs[0].Name, bs[len(bs)-1].Name)
	}
	for _, withData := range []bool{false, true} {
		ss, err := st.ListSecrets(ctx, withData)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) != n {
			t.Fatalf("ListSecrets(%v): %d rows, want %d", withData, len(ss), n)
		}
		for i, s := range ss {
			want := fmt.Sprintf("s-%05d", i+1)
			if s.Name != want || s.Labels["n"] != fmt.Sprint(i+1) {
				t.Fatalf("ListSecrets(%v)[%d] = %q labels %v, want %q", withData, i, s.Name, s.Labels, want)
			}
			even := (i+1)%2 == 0
			wantBackend := map[bool]string{true: "default", false: "b-00001"}[even]
			if s.BackendName != wantBackend || s.HasData != even {
				t.Fatalf("%s: backend %q has data %v", s.Name, s.BackendName, s.HasData)
			}
			switch {
			case withData && even && s.Data["K"] != fmt.Sprintf("v%d", i+1):
				t.Fatalf("%s: data not read", s.Name)
			case !withData && s.Data != nil:
				t.Fatalf("%s: data read without asking", s.Name)
			case !even && len(s.Keys) != 2:
				t.Fatalf("%s: keys %v", s.Name, s.Keys)
			}
		}
	}
	status, err := st.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Backends != n+1 || status.Secrets != n {
		t.Fatalf("Status counts = %d backends, %d secrets", status.Backends, status.Secrets)
	}
}
