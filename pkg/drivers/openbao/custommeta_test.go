package openbao

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestKeyRecordRoundTrip(t *testing.T) {
	t.Parallel()
	many := func(n, width int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%0*d", width, i))
		}
		return out
	}
	for name, keys := range map[string][]string{
		"none":        {},
		"one":         {"API_KEY"},
		"separators":  {"a,b", "%", "%2C", "50%,off", ",", "plain"},
		"unicode":     {"ключ", "鍵", "🔑"},
		"100 names":   many(100, 30),
		"chunk edge":  many(20, 25), // 20×26-1 = 519 bytes: two chunks
		"long name":   {strings.Repeat("k", 512)},
		"max chunks":  many(maxKeyChunks*512/(100+1)-1, 100),
		"empty name?": {"", "x"},
	} {
		cm := buildCustomMetadata(map[string]string{"team": "infra"}, owner{secretID: "id-1", secretName: "s", backend: "b"}, keys, 7)
		for k, v := range cm {
			if v == "" || len(v) > maxMetaValueLen {
				t.Errorf("%s: custom_metadata %s has %d bytes, KV v2 wants 1..512", name, k, len(v))
			}
		}
		if len(cm) > maxMetaKeys {
			t.Errorf("%s: %d custom_metadata entries, KV v2 allows %d", name, len(cm), maxMetaKeys)
		}
		got, ok := recordedKeys(cm, 7)
		want := slices.Sorted(slices.Values(keys))
		if name == "empty name?" {
			// An empty key name cannot be recorded; Stat asks subkeys.
			if ok {
				t.Errorf("%s: recorded %q", name, got)
			}
			continue
		}
		if !ok || !slices.Equal(got, want) {
			t.Errorf("%s: recorded keys %q (ok %v), want %q", name, got, ok, want)
		}
		if cm["team"] != "infra" || cm["managed-by"] != "mcpctl" || cm["secret-id"] != "id-1" {
			t.Errorf("%s: custom_metadata %v lost the owner or the operator's entry", name, cm)
		}
		if _, ok := recordedKeys(cm, 8); ok {
			t.Errorf("%s: the record of version 7 was used for version 8", name)
		}
	}
}

func TestKeyRecordTooLargeFallsBack(t *testing.T) {
	t.Parallel()
	var keys []string
	for i := range 200 {
		keys = append(keys, fmt.Sprintf("%0100d", i))
	}
	cm := buildCustomMetadata(nil, owner{secretID: "id"}, keys, 3)
	if _, ok := recordedKeys(cm, 3); ok {
		t.Fatal("20 KB of key names were recorded")
	}
	if cm["secret-id"] != "id" || len(cm) > maxMetaKeys {
		t.Fatalf("custom_metadata %d entries, owner %q", len(cm), cm["secret-id"])
	}
}

func TestKeyRecordRewriteDropsStaleChunks(t *testing.T) {
	t.Parallel()
	var keys []string
	for i := range 60 {
		keys = append(keys, fmt.Sprintf("%040d", i))
	}
	cm := buildCustomMetadata(nil, owner{secretID: "id"}, keys, 1)
	if _, ok := cm["keys-3"]; !ok {
		t.Fatalf("expected several chunks, got %v", slices.Sorted(func(y func(string) bool) {
			for k := range cm {
				if !y(k) {
					return
				}
			}
		}))
	}
	cm = buildCustomMetadata(cm, owner{secretID: "id"}, []string{"ONLY"}, 2)
	if _, ok := cm["keys-2"]; ok {
		t.Fatal("a chunk of the old record survived the rewrite")
	}
	if got, ok := recordedKeys(cm, 2); !ok || !slices.Equal(got, []string{"ONLY"}) {
		t.Fatalf("keys %q %v", got, ok)
	}
}

func TestKeyRecordTamperedIsIgnored(t *testing.T) {
	t.Parallel()
	cm := buildCustomMetadata(nil, owner{secretID: "id"}, []string{"A", "B"}, 4)
	cm["keys"] = "A" // edited by hand: count no longer matches
	if _, ok := recordedKeys(cm, 4); ok {
		t.Fatal("a record whose count does not match was trusted")
	}
	// The recorded OpenBao object "alpha" has keys but no keys-version.
	if _, ok := recordedKeys(map[string]string{"keys": "API_KEY", "managed-by": "mcpctl"}, 1); ok {
		t.Fatal("a record without keys-version was trusted")
	}
}

func TestOwnershipClaimRecordsNoKeys(t *testing.T) {
	t.Parallel()
	old := buildCustomMetadata(nil, owner{secretID: "old"}, []string{"A"}, 3)
	cm := buildCustomMetadata(old, owner{secretID: "new", secretName: "n"}, nil, 0)
	if cm["secret-id"] != "new" || cm["secret-name"] != "n" {
		t.Fatalf("claim = %v", cm)
	}
	if _, ok := recordedKeys(cm, 3); ok {
		t.Fatal("an ownership claim kept the previous owner's key record")
	}
}
