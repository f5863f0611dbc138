package drivers

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Masked replaces a credential in a displayed backend config.
const Masked = "(sensitive)"

// credentialWords mark config keys whose values are credentials.
var credentialWords = []string{"password", "passwd", "token", "secret", "credential", "privatekey", "clientkey", "apikey"}

// notCredentialSuffixes mark keys that name where a credential is (a
// reference to a Secret, a file, a path) or how it is used, not the
// credential itself: tokenSecretRef, clientKeyFile, auth.method.
var notCredentialSuffixes = []string{"ref", "file", "path", "method"}

// MaskConfig is the one function that prepares a backend config for
// display (plan summaries and files, describe): every scalar under a
// credential-looking key, at any depth, becomes "(sensitive)". A reference
// or file key (tokenSecretRef: {name, key}, clientKeyFile) is shown: it
// names where the credential is, not the credential. Drivers validate configs
// strictly and keep credentials in Secrets, so this is a second line of
// defence, not the only one.
//
// An empty, null or {} config gives nil. A config that is not JSON is an
// error and nothing of it is returned. Exports meant to be applied again
// (get -o yaml) print the config verbatim: it is what apply must see, and
// strict validation keeps credentials out of it.
func MaskConfig(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); v == nil || ok && len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(mask(v, false))
}

// credentialKey says whether key marks a credential (true), marks
// something that is not one (false), or says nothing (the parent decides).
func credentialKey(key string, parent bool) bool {
	k := strings.ToLower(key)
	for _, s := range notCredentialSuffixes {
		if strings.HasSuffix(k, s) {
			return false
		}
	}
	for _, w := range credentialWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return parent
}

func mask(v any, sensitive bool) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = mask(e, credentialKey(k, sensitive))
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = mask(e, sensitive)
		}
		return out
	case nil:
		return nil
	}
	if sensitive {
		return Masked
	}
	return v
}
