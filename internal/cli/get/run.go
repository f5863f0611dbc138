package get

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/state"
)

func run(ctx context.Context, opts *Options) error {
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	wantBackends := opts.Kind == KindBackends || opts.Kind == KindAll
	wantSecrets := opts.Kind == KindSecrets || opts.Kind == KindAll
	var bs []state.Backend
	var ss []state.Secret
	if wantBackends {
		if bs, err = store.ListBackends(ctx); err != nil {
			return fmt.Errorf("schema %q: listing backends: %w", store.Schema(), err)
		}
	}
	// The backend table counts secrets per backend, so it needs them too.
	if wantSecrets || opts.Output == "table" || opts.Output == "wide" {
		if ss, err = store.ListSecrets(ctx, false); err != nil {
			return fmt.Errorf("schema %q: listing secrets: %w", store.Schema(), err)
		}
	}

	shownB, shownS := bs, ss
	if len(opts.Names) > 0 {
		if opts.Kind == KindBackends {
			if shownB, err = pick(bs, opts.Names, "secretbackend", func(b state.Backend) string { return b.Name }); err != nil {
				return err
			}
		} else if shownS, err = pick(ss, opts.Names, "secret", func(s state.Secret) string { return s.Name }); err != nil {
			return err
		}
	}
	if !wantSecrets {
		shownS = nil
	}

	switch opts.Output {
	case "name":
		for _, b := range shownB {
			fmt.Fprintf(opts.IO.Out, "%s/%s\n", cmdutil.KindSecretBackend.Singular, b.Name)
		}
		for _, s := range shownS {
			fmt.Fprintf(opts.IO.Out, "%s/%s\n", cmdutil.KindSecret.Singular, s.Name)
		}
		return nil
	case "yaml", "json":
		data, err := marshal(shownB, shownS, opts.Output)
		if err != nil {
			return err
		}
		_, err = opts.IO.Out.Write(data)
		return err
	}

	if len(shownB) == 0 && len(shownS) == 0 {
		what := map[string]string{KindBackends: "secret backends", KindSecrets: "secrets", KindAll: "resources"}[opts.Kind]
		fmt.Fprintf(opts.IO.ErrOut, "No %s found in schema %q.\n", what, store.Schema())
		return nil
	}
	if wantBackends {
		if err := backendTable(opts, shownB, ss); err != nil {
			return err
		}
	}
	if wantSecrets && len(shownS) > 0 {
		if wantBackends {
			fmt.Fprintln(opts.IO.Out)
		}
		kept, err := store.KeptCopies(ctx)
		if err != nil {
			return fmt.Errorf("schema %q: reading the migration journal: %w", store.Schema(), err)
		}
		return secretTable(opts, shownS, kept)
	}
	return nil
}

// pick returns the items named, in the order asked, failing on the first
// name that does not exist.
func pick[T any](items []T, names []string, kind string, name func(T) string) ([]T, error) {
	byName := make(map[string]T, len(items))
	for _, it := range items {
		byName[name(it)] = it
	}
	out := make([]T, 0, len(names))
	for _, n := range names {
		it, ok := byName[n]
		if !ok {
			return nil, cmdutil.WithHint(fmt.Errorf("%s %q: %w", kind, n, state.ErrNotFound), "list them with `mcpctl get %ss`", kind)
		}
		out = append(out, it)
	}
	return out, nil
}

func backendTable(opts *Options, bs []state.Backend, all []state.Secret) error {
	count := map[string]int{}
	for _, s := range all {
		count[s.BackendName]++
	}
	now := opts.Now()
	wide := opts.Output == "wide"
	headers := []string{"NAME", "TYPE", "DEFAULT", "SECRETS", "AGE", "DESCRIPTION"}
	if wide {
		headers = append(headers, "URL", "MOUNT", "PROTECTED", "GENERATION", "LABELS")
	}
	t := cmdutil.NewTable(opts.IO.Out, headers...)
	for _, b := range bs {
		def := ""
		if b.IsDefault {
			def = "*"
		}
		row := []string{b.Name, b.Type, def, strconv.Itoa(count[b.Name]), cmdutil.Age(now, b.CreatedAt), b.Description}
		if wide {
			url, mount := configField(b.Config, "url"), configField(b.Config, "mount")
			if p := configField(b.Config, "pathPrefix"); p != "" && mount != "" {
				mount += "/" + p
			}
			row = append(row, orDash(url), orDash(mount), yesNo(b.Protected), strconv.FormatInt(b.Generation, 10), labelList(b.Labels))
		}
		t.Row(row...)
	}
	return t.Flush()
}

// secretTable lists secrets; a KEPT column, when any shown secret has a
// source copy kept by `migrate secrets --keep-source`, says where.
func secretTable(opts *Options, ss []state.Secret, kept []state.Migration) error {
	now := opts.Now()
	wide := opts.Output == "wide"
	keptOn := keptCopies(ss, kept)
	headers := []string{"NAME", "BACKEND", "KEYS", "VERSION", "AGE"}
	if wide {
		headers = append(headers, "MANAGED", "PROTECTED", "GENERATION", "LOCATION", "LABELS")
	}
	if len(keptOn) > 0 {
		headers = append(headers, "KEPT")
	}
	t := cmdutil.NewTable(opts.IO.Out, headers...)
	n := 0
	for _, s := range ss {
		keys := keyList(s.Keys, 4)
		if wide {
			keys = strings.Join(s.Keys, ",")
		}
		row := []string{s.Name, s.BackendName, keys, strconv.FormatInt(s.BackendVersion, 10), cmdutil.Age(now, s.CreatedAt)}
		if wide {
			row = append(row, yesNo(s.Managed), yesNo(s.Protected), strconv.FormatInt(s.Generation, 10), orDash(s.ExternalRef), labelList(s.Labels))
		}
		if len(keptOn) > 0 {
			row = append(row, strings.Join(keptOn[s.Name], ","))
			n += len(keptOn[s.Name])
		}
		t.Row(row...)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "%d source cop%s kept by `migrate secrets --keep-source` (KEPT: the backend holding it); remove with `mcpctl migrate secrets --cleanup`\n",
			n, map[bool]string{true: "y", false: "ies"}[n == 1])
	}
	return nil
}

// keptCopies maps a secret name to the backends holding a source copy
// kept for it, in journal order, leaving out records that no longer
// describe a copy (the row lives on that backend again, or was replaced).
func keptCopies(ss []state.Secret, kept []state.Migration) map[string][]string {
	rows := make(map[string]state.Secret, len(ss))
	for _, s := range ss {
		rows[s.Name] = s
	}
	out := map[string][]string{}
	for _, m := range kept {
		r, ok := rows[m.SecretName]
		if !ok || r.ID != m.SecretID || r.BackendName == m.FromBackend || slices.Contains(out[m.SecretName], m.FromBackend) {
			continue
		}
		out[m.SecretName] = append(out[m.SecretName], m.FromBackend)
	}
	return out
}

// configField is a top-level string of a backend config ("" if absent).
func configField(raw json.RawMessage, key string) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	s, _ := m[key].(string)
	return s
}

func labelList(labels map[string]string) string {
	if len(labels) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ",")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// keyList shows up to max key names, then how many more.
func keyList(keys []string, max int) string {
	if len(keys) <= max {
		return strings.Join(keys, ",")
	}
	return strings.Join(keys[:max], ",") + fmt.Sprintf(",+%d", len(keys)-max)
}
