package openbao

import (
	"slices"
	"strconv"
	"strings"
)

// custom_metadata keys mcpctl writes on every object it owns. Operators
// reading the object in the UI see who owns it and where it comes from.
const (
	mdManagedBy   = "managed-by"
	mdSecretID    = "secret-id"
	mdSecretName  = "secret-name"
	mdBackend     = "backend"
	mdKeys        = "keys"         // key names, continued in keys-2, keys-3, ...
	mdKeysVersion = "keys-version" // the version whose key names "keys" lists
	mdKeysCount   = "keys-count"   // how many names; 0 has no "keys" (empty values are refused)
	managedByUs   = "mcpctl"
)

// KV v2 limits on custom_metadata (the same in Vault and OpenBao).
const (
	maxMetaKeys     = 64
	maxMetaValueLen = 512
	// maxKeyChunks bounds how many custom_metadata entries key names may
	// take, leaving room for operators' own entries. Secrets with more key
	// names than fit are still correct: Stat asks subkeys for them.
	maxKeyChunks = 24
)

// owner is mcpctl's ownership record of an object.
type owner struct {
	managed    bool
	secretID   string
	secretName string
	backend    string
}

func ownerOf(cm map[string]string) owner {
	return owner{
		managed:    cm[mdManagedBy] == managedByUs,
		secretID:   cm[mdSecretID],
		secretName: cm[mdSecretName],
		backend:    cm[mdBackend],
	}
}

// ours reports whether cm belongs to mcpctl's key set (including key-name
// chunks), as opposed to an operator's own annotation.
func ours(k string) bool {
	switch k {
	case mdManagedBy, mdSecretID, mdSecretName, mdBackend, mdKeys, mdKeysVersion, mdKeysCount:
		return true
	}
	if n, ok := strings.CutPrefix(k, mdKeys+"-"); ok {
		_, err := strconv.Atoi(n)
		return err == nil
	}
	return false
}

// buildCustomMetadata returns the custom_metadata to write: the operator's
// entries of old kept, mcpctl's replaced. keys/version record the key names
// of the version just written; version 0 records ownership only.
func buildCustomMetadata(old map[string]string, o owner, keys []string, version int64) map[string]string {
	out := map[string]string{}
	for k, v := range old {
		if !ours(k) {
			out[k] = v
		}
	}
	out[mdManagedBy] = managedByUs
	// KV v2 refuses empty custom_metadata values, so unset fields are left out.
	if o.secretID != "" {
		out[mdSecretID] = o.secretID
	}
	if o.secretName != "" {
		out[mdSecretName] = o.secretName
	}
	if o.backend != "" {
		out[mdBackend] = o.backend
	}
	if version > 0 {
		chunks, ok := encodeKeys(keys)
		if ok && len(out)+len(chunks)+2 <= maxMetaKeys {
			for i, c := range chunks {
				out[chunkName(i)] = c
			}
			out[mdKeysCount] = strconv.Itoa(len(keys))
			out[mdKeysVersion] = strconv.FormatInt(version, 10)
		}
	}
	// An operator's entries may have left no room; dropping theirs beats
	// failing the write, and ours fit on their own.
	for len(out) > maxMetaKeys {
		for k := range out {
			if !ours(k) {
				delete(out, k)
				break
			}
		}
	}
	return out
}

func chunkName(i int) string {
	if i == 0 {
		return mdKeys
	}
	return mdKeys + "-" + strconv.Itoa(i+1)
}

// encodeKeys joins sorted key names with commas, escaping "%" and "," in
// names, split into values within the custom_metadata length limit. It
// reports false when the names do not fit (a name alone too long, or too
// many chunks). No names make no chunks.
func encodeKeys(keys []string) ([]string, bool) {
	keys = slices.Sorted(slices.Values(keys))
	if len(keys) == 0 {
		return nil, true
	}
	chunks := []string{""}
	for i, k := range keys {
		e := escapeKey(k)
		if e == "" || len(e) > maxMetaValueLen {
			// An empty name would read back as "no keys".
			return nil, false
		}
		cur := &chunks[len(chunks)-1]
		switch {
		case i == 0:
			*cur = e
		case len(*cur)+1+len(e) <= maxMetaValueLen:
			*cur += "," + e
		default:
			chunks = append(chunks, e)
		}
	}
	if len(chunks) > maxKeyChunks {
		return nil, false
	}
	return chunks, true
}

var keyEscaper = strings.NewReplacer("%", "%25", ",", "%2C")
var keyUnescaper = strings.NewReplacer("%25", "%", "%2C", ",", "%2c", ",")

func escapeKey(k string) string { return keyEscaper.Replace(k) }

// recordedKeys returns the key names recorded in cm if they describe
// version; ok is false when they are missing or describe another version
// (someone wrote a version since), and the caller must ask subkeys.
func recordedKeys(cm map[string]string, version int64) ([]string, bool) {
	kv, err := strconv.ParseInt(cm[mdKeysVersion], 10, 64)
	if err != nil || kv != version || version == 0 {
		return nil, false
	}
	n, err := strconv.Atoi(cm[mdKeysCount])
	if err != nil || n < 0 {
		return nil, false
	}
	if n == 0 {
		return []string{}, true
	}
	var chunks []string
	for i := 0; ; i++ {
		c, ok := cm[chunkName(i)]
		if !ok {
			break
		}
		chunks = append(chunks, c)
	}
	parts := strings.Split(strings.Join(chunks, ","), ",")
	if len(chunks) == 0 || len(parts) != n {
		return nil, false // edited by hand, or a chunk lost: ask subkeys
	}
	for i, p := range parts {
		parts[i] = keyUnescaper.Replace(p)
	}
	slices.Sort(parts)
	return parts, true
}
