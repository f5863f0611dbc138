package manifest

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpctl/mcpctl/pkg/drivers"
	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// backendRec is a decoded backend plus where its fields were, for the
// checks that need every file (duplicates, defaults, references).
type backendRec struct {
	Backend
	resource  string
	nameAt    Source
	nameField string
	defaultAt Source
	defField  string
	configAt  Source
	confField string
	broken    bool // had errors; still takes part in the checks across files
}

type secretRec struct {
	Secret
	resource  string
	nameAt    Source
	nameField string
	broken    bool
}

// document decodes one YAML document into resources.
func (d *docCtx) document(doc *yaml.Node) {
	if len(doc.Content) == 0 {
		return
	}
	root := doc.Content[0]
	if !d.precheck(root, 1, nil) {
		return
	}
	root = deref(root)
	if isNull(root) {
		return // an empty document, e.g. a trailing "---"
	}
	d.src.Line = root.Line
	switch root.Kind {
	case yaml.MappingNode:
		d.mapping(root)
	case yaml.SequenceNode:
		d.array(root)
	default:
		d.errf(root, "", "a manifest document must be a mapping with apiVersion and kind, got %s", describe(root))
	}
}

// mapping decodes one document (or an element of a top-level list) by its
// form: canonical, the original's flat kind, or its grouped lists.
func (d *docCtx) mapping(root *yaml.Node) {
	switch {
	case lookup(root, "apiVersion") != nil:
		d.canonical(root, "")
	case lookup(root, "kind") != nil:
		d.legacyKind(root)
	case isGrouped(root):
		d.legacyGroup(root)
	default:
		d.errf(root, "", "not an mcpctl manifest: expected apiVersion: %s with kind: %s, %s or %s (or the original mcpctl's kind: secretbackend / kind: secret documents, or secretbackends: / secrets: lists)",
			APIVersion, KindSecretBackend, KindSecret, KindList)
	}
}

// item returns a context for one element of a List or a grouped list.
func (d *docCtx) item(n *yaml.Node) *docCtx {
	c := *d
	c.resource = ""
	c.src.Line = n.Line
	return &c
}

func label(kind, name, item string) string {
	if name != "" {
		return kind + " " + quote(name)
	}
	if item != "" {
		return kind + " (" + item + ")"
	}
	return kind
}

// countResource enforces MaxResources.
func (d *docCtx) countResource(n *yaml.Node) bool {
	d.l.resources++
	if d.l.resources > d.l.lim.MaxResources {
		d.l.halt(d.at(n), "more than %d resources; refusing to read more", d.l.lim.MaxResources)
		return false
	}
	return true
}

// canonical decodes an apiVersion: mcpctl/v1 object; item is its position in
// a List ("items[3]") or "".
func (d *docCtx) canonical(n *yaml.Node, item string) {
	av, kind := lookup(n, "apiVersion"), lookup(n, "kind")
	if av == nil {
		d.errf(n, "apiVersion", "required (%s)", APIVersion)
		return
	}
	v, ok := d.str(av, "apiVersion")
	if !ok {
		return
	}
	if v != APIVersion {
		d.errf(av, "apiVersion", "unsupported %s (this mcpctl reads %s)", quote(v), APIVersion)
		return
	}
	if kind == nil {
		d.errf(n, "kind", "required (%s, %s or %s)", KindSecretBackend, KindSecret, KindList)
		return
	}
	k, ok := d.str(kind, "kind")
	if !ok {
		return
	}
	switch k {
	case KindSecretBackend:
		d.backend(n, item)
	case KindSecret:
		d.secret(n, item)
	case KindList:
		if item != "" {
			d.errf(kind, "kind", "a List cannot contain a List")
			return
		}
		d.list(n)
	default:
		for _, known := range []string{KindSecretBackend, KindSecret, KindList} {
			if strings.EqualFold(k, known) {
				d.errf(kind, "kind", "unknown kind %s for apiVersion %s (did you mean %q? lower-case kinds belong to the original mcpctl format, which has no apiVersion)", quote(k), APIVersion, known)
				return
			}
		}
		d.errf(kind, "kind", "unknown kind %s (known: %s, %s, %s)", quote(k), KindSecretBackend, KindSecret, KindList)
	}
}

