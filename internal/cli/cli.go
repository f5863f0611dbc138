// Package cli is mcpctl's command line: the root command, global flags, exit
// codes and error printing. Each command lives in its own package under
// internal/cli (flags -> Options struct -> run function, as in cli/cli);
// shared plumbing is in internal/cli/cmdutil.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

// version is set at build time:
//
//	go build -ldflags '-X github.com/mcpctl/mcpctl/internal/cli.version=v1.2.3'
var version = "dev"

// Main runs mcpctl with the process's arguments, streams and environment and
// returns the exit code (0 ok, 1 error, 2 changes or drift). cmd/mcpctl
// passes it to os.Exit.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ios := cmdutil.SystemIO()
	return Run(ctx, cmdutil.New(ios, os.Getenv, version), os.Args[1:])
}

// Run executes one command line with the given factory. It never panics
// out: a panic is reported as an internal error without its value, which
// could hold a secret.
func Run(ctx context.Context, f *cmdutil.Factory, args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(f.IOStreams.ErrOut, "Error: internal error (%T at %s); this is a bug in mcpctl, please report it with the command you ran\n", r, panicSite())
			code = cmdutil.CodeError
		}
	}()
	defer func() {
		if err := f.Close(); err != nil {
			f.Log.Debug("closing backends", "err", err)
		}
	}()

	root := NewCmdRoot(f)
	args, err := cmdutil.ExpandKindNames(root, args)
	if err != nil {
		printError(f.IOStreams.ErrOut, err, "mcpctl")
		return cmdutil.ExitCode(err)
	}
	root.SetArgs(args)
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		printError(f.IOStreams.ErrOut, err, cmd.CommandPath())
	}
	return cmdutil.ExitCode(err)
}

// printError writes one "Error: ..." line and, when known, what to do next.
func printError(w io.Writer, err error, cmdPath string) {
	var exit *cmdutil.ExitError
	if errors.As(err, &exit) && exit.Err == nil {
		return // the command already reported
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "Error: interrupted")
		return
	}
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintf(w, "Error: %s\n", msg)
	if hint := cmdutil.Hint(err); hint != "" {
		fmt.Fprintf(w, "Hint: %s\n", hint)
	}
	var flagErr *cmdutil.FlagError
	if errors.As(err, &flagErr) || strings.HasPrefix(msg, "unknown command") {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmdPath)
	}
}

// panicSite names the function that panicked (no arguments, no values).
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		fr, more := frames.Next()
		if !strings.HasPrefix(fr.Function, "runtime.") && fr.Function != "" {
			return fr.Function
		}
		if !more {
			return "unknown"
		}
	}
}
