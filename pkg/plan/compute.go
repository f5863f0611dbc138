package plan

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Compute diffs desired state (the manifests, with the fingerprints of their
// managed values) against actual state (a Snapshot) and returns the ordered
// Plan. It does no I/O: everything it knows comes from its arguments.
//
// When the plan must not be applied, Compute returns it together with an
// *Error listing every problem (see Error).
func Compute(desired *manifest.Set, fp Fingerprints, actual *Snapshot, opts Options) (*Plan, error) {
	if desired == nil {
		return nil, errors.New("plan: no manifest set")
	}
	if actual == nil {
		actual = &Snapshot{}
	}
	c := newComputer(desired, fp, actual, opts)
	c.run()
	p := c.plan()
	return p, c.problems.err()
}

// computer holds the indexes one Compute run builds.
type computer struct {
	desired *manifest.Set
	fp      Fingerprints
	actual  *Snapshot
	opts    Options

	dBackends map[string]*manifest.Backend
	dSecrets  map[string]*manifest.Secret
	rBackends map[string]*state.Backend
	rSecrets  map[string]*state.Secret
	// journal: open entries by secret name.
	journal map[string][]*state.Migration

	defaultBackend string

	actions  []*Action
	byID     map[string]*Action
	findings []Finding
	warnings []string
	problems problems

	// backendAction and secretAction index the main action per resource.
	backendAction map[string]*Action
	secretAction  map[string]*Action
	cleanups      map[string][]*Action // by secret name
	keptRemoved   map[int64]bool       // kept copies removed with their secret, by journal id
	// resumed marks journal entries a migrate action resumes.
	resumed map[int64]bool
	// tokens maps a backend that exists after the plan (or is deleted by it)
	// to its credential edges (On left empty: placement is decided later).
	tokens map[string][]CredentialEdge
	// statErrs groups failed Stats by backend and error for one message each.
	statErrs map[[2]string][]string
	// data shares Sources and key names between secrets sharing Data.
	data dataShare
	// resourceCycle: a credential cycle was reported; the action cycle it
	// causes is not reported again.
	resourceCycle bool
}

func newComputer(desired *manifest.Set, fp Fingerprints, actual *Snapshot, opts Options) *computer {
	c := &computer{
		desired:       desired,
		fp:            fp,
		actual:        actual,
		opts:          opts,
		dBackends:     make(map[string]*manifest.Backend, len(desired.Backends)),
		dSecrets:      make(map[string]*manifest.Secret, len(desired.Secrets)),
		rBackends:     map[string]*state.Backend{},
		rSecrets:      make(map[string]*state.Secret, len(actual.Secrets)),
		journal:       map[string][]*state.Migration{},
		byID:          map[string]*Action{},
		backendAction: map[string]*Action{},
		secretAction:  map[string]*Action{},
		cleanups:      map[string][]*Action{},
		keptRemoved:   map[int64]bool{},
		resumed:       map[int64]bool{},
		tokens:        map[string][]CredentialEdge{},
		statErrs:      map[[2]string][]string{},
	}
	for i := range desired.Backends {
		b := &desired.Backends[i]
		if _, dup := c.dBackends[b.Name]; dup {
			c.problems.add(fmt.Sprintf("secretbackend/%s is declared twice (%s)", b.Name, b.Source))
		}
		c.dBackends[b.Name] = b
	}
	for i := range desired.Secrets {
		s := &desired.Secrets[i]
		if _, dup := c.dSecrets[s.Name]; dup {
			c.problems.add(fmt.Sprintf("secret/%s is declared twice (%s)", s.Name, s.Source))
		}
		c.dSecrets[s.Name] = s
	}
	rows := actual.backendRows()
	for i := range rows {
		c.rBackends[rows[i].Name] = &rows[i]
	}
	for i := range actual.Secrets {
		c.rSecrets[actual.Secrets[i].Name] = &actual.Secrets[i]
	}
	for i := range actual.OpenMigrations {
		m := &actual.OpenMigrations[i]
		c.journal[m.SecretName] = append(c.journal[m.SecretName], m)
	}
	c.defaultBackend = desiredDefault(desired, rows, opts)
	var defaults []string
	for _, b := range desired.Backends {
		if b.Default {
			defaults = append(defaults, b.Name)
		}
	}
	if len(defaults) > 1 {
		c.problems.add("more than one backend is declared default: " + strings.Join(defaults, ", "))
	}
	return c
}

func (c *computer) run() {
	if len(c.desired.Backends) == 0 && len(c.desired.Secrets) == 0 {
		if c.opts.AllowMassDelete {
			c.warnings = append(c.warnings, "the manifest set is empty; planning anyway because of --allow-mass-delete")
		} else {
			c.problems.add("the manifest set is empty: refusing to plan (with --prune it would delete everything); check the -f paths, or pass --allow-mass-delete if that is what you mean")
		}
	}
	c.warnings = append(c.warnings, c.desired.Warnings...)

	c.planBackends()
	c.planSecrets()
	c.planJournal()
	c.planKept()
	c.checkBackendDeletes()
	c.checkTokens()
	c.checkCycles()
	c.checkDeletes()
	c.reportStatErrors()
	c.link()
}

func (c *computer) add(a *Action) *Action {
	if _, dup := c.byID[a.ID]; dup {
		// Defensive: ids are derived from unique names.
		c.problems.add("internal: two actions with id " + a.ID)
		return a
	}
	c.byID[a.ID] = a
	c.actions = append(c.actions, a)
	return a
}

func (c *computer) finding(t FindingType, kind Kind, name, backend, reason string) {
	c.findings = append(c.findings, Finding{Type: t, Kind: kind, Name: name, Backend: backend, Reason: reason})
}

// placedAfter is the backend a secret lives on once the plan is applied, or
// "" when the plan deletes it.
func (c *computer) placedAfter(name string) string {
	if s, ok := c.dSecrets[name]; ok {
		return c.desiredBackendOf(s)
	}
	if a := c.secretAction[name]; a != nil && a.Action == Delete {
		return ""
	}
	if r, ok := c.rSecrets[name]; ok {
		return r.BackendName
	}
	return ""
}

func (c *computer) desiredBackendOf(s *manifest.Secret) string {
	if s.Backend != "" {
		return s.Backend
	}
	return c.defaultBackend
}

// backendExistsAfter reports whether a backend exists once the plan is
// applied.
func (c *computer) backendExistsAfter(name string) bool {
	if _, ok := c.dBackends[name]; ok {
		return true
	}
	if _, ok := c.rBackends[name]; !ok {
		return false
	}
	a := c.backendAction[name]
	return a == nil || a.Action != Delete
}

func declaredAt(src manifest.Source) string {
	if src.File == "" {
		return "the manifests"
	}
	if src.Line > 0 {
		return src.File + ":" + strconv.Itoa(src.Line)
	}
	return src.File
}

func (c *computer) selectorText() string {
	if len(c.opts.Selector) == 0 {
		return "--prune"
	}
	return "--prune -l " + c.opts.Selector.String()
}

func (c *computer) plan() *Plan {
	p := &Plan{
		FormatVersion:  FormatVersion,
		ID:             c.opts.PlanID,
		CreatedAt:      c.opts.Now,
		Schema:         c.opts.Schema,
		ManifestDigest: c.desired.Digest,
		Initialized:    c.actual.Initialized,
		DefaultBackend: c.defaultBackend,
		Options:        c.recordedOptions(),
		Actions:        []Action{},
		Findings:       []Finding{},
		Warnings:       []string{},
	}
	if p.ID == "" {
		p.ID = newPlanID()
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now().UTC().Truncate(time.Millisecond)
	}
	ordered := c.ordered()
	p.Actions = make([]Action, 0, len(ordered))
	for _, a := range ordered {
		p.Actions = append(p.Actions, *a)
	}
	slices.SortStableFunc(c.findings, func(a, b Finding) int {
		return strings.Compare(findingKey(a), findingKey(b))
	})
	p.Findings = append(p.Findings, c.findings...)
	p.Warnings = append(p.Warnings, c.warnings...)
	p.Summary = count(p)
	return p
}

// recordedOptions are the options as the plan records them: what shaped it,
// without the run-time knobs.
func (c *computer) recordedOptions() Options {
	return Options{
		Prune:           c.opts.Prune,
		Selector:        c.opts.Selector,
		MaxDeletes:      c.opts.maxDeletes(),
		AllowMassDelete: c.opts.AllowMassDelete,
		KeepSource:      c.opts.KeepSource,
		DestroySource:   c.opts.DestroySource,
	}
}

func findingKey(f Finding) string {
	k := "1"
	if f.Kind == KindSecretBackend {
		k = "0"
	}
	return k + "/" + f.Name + "/" + string(f.Type)
}

func count(p *Plan) Counts {
	var n Counts
	for _, a := range p.Actions {
		switch a.Action {
		case Create:
			n.Create++
		case Update:
			n.Update++
		case Migrate:
			n.Migrate++
		case Write:
			n.Write++
		case Delete:
			n.Delete++
		case Repair:
			n.Repair++
		case Cleanup:
			n.Cleanup++
		}
	}
	for _, f := range p.Findings {
		switch f.Type {
		case Drift:
			n.Drift++
		case Unmanaged:
			n.Unmanaged++
		case Lost:
			n.Lost++
		case Unknown:
			n.Unknown++
		case Kept:
			n.Kept++
		}
	}
	return n
}

func newPlanID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// nonEmpty is m, nil when empty, so summaries compare and serialise alike
// whether a field was absent or empty. The map is shared, not copied: labels and
// annotations maps of manifests, rows and summaries are only ever replaced,
// never modified in place, and a copy per secret is most of a large plan's
// memory.
func nonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

// protectedBy reports the mcpctl/prevent-destroy annotation.
func protectedBy(annotations map[string]string) bool {
	return strings.EqualFold(annotations["mcpctl/prevent-destroy"], "true")
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