func (d *docCtx) list(n *yaml.Node) {
	top, _ := d.fields(n, "", "apiVersion", "kind", "items")
	items := deref(top["items"])
	if isNull(items) {
		return
	}
	if items.Kind != yaml.SequenceNode {
		d.errf(items, "items", "must be a list, got %s", describe(items))
		return
	}
	d.eachItem(items.Content, "items", "a mapping with apiVersion and kind", func(it *yaml.Node, pos string) {
		ic := d.item(it)
		ic.resource = pos
		ic.canonical(it, pos)
	})
}

// eachItem calls fn for each mapping of a list of documents (List items,
// a top-level JSON array) with its position ("items[3]", "[3]"), and
// reports any other element as an error saying it must be want.
func (d *docCtx) eachItem(items []*yaml.Node, field, want string, fn func(it *yaml.Node, pos string)) {
	for i, it := range items {
		if d.l.stopped() {
			return
		}
		it = deref(it)
		pos := fmt.Sprintf("%s[%d]", field, i)
		if it.Kind != yaml.MappingNode {
			d.errf(it, pos, "must be %s, got %s", want, describe(it))
			continue
		}
		fn(it, pos)
	}
}

// metadata decodes metadata: {name, labels, annotations}.
func (d *docCtx) metadata(n, parent *yaml.Node) (name string, labels, annotations map[string]string, nameAt Source, ok bool) {
	if n == nil {
		d.errf(parent, "metadata.name", "required")
		return "", nil, nil, d.at(parent), false
	}
	f, ok := d.fields(n, "metadata", "name", "labels", "annotations")
	nameAt = d.at(n)
	if nn := f["name"]; nn != nil {
		nameAt = d.at(nn)
	}
	name, nok := d.str(f["name"], "metadata.name")
	ok = nok && d.checkName(nameAt, "metadata.name", name) && ok
	labels, lok := d.labels(f["labels"], "metadata.labels")
	annotations, aok := d.annotations(f["annotations"], "metadata.annotations")
	return name, labels, annotations, nameAt, ok && lok && aok
}

func (d *docCtx) backend(n *yaml.Node, item string) {
	if !d.countResource(n) {
		return
	}
	name := lookupString(lookup(n, "metadata"), "name")
	d.resource = label("backend", name, item)
	top, ok := d.fields(n, "", "apiVersion", "kind", "metadata", "spec")
	rec := &backendRec{resource: d.resource, nameField: "metadata.name"}
	rec.Source = d.at(n)
	var mok bool
	rec.Name, rec.Labels, rec.Annotations, rec.nameAt, mok = d.metadata(top["metadata"], n)
	defer d.l.addBackend(rec, &ok)

	spec := top["spec"]
	if spec == nil {
		d.errf(n, "spec", "required (with at least spec.type)")
		return
	}
	f, sok := d.fields(spec, "spec", "type", "default", "description", "config")
	bi := backendInput{
		typeNode: f["type"], typeField: "spec.type", parent: spec,
		defNode: f["default"], defField: "spec.default",
		configNode: f["config"], configField: "spec.config",
	}
	var dok bool
	rec.Description, dok = d.str(f["description"], "spec.description")
	switch c := deref(f["config"]); {
	case isNull(c):
		bi.config, bi.configOK = map[string]any{}, true
	case c.Kind != yaml.MappingNode:
		d.errf(c, "spec.config", "must be a mapping, got %s", describe(c))
	default:
		bi.config, bi.configOK = d.toValue(c, "spec.config")
	}
	ok = d.finishBackend(rec, bi) && ok && mok && sok && dok
}

// backendInput is what the canonical and the legacy forms both produce.
type backendInput struct {
	parent      *yaml.Node
	typeNode    *yaml.Node
	typeField   string
	defNode     *yaml.Node
	defField    string
	config      any
	configOK    bool
	configNode  *yaml.Node
	configField string
}

