package get

import (
	"context"
	"fmt"
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
	if wantSecrets || opts.Output == "table" {
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
		return secretTable(opts, shownS)
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
	t := cmdutil.NewTable(opts.IO.Out, "NAME", "TYPE", "DEFAULT", "SECRETS", "AGE", "DESCRIPTION")
	for _, b := range bs {
		def := ""
		if b.IsDefault {
			def = "*"
		}
		t.Row(b.Name, b.Type, def, strconv.Itoa(count[b.Name]), cmdutil.Age(now, b.CreatedAt), b.Description)
	}
	return t.Flush()
}

func secretTable(opts *Options, ss []state.Secret) error {
	now := opts.Now()
	t := cmdutil.NewTable(opts.IO.Out, "NAME", "BACKEND", "KEYS", "VERSION", "AGE")
	for _, s := range ss {
		t.Row(s.Name, s.BackendName, keyList(s.Keys, 4), strconv.FormatInt(s.BackendVersion, 10), cmdutil.Age(now, s.CreatedAt))
	}
	return t.Flush()
}

// keyList shows up to max key names, then how many more.
func keyList(keys []string, max int) string {
	if len(keys) <= max {
		return strings.Join(keys, ",")
	}
	return strings.Join(keys[:max], ",") + fmt.Sprintf(",+%d", len(keys)-max)
}
