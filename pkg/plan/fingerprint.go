package plan

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// fingerprintPrefix names the algorithm, so a later change of encoding or
// MAC is a visible difference rather than a silent mismatch.
const fingerprintPrefix = "hmac-sha256:"

// fingerprintDomain separates these MACs from any other use of the key.
const fingerprintDomain = "mcpctl fingerprint v1\x00"

// Fingerprint is the keyed fingerprint of a secret's values: HMAC-SHA256
// with the installation's fingerprint key over a canonical encoding (keys in
// order, every key and value length-prefixed, so no two different value sets
// encode alike). Without the key it reveals nothing about the values, which
// is why rows and plan files may hold it.
func Fingerprint(key []byte, v drivers.Values) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(fingerprintDomain))
	var n [binary.MaxVarintLen64]byte
	write := func(s string) {
		mac.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		mac.Write([]byte(s))
	}
	keys := v.Keys()
	mac.Write(n[:binary.PutUvarint(n[:], uint64(len(keys)))])
	for _, k := range keys {
		val, _ := v.Get(k)
		write(k)
		write(val)
	}
	return fingerprintPrefix + hex.EncodeToString(mac.Sum(nil))
}

// validFingerprint reports whether s looks like a Fingerprint result.
func validFingerprint(s string) bool {
	h, ok := strings.CutPrefix(s, fingerprintPrefix)
	if !ok || len(h) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// Fingerprints are the desired fingerprints of the managed secrets, computed
// by Gather (which holds the key and resolves the values) and handed to the
// pure Compute.
type Fingerprints struct {
	// Unknown is set when the fingerprint key could not be read (a viewer
	// role): managed-value comparisons are then reported, never guessed.
	Unknown bool
	// UnknownReason says why, for the findings.
	UnknownReason string
	// ByName maps a managed secret's name to its fingerprint.
	ByName map[string]string
}
