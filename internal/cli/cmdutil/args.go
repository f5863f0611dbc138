package cmdutil

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// ExactArgs accepts exactly n positional arguments; missing ones fail with
// msg (say what to pass), extra ones name the first surplus argument.
func ExactArgs(n int, msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return FlagErrorf("unexpected argument %q", args[n])
		}
		if len(args) < n {
			return FlagErrorf("%s", msg)
		}
		return nil
	}
}

// NoArgs refuses positional arguments with a usage error.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return FlagErrorf("unexpected argument %q", args[0])
	}
	return nil
}

// completionTimeout bounds the database round trip behind a <TAB>.
const completionTimeout = 3 * time.Second

// CompleteBackendNames completes backend names from the state store; it
// offers nothing (rather than an error) when the store is unreachable.
func CompleteBackendNames(f *Factory) cobra.CompletionFunc {
	return completeNames(f, func(ctx context.Context) ([]string, error) {
		s, err := f.Store(ctx)
		if err != nil {
			return nil, err
		}
		bs, err := s.ListBackends(ctx)
		var names []string
		for _, b := range bs {
			names = append(names, b.Name)
		}
		return names, err
	})
}

// CompleteSecretNames completes secret names from the state store.
func CompleteSecretNames(f *Factory) cobra.CompletionFunc {
	return completeNames(f, func(ctx context.Context) ([]string, error) {
		s, err := f.Store(ctx)
		if err != nil {
			return nil, err
		}
		ss, err := s.ListSecrets(ctx, false)
		var names []string
		for _, x := range ss {
			names = append(names, x.Name)
		}
		return names, err
	})
}

func completeNames(f *Factory, list func(ctx context.Context) ([]string, error)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		names, err := list(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

// RequireSubcommand is the RunE of a group command (`get`, `db`, ...):
// cobra would print help and exit 0 for `mcpctl get` or `mcpctl get typo`,
// which hides the mistake from scripts.
func RequireSubcommand(what string) func(cmd *cobra.Command, args []string) error {
	return func(cmd *cobra.Command, args []string) error {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		list := strings.Join(names, ", ")
		if len(args) == 0 {
			return FlagErrorf("%s: one of %s", what, list)
		}
		return FlagErrorf("unknown %s %q: use one of %s", strings.TrimPrefix(what, "specify a "), args[0], list)
	}
}
