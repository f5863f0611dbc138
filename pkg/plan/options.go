package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultMaxDeletes is the mass-delete guard's limit when Options.MaxDeletes
// is 0.
const DefaultMaxDeletes = 10

// DefaultParallelism bounds concurrent Stat calls in Gather.
const DefaultParallelism = 16

// Options shape a plan. The serialised part is recorded in saved plans so a
// reviewer sees what the plan was computed with.
type Options struct {
	// Prune deletes rows no manifest declares (only those Selector matches).
	Prune bool `json:"prune"`
	// Selector restricts Prune to rows whose labels match every requirement.
	Selector Selector `json:"selector,omitempty"`
	// MaxDeletes is the mass-delete guard (0 means DefaultMaxDeletes).
	MaxDeletes int `json:"max_deletes"`
	// AllowMassDelete lifts the mass-delete and empty-manifest guards.
	AllowMassDelete bool `json:"allow_mass_delete"`
	// KeepSource keeps the source copy of migrated secrets.
	KeepSource bool `json:"keep_source"`
	// DestroySource destroys (rather than soft-deletes) source copies and
	// pruned objects.
	DestroySource bool `json:"destroy_source"`

	// Schema is recorded in the plan (the Postgres schema planned against).
	Schema string `json:"-"`
	// Parallelism bounds concurrent Stat calls in Gather (0: DefaultParallelism).
	Parallelism int `json:"-"`
	// LookupEnv resolves fromEnv sources in Gather (nil: os.LookupEnv).
	LookupEnv func(string) (string, bool) `json:"-"`
	// Now and PlanID make Compute deterministic in tests; zero values mean
	// time.Now and a random id.
	Now    time.Time `json:"-"`
	PlanID string    `json:"-"`
}

func (o Options) maxDeletes() int {
	if o.MaxDeletes <= 0 {
		return DefaultMaxDeletes
	}
	return o.MaxDeletes
}

func (o Options) parallelism() int {
	if o.Parallelism <= 0 {
		return DefaultParallelism
	}
	return o.Parallelism
}

// Requirement is one label requirement of a selector: key=value or key!=value.
type Requirement struct {
	Key    string
	Value  string
	Negate bool
}

func (r Requirement) String() string {
	if r.Negate {
		return r.Key + "!=" + r.Value
	}
	return r.Key + "=" + r.Value
}

// Selector is a conjunction of label requirements, as kubectl's -l.
// The zero Selector matches everything.
type Selector []Requirement

// ParseSelector parses "key=value,key2!=value2" (also "key==value"). Several
// -l flags are joined with commas by the caller.
func ParseSelector(s string) (Selector, error) {
	var sel Selector
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		var r Requirement
		switch {
		case strings.Contains(part, "!="):
			k, v, _ := strings.Cut(part, "!=")
			r = Requirement{Key: k, Value: v, Negate: true}
		case strings.Contains(part, "=="):
			k, v, _ := strings.Cut(part, "==")
			r = Requirement{Key: k, Value: v}
		case strings.Contains(part, "="):
			k, v, _ := strings.Cut(part, "=")
			r = Requirement{Key: k, Value: v}
		default:
			return nil, fmt.Errorf("selector %q: requirement %q is not key=value or key!=value", s, part)
		}
		r.Key, r.Value = strings.TrimSpace(r.Key), strings.TrimSpace(r.Value)
		if r.Key == "" {
			return nil, fmt.Errorf("selector %q: requirement %q has an empty key", s, part)
		}
		if strings.ContainsAny(r.Value, "=!") {
			return nil, fmt.Errorf("selector %q: requirement %q: a value may not contain '=' or '!'", s, part)
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// Matches reports whether labels satisfy every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s {
		v, ok := labels[r.Key]
		if r.Negate {
			if ok && v == r.Value {
				return false
			}
			continue
		}
		if !ok || v != r.Value {
			return false
		}
	}
	return true
}

func (s Selector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// MarshalJSON writes the selector in its -l form.
func (s Selector) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads the -l form.
func (s *Selector) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("selector: %w", err)
	}
	sel, err := ParseSelector(str)
	if err != nil {
		return err
	}
	*s = sel
	return nil
}

// Equal lets go-cmp compare selectors by meaning.
func (s Selector) Equal(o Selector) bool { return slices.Equal(s, o) }