// finishBackend resolves the type, checks the default rules and has the
// driver validate the config.
func (d *docCtx) finishBackend(rec *backendRec, bi backendInput) bool {
	ok := bi.configOK
	typ, tok := d.str(bi.typeNode, bi.typeField)
	typeAt := d.at(bi.parent)
	if bi.typeNode != nil {
		typeAt = d.at(bi.typeNode)
	}
	switch {
	case !tok:
		ok = false
	case typ == "":
		d.l.c.addf(typeAt, d.resource, bi.typeField, "required (one of: %s)", strings.Join(drivers.Types(), ", "))
		ok, tok = false, false
	default:
		rec.Type = drivers.Canonical(typ)
		if _, known := drivers.Lookup(rec.Type); !known {
			d.l.c.addf(typeAt, d.resource, bi.typeField, "unknown backend type %s (known: %s)", quote(typ), strings.Join(drivers.Types(), ", "))
			ok, tok = false, false
		}
	}
	def, bok := d.boolean(bi.defNode, bi.defField)
	rec.Default = def
	rec.defaultAt, rec.defField = d.at(bi.defNode), bi.defField
	ok = ok && bok
	if tok && rec.Name == BootstrapBackend && rec.Type != PlaintextType {
		d.l.c.addf(typeAt, d.resource, bi.typeField, "the bootstrap backend %q is always of type %s", BootstrapBackend, PlaintextType)
		ok = false
	}
	rec.configAt, rec.confField = typeAt, bi.configField
	if bi.configNode != nil {
		rec.configAt = d.at(bi.configNode)
	}
	if !tok || !bi.configOK {
		return false
	}
	raw, err := json.Marshal(bi.config)
	if err != nil {
		d.l.c.add(&Error{Source: rec.configAt, Resource: d.resource, Field: bi.configField, Msg: err.Error(), Err: err})
		return false
	}
	rec.Config = raw
	deps, err := drivers.Validate(rec.Type, raw)
	if err != nil {
		d.l.c.add(&Error{Source: rec.configAt, Resource: d.resource, Field: bi.configField, Msg: err.Error(), Err: err})
		return false
	}
	rec.Deps = deps
	return ok
}

func (d *docCtx) secret(n *yaml.Node, item string) {
	if !d.countResource(n) {
		return
	}
	name := lookupString(lookup(n, "metadata"), "name")
	d.resource = label("secret", name, item)
	top, ok := d.fields(n, "", "apiVersion", "kind", "metadata", "spec")
	rec := d.newSecret(n)
	rec.nameField = "metadata.name"
	var mok bool
	rec.Name, rec.Labels, rec.Annotations, rec.nameAt, mok = d.metadata(top["metadata"], n)
	defer d.l.addSecret(rec, &ok)
	f, sok := d.fields(top["spec"], "spec", "backend", "data")
	bok := d.secretBackend(rec, f["backend"], n, "spec.backend")
	dok := true
	if data := deref(f["data"]); !isNull(data) {
		rec.Data, dok = d.data(data, "spec.data", false)
	}
	ok = ok && mok && sok && bok && dok
}

func (d *docCtx) newSecret(n *yaml.Node) *secretRec {
	rec := &secretRec{resource: d.resource}
	rec.Source = d.at(n)
	rec.BaseDir = d.in.baseDir
	rec.Root = d.in.root
	rec.FilesRoot = d.l.filesRoot
	return rec
}

func (d *docCtx) secretBackend(rec *secretRec, n, parent *yaml.Node, field string) bool {
	if n != nil {
		rec.BackendAt = d.at(n)
	}
	b, ok := d.str(n, field)
	if !ok {
		return false
	}
	if b != "" && !validName(b) {
		d.errf(n, field, "invalid backend name %s", quote(b))
		return false
	}
	rec.Backend = b
	return true
}

// data decodes spec.data. legacy accepts a plain string as a literal value,
// as the original mcpctl did.
func (d *docCtx) data(n *yaml.Node, field string, legacy bool) (Data, bool) {
	ps, ok := d.pairs(n, field)
	out := make(Data, 0, len(ps))
	for _, p := range ps {
		kf := join(field, p.key)
		if !validDataKey(p.key) {
			d.errf(p.knode, kf, "invalid key name %s: use letters, digits, \"-\", \"_\" and \".\" (at most 253 characters)", quote(p.key))
			ok = false
			continue
		}
		vs, vok := d.valueSource(p.val, kf, legacy)
		if !vok {
			ok = false
			continue
		}
		vs.FromEnv, vs.FromFile = d.l.intern(vs.FromEnv), d.l.intern(vs.FromFile)
		out = append(out, KeySource{Key: d.l.intern(p.key), ValueSource: vs})
	}
	// pairs reports duplicate keys and leaves them out: the keys are unique.
	out.sort()
	return d.l.shareData(out), ok
}

