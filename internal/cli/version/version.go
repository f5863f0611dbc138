// Package version implements `mcpctl version`.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

// Options for `mcpctl version`.
type Options struct {
	IO      *cmdutil.IOStreams
	Version string
}

// NewCmdVersion builds `mcpctl version`. runF replaces the behaviour in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Version: f.Version}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the mcpctl version",
		Long: `Print mcpctl's version, the Go version it was built with and the VCS revision
when the binary carries one. Release builds set the version with
-ldflags '-X github.com/mcpctl/mcpctl/internal/cli.version=...'.`,
		Example: `  mcpctl version`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return run(opts)
		},
	}
}

func run(opts *Options) error {
	fmt.Fprintf(opts.IO.Out, "mcpctl version %s\n", opts.Version)
	line := "go " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				line += ", revision " + s.Value[:12]
			}
		}
	}
	fmt.Fprintln(opts.IO.Out, line)
	return nil
}
