package cmdutil

import (
	"fmt"
	"regexp"
)

// The same rules pkg/manifest applies to declared resources, so what an
// imperative command creates can be printed by `get -o yaml` and applied.
var (
	nameRe    = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dataKeyRe = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
)

// ValidateName checks a backend or secret name (a DNS label).
func ValidateName(kind, name string) error {
	if len(name) > 63 || !nameRe.MatchString(name) {
		return FlagErrorf("invalid %s name %q: use lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters", kind, name)
	}
	return nil
}

// ValidateKey checks a secret's key name (the Kubernetes Secret key rule).
func ValidateKey(key string) error {
	if len(key) > 253 || key == "." || key == ".." || !dataKeyRe.MatchString(key) {
		return fmt.Errorf("invalid key name %q: use letters, digits, '-', '_' and '.'", key)
	}
	return nil
}