var valueSourceFields = []string{"fromEnv", "fromFile", "value"}

func (d *docCtx) valueSource(n *yaml.Node, field string, legacy bool) (ValueSource, bool) {
	n = deref(n)
	if legacy && n.Kind == yaml.ScalarNode {
		if n.ShortTag() == "!!str" {
			v := n.Value
			d.warnf(n, field, "plain string is a literal secret value in the manifest, readable by anyone with access to the repository; use {fromEnv: VAR} or {fromFile: path}")
			return ValueSource{Value: &v}, true
		}
		d.errf(n, field, "must be a string or a mapping with one of fromEnv, fromFile or value, got %s (quote it to make it a string)", describe(n))
		return ValueSource{}, false
	}
	if n.Kind != yaml.MappingNode {
		hint := ""
		if n.Kind == yaml.ScalarNode {
			hint = " (a plain value must be written {value: ...})"
		}
		d.errf(n, field, "must be a mapping with one of fromEnv, fromFile or value, got %s%s", describe(n), hint)
		return ValueSource{}, false
	}
	f, ok := d.fields(n, field, valueSourceFields...)
	var set []string
	for _, k := range valueSourceFields {
		if _, present := f[k]; present {
			set = append(set, k)
		}
	}
	switch {
	case len(set) == 0 && ok:
		d.errf(n, field, "exactly one of fromEnv, fromFile or value is required")
		return ValueSource{}, false
	case len(set) > 1:
		d.errf(n, field, "exactly one of fromEnv, fromFile or value may be set, found %s", strings.Join(set, " and "))
		return ValueSource{}, false
	case !ok:
		return ValueSource{}, false
	}
	var vs ValueSource
	k := set[0]
	vn := f[k]
	kf := join(field, k)
	s, ok := d.str(vn, kf)
	if !ok {
		return vs, false
	}
	switch k {
	case "fromEnv":
		if !validEnvName(s) {
			d.errf(vn, kf, "invalid environment variable name %s", quote(s))
			return vs, false
		}
		vs.FromEnv = s
	case "fromFile":
		if !d.checkFromFile(vn, kf, s) {
			return vs, false
		}
		vs.FromFile = s
	case "value":
		if isNull(vn) {
			d.errf(vn, kf, "must be a string, got null (write value: \"\" for an empty value)")
			return vs, false
		}
		vs.Value = &s
		d.warnf(vn, kf, "literal secret value in the manifest, readable by anyone with access to the repository; use fromEnv or fromFile")
	}
	return vs, true
}

// checkFromFile confines fromFile lexically at load time; Resolve confines
// it again on the real filesystem (symlinks) when reading.
func (d *docCtx) checkFromFile(n *yaml.Node, field, p string) bool {
	if p == "" {
		d.errf(n, field, "must not be empty")
		return false
	}
	if filepath.IsAbs(p) {
		if d.l.filesRoot != "" && within(d.l.filesRoot, filepath.Clean(p)) {
			return true
		}
		d.errf(n, field, "absolute path %s is not allowed: fromFile paths are relative to the manifest's directory (--files-root allows paths inside it)", quote(p))
		return false
	}
	target := filepath.Join(d.in.baseDir, p)
	if within(d.in.root, target) || (d.l.filesRoot != "" && within(d.l.filesRoot, target)) {
		return true
	}
	d.errf(n, field, "path %s escapes %s (--files-root widens it)", quote(p), d.rootDisplay())
	return false
}

func (d *docCtx) rootDisplay() string {
	if d.in.stdin {
		return "the working directory, the root for manifests read from standard input"
	}
	return quote(d.in.rootArg) + ", the directory given to -f"
}

func (d *docCtx) checkName(at Source, field, name string) bool {
	if name == "" {
		d.l.c.addf(at, d.resource, field, "required")
		return false
	}
	if !validName(name) {
		d.l.c.addf(at, d.resource, field, "invalid name %s: use lower-case letters, digits and \"-\", starting and ending with a letter or digit, at most 63 characters", quote(name))
		return false
	}
	return true
}

