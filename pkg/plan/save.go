package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// MaxPlanSize bounds what Load reads: a plan for 100k secrets is far below.
const MaxPlanSize = 256 << 20

// Save writes the plan as its JSON document (docs/plan-json.md). It is the
// same document RenderJSON prints, so `plan -o json` output can be applied.
func Save(w io.Writer, p *Plan) error {
	if p == nil {
		return errors.New("save plan: nil plan")
	}
	out := *p
	out.FormatVersion = FormatVersion
	if out.Actions == nil {
		out.Actions = []Action{}
	}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("save plan %s: %w", p.ID, err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("save plan %s: %w", p.ID, err)
	}
	return nil
}

// WriteFile saves the plan to path with mode 0600, atomically: a temporary
// file in the same directory is written, synced and renamed over path, so a
// reader never sees half a plan and the file is never world-readable. A
// plan that needs literal values is refused (CheckSaveable) and nothing is
// written.
func WriteFile(path string, p *Plan) (err error) {
	if p != nil {
		if err := CheckSaveable(p); err != nil {
			return err
		}
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	// CreateTemp already uses 0600; Chmod makes it independent of that.
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err = Save(f, p); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

// ReadFile loads a plan saved by WriteFile.
func ReadFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	p, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Load reads a plan document, refusing other format versions, unknown
// fields and documents that are not internally consistent (unknown action
// kinds, dependencies on unknown or later actions, counts that do not match).
func Load(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPlanSize+1))
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if len(data) > MaxPlanSize {
		return nil, fmt.Errorf("read plan: larger than %d bytes", MaxPlanSize)
	}
	var probe struct {
		FormatVersion *string `json:"format_version"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&probe); err != nil {
		return nil, fmt.Errorf("read plan: not a plan document: %w", err)
	}
	switch {
	case probe.FormatVersion == nil:
		return nil, errors.New("read plan: not a plan document (no format_version)")
	case *probe.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("read plan: format version %q is not supported (this mcpctl reads version %q); plan again with this mcpctl", *probe.FormatVersion, FormatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("read plan: trailing data after the plan document")
	}
	compactConfigs(&p)
	if err := validate(&p); err != nil {
		return nil, fmt.Errorf("read plan %s: %w", p.ID, err)
	}
	return &p, nil
}

// compactConfigs undoes the indentation Save gives embedded configs, so a
// loaded plan equals the one saved.
func compactConfigs(p *Plan) {
	compact := func(raw *json.RawMessage) {
		if len(*raw) == 0 {
			return
		}
		var b bytes.Buffer
		if json.Compact(&b, *raw) == nil {
			*raw = b.Bytes()
		}
	}
	for i := range p.Actions {
		a := &p.Actions[i]
		compact(&a.Config)
		if a.Before != nil {
			compact(&a.Before.Config)
		}
		if a.After != nil {
			compact(&a.After.Config)
		}
	}
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	idRE   = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]{0,127}$`)
)

var validActions = map[Kind][]ActionType{
	KindSecretBackend: {Create, Update, Delete},
	KindSecret:        {Create, Update, Migrate, Write, Delete, Repair, Cleanup},
}

// validate checks what apply relies on, so a hand-edited or truncated file
// fails here rather than half-way through an apply.
func validate(p *Plan) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !idRE.MatchString(p.ID) {
		bad("id %q is not a plan id", p.ID)
	}
	if p.Actions == nil || p.Findings == nil || p.Warnings == nil {
		bad("actions, findings and warnings must all be present")
	}
	seen := make(map[string]bool, len(p.Actions))
	for i := range p.Actions {
		a := &p.Actions[i]
		where := fmt.Sprintf("action %d (%s)", i, a.ID)
		types, ok := validActions[a.Kind]
		switch {
		case !ok:
			bad("%s: unknown kind %q", where, a.Kind)
		case !containsAction(types, a.Action):
			bad("%s: action %q is not valid for a %s", where, a.Action, a.Kind)
		}
		if !nameRE.MatchString(a.Name) || len(a.Name) > 253 {
			bad("%s: invalid name %q", where, a.Name)
		}
		if a.ID == "" || seen[a.ID] {
			bad("%s: missing or duplicate id", where)
		}
		for _, d := range a.Deps {
			if !seen[d] {
				bad("%s: depends on %q, which is not an earlier action", where, d)
			}
		}
		seen[a.ID] = true
		if err := validateAction(a); err != nil {
			bad("%s: %v", where, err)
		}
	}
	for i, f := range p.Findings {
		switch f.Type {
		case Drift, Unmanaged, Lost, Unknown, Kept:
		default:
			bad("finding %d: unknown type %q", i, f.Type)
		}
	}
	if got := count(p); got != p.Summary {
		bad("summary %+v does not match the actions and findings (%+v)", p.Summary, got)
	}
	return errors.Join(errs...)
}

func containsAction(list []ActionType, a ActionType) bool {
	for _, t := range list {
		if t == a {
			return true
		}
	}
	return false
}

func validateAction(a *Action) error {
	switch {
	case a.Action == Create || a.Action == Update || a.Action == Write || a.Action == Repair || a.Action == Migrate:
		if a.After == nil {
			return errors.New("missing after")
		}
	case a.Action == Delete:
		if a.Before == nil {
			return errors.New("missing before")
		}
	}
	if a.Kind == KindSecretBackend && (a.Action == Create || a.Action == Update) && len(a.Config) > 0 && !json.Valid(a.Config) {
		return errors.New("config is not valid JSON")
	}
	if a.Action == Migrate && (a.Migration == nil || a.Migration.From == "" || a.Migration.To == "") {
		return errors.New("migrate without from/to")
	}
	if a.Action == Cleanup {
		if c := a.Cleanup; c == nil || c.JournalID <= 0 || c.Backend == "" || (c.Copy != SourceCopy && c.Copy != DestinationCopy) {
			return errors.New("cleanup without journal entry, backend or copy")
		}
	}
	if (a.Action == Write || a.Action == Repair) && a.Values == nil {
		return errors.New("no value sources")
	}
	if v := a.Values; v != nil {
		if v.Fingerprint != "" && !validFingerprint(v.Fingerprint) {
			return errors.New("values.fingerprint is not a keyed fingerprint")
		}
		if v.Fingerprint != a.Precondition.Fingerprint {
			return errors.New("values.fingerprint differs from precondition.fingerprint")
		}
		for _, s := range v.Sources {
			n := 0
			for _, set := range []bool{s.FromEnv != "", s.FromFile != "", s.Literal} {
				if set {
					n++
				}
			}
			if s.Key == "" || n != 1 {
				return fmt.Errorf("value source %q must have exactly one of from_env, from_file, literal", s.Key)
			}
		}
	}
	return nil
}
