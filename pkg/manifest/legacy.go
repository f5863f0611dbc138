package manifest

import (
	"fmt"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// The original (TypeScript) mcpctl's `apply -f` files load into the same
// resources as mcpctl/v1 documents. They come in two shapes, recognised by
// the absence of apiVersion:
//
//	kind: secretbackend            kind: secret
//	name: bao                      name: openai
//	type: vault                    backend: bao
//	description: cluster OpenBao   data:
//	isDefault: false                 API_KEY: {fromEnv: OPENAI_API_KEY}
//	config:                          ORG: acme          # plain string: a literal value (warns)
//	  url: https://bao:8200
//	  tokenSecretRef: {name: bao-token, key: token}     # or "bao-token/token"
//	  namespace: team-a
//	  mount: secret
//	  pathPrefix: mcpctl
//
// and the grouped form, one document holding lists of the same objects
// (each may repeat its kind, which must then match the list):
//
//	secretbackends: [{name: bao, type: vault, config: {...}}]
//	secrets: [{name: openai, backend: bao, data: {...}}]
//
// Choices made where the original was loose, all documented in
// docs/manifest-reference.md:
//   - the flat config keys map to the canonical openbao config: url, mount,
//     pathPrefix and namespace keep their names; tokenSecretRef becomes
//     auth: {method: token, tokenSecretRef: {name, key}};
//   - a data entry may be a plain string, taken as a literal value with a
//     warning (the canonical form requires {value: ...});
//   - decoding is as strict as for mcpctl/v1: unknown fields are errors.

const (
	legacyBackendKind = "secretbackend"
	legacySecretKind  = "secret"
)

func (d *docCtx) legacyKind(n *yaml.Node) {
	kn := lookup(n, "kind")
	k, ok := d.str(kn, "kind")
	if !ok {
		return
	}
	switch k {
	case legacyBackendKind:
		d.legacyBackend(n, "")
	case legacySecretKind:
		d.legacySecret(n, "")
	case KindSecretBackend, KindSecret, KindList:
		d.errf(n, "apiVersion", "required (%s)", APIVersion)
	default:
		if d.skipKind(n, kn, k) {
			return
		}
		d.errf(kn, "kind", "unknown kind %s (known: %s, %s, %s with apiVersion: %s; or %s, %s in the original mcpctl format)",
			quote(k), KindSecretBackend, KindSecret, KindList, APIVersion, legacyBackendKind, legacySecretKind)
	}
}

func (d *docCtx) legacyGroup(n *yaml.Node) {
	ps, _ := d.pairs(n, "")
	f := map[string]*yaml.Node{}
	for _, p := range ps {
		switch {
		case p.key == "secretbackends" || p.key == "secrets":
			f[p.key] = p.val
		case p.val.Kind == yaml.SequenceNode || isNull(p.val):
			// One of the original's other resource groups.
			d.skipGroup(p.knode, p.val)
		default:
			d.errf(p.knode, p.key, "unknown field%s: expected secretbackends: and secrets: lists (lists of the original mcpctl's other resources are skipped), got %s",
				suggest(p.key, []string{"secretbackends", "secrets"}), describe(p.val))
		}
	}
	for _, g := range []struct {
		key    string
		decode func(*docCtx, *yaml.Node, string)
	}{
		{"secretbackends", (*docCtx).legacyBackend},
		{"secrets", (*docCtx).legacySecret},
	} {
		list := deref(f[g.key])
		if isNull(list) {
			continue
		}
		if list.Kind != yaml.SequenceNode {
			d.errf(list, g.key, "must be a list, got %s", describe(list))
			continue
		}
		for i, it := range list.Content {
			if d.l.stopped() {
				return
			}
			it = deref(it)
			pos := fmt.Sprintf("%s[%d]", g.key, i)
			if it.Kind != yaml.MappingNode {
				d.errf(it, pos, "must be a mapping, got %s", describe(it))
				continue
			}
			g.decode(d.item(it), it, pos)
		}
	}
}

// legacyItemKind checks the optional kind of a grouped item.
func (d *docCtx) legacyItemKind(n *yaml.Node, want string) bool {
	if n == nil {
		return true
	}
	k, ok := d.str(n, "kind")
	if ok && k != want {
		d.errf(n, "kind", "must be %q here, got %s", want, quote(k))
		return false
	}
	return ok
}

func (d *docCtx) legacyName(f map[string]*yaml.Node, n *yaml.Node) (string, Source, bool) {
	at := d.at(n)
	if nn := f["name"]; nn != nil {
		at = d.at(nn)
	}
	name, ok := d.str(f["name"], "name")
	return name, at, ok && d.checkName(at, "name", name)
}

func (d *docCtx) legacyBackend(n *yaml.Node, item string) {
	if !d.countResource(n) {
		return
	}
	d.resource = label("backend", lookupString(n, "name"), item)
	n = d.dropServerFields(n)
	f, ok := d.fields(n, "", "kind", "name", "type", "description", "isDefault", "config")
	kok := d.legacyItemKind(f["kind"], legacyBackendKind)
	rec := &backendRec{resource: d.resource, nameField: "name"}
	rec.Source = d.at(n)
	var nok bool
	rec.Name, rec.nameAt, nok = d.legacyName(f, n)
	defer d.l.addBackend(rec, &ok)
	var dok bool
	rec.Description, dok = d.str(f["description"], "description")
	config, cok := d.legacyConfig(f["config"], "config")
	bi := backendInput{
		parent: n, typeNode: f["type"], typeField: "type",
		defNode: f["isDefault"], defField: "isDefault",
		config: config, configOK: cok, configNode: f["config"], configField: "config",
	}
	ok = d.finishBackend(rec, bi) && ok && kok && nok && dok
}

// legacyConfig translates the flat config to the canonical openbao shape.
func (d *docCtx) legacyConfig(n *yaml.Node, field string) (map[string]any, bool) {
	f, ok := d.fields(n, field, "url", "tokenSecretRef", "namespace", "mount", "pathPrefix")
	out := map[string]any{}
	for _, k := range []string{"url", "namespace", "mount", "pathPrefix"} {
		s, sok := d.str(f[k], join(field, k))
		if !sok {
			ok = false
		} else if s != "" {
			out[k] = s
		}
	}
	if t := deref(f["tokenSecretRef"]); !isNull(t) {
		ref, rok := d.legacyTokenRef(t, join(field, "tokenSecretRef"))
		if rok {
			out["auth"] = map[string]any{
				"method":         "token",
				"tokenSecretRef": map[string]any{"name": ref.Name, "key": ref.Key},
			}
		}
		ok = ok && rok
	}
	return out, ok
}

// legacyTokenRef accepts {name, key} or "name/key" (as `create secretbackend
// --token-secret NAME/KEY` takes it).
func (d *docCtx) legacyTokenRef(n *yaml.Node, field string) (drivers.SecretRef, bool) {
	var ref drivers.SecretRef
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		name, key, found := strings.Cut(n.Value, "/")
		if !found || !validName(name) || !validDataKey(key) {
			d.errf(n, field, "must be {name: SECRET, key: KEY} or \"SECRET/KEY\", got %s", quote(n.Value))
			return ref, false
		}
		return drivers.SecretRef{Name: name, Key: key}, true
	}
	f, ok := d.fields(n, field, "name", "key")
	if !ok {
		return ref, false
	}
	name, nok := d.str(f["name"], join(field, "name"))
	key, kok := d.str(f["key"], join(field, "key"))
	if !nok || !kok {
		return ref, false
	}
	if !validName(name) {
		d.errf(n, join(field, "name"), "must name a secret, got %s", quote(name))
		return ref, false
	}
	if !validDataKey(key) {
		d.errf(n, join(field, "key"), "must name a key of the secret, got %s", quote(key))
		return ref, false
	}
	return drivers.SecretRef{Name: name, Key: key}, true
}

func (d *docCtx) legacySecret(n *yaml.Node, item string) {
	if !d.countResource(n) {
		return
	}
	d.resource = label("secret", lookupString(n, "name"), item)
	n = d.dropServerFields(n)
	f, ok := d.fields(n, "", "kind", "name", "backend", "data")
	kok := d.legacyItemKind(f["kind"], legacySecretKind)
	rec := d.newSecret(n)
	rec.nameField = "name"
	var nok bool
	rec.Name, rec.nameAt, nok = d.legacyName(f, n)
	defer d.l.addSecret(rec, &ok)
	bok := d.secretBackend(rec, f["backend"], n, "backend")
	dok := true
	if data := deref(f["data"]); !isNull(data) {
		rec.Data, dok = d.data(data, "data", true)
	}
	ok = ok && kok && nok && bok && dok
}