func (d *docCtx) labels(n *yaml.Node, field string) (map[string]string, bool) {
	m, ps, ok := d.stringMap(n, field)
	for _, p := range ps {
		v, present := m[p.key]
		if !validQualifiedName(p.key) {
			d.errf(p.knode, join(field, p.key), "invalid label key %s: [prefix/]name, name at most 63 characters of letters, digits, \"-\", \"_\", \".\"", quote(p.key))
			ok = false
		} else if present && !validLabelValue(v) {
			d.errf(p.val, join(field, p.key), "invalid label value %s: at most 63 characters of letters, digits, \"-\", \"_\", \".\", starting and ending with a letter or digit", quote(v))
			ok = false
		}
	}
	return d.l.share(m), ok
}

const maxAnnotationsSize = 256 << 10

func (d *docCtx) annotations(n *yaml.Node, field string) (map[string]string, bool) {
	m, ps, ok := d.stringMap(n, field)
	size := 0
	for _, p := range ps {
		size += len(p.key) + len(m[p.key])
		if !validQualifiedName(p.key) {
			d.errf(p.knode, join(field, p.key), "invalid annotation key %s: [prefix/]name, name at most 63 characters of letters, digits, \"-\", \"_\", \".\"", quote(p.key))
			ok = false
		}
		if v, present := m[p.key]; present && p.key == AnnotationPreventDestroy && v != "true" && v != "false" {
			d.errf(p.val, join(field, p.key), "must be \"true\" or \"false\"")
			ok = false
		}
	}
	if size > maxAnnotationsSize {
		d.errf(n, field, "annotations total %d bytes, more than %d", size, maxAnnotationsSize)
		ok = false
	}
	return d.l.share(m), ok
}

// share returns the map of an equal labels or annotations block loaded
// before, if any: a team's labels repeat over its secrets, and at 100,000
// secrets a map each is tens of megabytes. The maps are read-only once
// loaded (plan and apply replace them, never modify them in place).
func (l *loader) share(m map[string]string) map[string]string {
	if len(m) == 0 {
		return m
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	key := b.String()
	if c, ok := l.shared[key]; ok {
		return c
	}
	if l.shared == nil {
		l.shared = map[string]map[string]string{}
	}
	if len(l.shared) < maxShared {
		l.shared[key] = m
	}
	return m
}

// shareData returns Data equal to d loaded before, if any, as share does
// for labels: a repository's secrets often take the same keys from the
// same sources. Literal values are compared by content; Data holding one
// is never shared (its pointer is the secret's own).
func (l *loader) shareData(d Data) Data {
	if len(d) == 0 {
		return d
	}
	var b strings.Builder
	for _, e := range d {
		if e.Value != nil {
			return d
		}
		b.WriteString(e.Key)
		b.WriteByte(0)
		b.WriteString(e.FromEnv)
		b.WriteByte(0)
		b.WriteString(e.FromFile)
		b.WriteByte(0)
	}
	key := b.String()
	if c, ok := l.sharedData[key]; ok {
		return c
	}
	if l.sharedData == nil {
		l.sharedData = map[string]Data{}
	}
	if len(l.sharedData) < maxShared {
		l.sharedData[key] = slices.Clip(d)
	}
	return slices.Clip(d)
}

// maxShared bounds how many distinct maps share remembers, and how many
// distinct strings intern does.
const maxShared = 4096

// intern returns the copy of s loaded before, if any: key names and the
// variables and files values come from repeat over a repository's
// secrets, and each decoded YAML scalar is a string of its own.
func (l *loader) intern(s string) string {
	if s == "" {
		return s
	}
	if c, ok := l.strs[s]; ok {
		return c
	}
	if l.strs == nil {
		l.strs = map[string]string{}
	}
	if len(l.strs) < maxShared {
		l.strs[s] = s
	}
	return s
}

// addBackend records a decoded backend. Backends with errors are recorded
// too (when they have a name), so that the checks across files still run
// and one broken backend does not also fail every secret placed on it; a
// load with errors returns no Set, so they never reach a caller.
func (l *loader) addBackend(rec *backendRec, ok *bool) {
	if rec.Name != "" {
		rec.broken = !*ok
		l.backends = append(l.backends, rec)
	}
}

func (l *loader) addSecret(rec *secretRec, ok *bool) {
	if rec.Name != "" {
		rec.broken = !*ok
		l.secrets = append(l.secrets, rec)
	}
}

// sortedKeys is used for stable messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
