package manifest

import (
	"regexp"
	"strings"
)

var (
	nameRe       = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dataKeyRe    = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
	envNameRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	qualifiedRe  = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
)

// validName is the resource name rule (a DNS label).
func validName(s string) bool { return len(s) <= 63 && nameRe.MatchString(s) }

// validDataKey is the Kubernetes Secret key rule.
func validDataKey(s string) bool {
	return len(s) <= 253 && s != "." && s != ".." && dataKeyRe.MatchString(s)
}

func validEnvName(s string) bool { return len(s) <= 255 && envNameRe.MatchString(s) }

// validQualifiedName is the Kubernetes label/annotation key rule:
// an optional DNS-subdomain prefix and "/", then a name of at most 63.
func validQualifiedName(s string) bool {
	prefix, name, found := strings.Cut(s, "/")
	if !found {
		name = prefix
	} else if len(prefix) > 253 || !dnsSubdomain.MatchString(prefix) {
		return false
	}
	return len(name) <= 63 && qualifiedRe.MatchString(name)
}

func validLabelValue(s string) bool {
	return s == "" || (len(s) <= 63 && qualifiedRe.MatchString(s))
}

// crossCheck runs the checks that need every file: duplicate names, a
// second default, the keys of declared token secrets. References to
// backends and secrets that no manifest declares are plan's to check: they
// may exist only in state.
func (l *loader) crossCheck() {
	backends := map[string]*backendRec{}
	var kept []*backendRec
	var def *backendRec
	for _, b := range l.backends {
		if first, dup := backends[b.Name]; dup {
			l.c.addf(b.nameAt, b.resource, b.nameField, "duplicate name: also declared at %s", first.nameAt)
			continue
		}
		backends[b.Name] = b
		kept = append(kept, b)
		if b.Default {
			if def != nil {
				l.c.addf(b.defaultAt, b.resource, b.defField, "second default backend: backend %s is already the default (%s); only one backend may be the default", quote(def.Name), def.defaultAt)
				continue
			}
			def = b
		}
	}
	l.backends = kept

	secrets := map[string]*secretRec{}
	var keptSecrets []*secretRec
	for _, s := range l.secrets {
		if first, dup := secrets[s.Name]; dup {
			l.c.addf(s.nameAt, s.resource, s.nameField, "duplicate name: also declared at %s", first.nameAt)
			continue
		}
		secrets[s.Name] = s
		keptSecrets = append(keptSecrets, s)
		// A spec.backend no manifest declares may exist only in state (made
		// with `mcpctl create secretbackend`); plan, which sees state,
		// reports one that is in neither, with this file and line.
	}
	l.secrets = keptSecrets

	for _, b := range l.backends {
		for _, dep := range b.Deps {
			s := secrets[dep.Name]
			if s == nil {
				// Not declared here: it may exist only in state (made with
				// `mcpctl create secret`). Only plan sees state, so plan
				// reports a secret absent from both.
				continue
			}
			if s.Data != nil && !s.broken {
				if !s.Data.Has(dep.Key) {
					l.c.addf(b.configAt, b.resource, b.confField, "token secret %s has no key %s (it declares: %s)", quote(dep.Name), quote(dep.Key), strings.Join(s.Data.Keys(), ", "))
				}
			}
		}
	}
}
