// Package exec implements `mcpctl exec`: run a program with secrets as
// environment variables, read from wherever each secret lives right now.
package exec

import (
	"context"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Exit codes of env(1) for a command that cannot be run.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

// Options for `mcpctl exec`.
type Options struct {
	IO      *cmdutil.IOStreams
	Store   func(context.Context) (*state.Store, error)
	Pool    func(context.Context) (*backends.Pool, error)
	Environ func() []string

	Secrets []string
	Command []string
}

// NewCmdExec builds `mcpctl exec`.
func NewCmdExec(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Store: f.Store, Pool: f.Pool, Environ: os.Environ}
	cmd := &cobra.Command{
		Use:   "exec --secret NAME... -- COMMAND [ARG...]",
		Short: "Run a command with secrets as environment variables",
		Long: `Run COMMAND with each key of the named secrets as an environment variable, on
top of mcpctl's own environment (a secret's key wins over an inherited
variable; with several secrets, a later --secret wins over an earlier one).

Each secret is read from the backend its row names at this moment, so a program
keeps getting its values while secrets are migrated between backends. Every
backend is logged in to once. The reads are recorded in the audit log (action
"exec", with the command's name but not its arguments); values never appear on
mcpctl's output or logs.

mcpctl exits with COMMAND's exit code (128+N if it was killed by signal N; 127
if it cannot be found, 126 if it cannot be run). Interrupt and terminate signals
are passed on to COMMAND.`,
		Example: `  mcpctl exec --secret openai -- python app.py
  mcpctl exec --secret db --secret openai -- ./server --port 8080
  # in a container entrypoint
  exec mcpctl exec --secret app -- "$@"`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Secrets) == 0 {
				return cmdutil.FlagErrorf("name at least one secret with --secret")
			}
			if len(args) == 0 {
				return cmdutil.FlagErrorf("give the command to run after --, e.g. mcpctl exec --secret %s -- env", opts.Secrets[0])
			}
			opts.Command = args
			if runF != nil {
				return runF(opts)
			}
			return run(cmd.Context(), opts)
		},
	}
	// Everything after the command's name belongs to the command, even
	// without "--".
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringSliceVarP(&opts.Secrets, "secret", "s", nil, "Secret whose keys become environment variables (repeatable, or comma-separated)")
	_ = cmd.RegisterFlagCompletionFunc("secret", cmdutil.CompleteSecretNames(f))
	return cmd
}

func run(ctx context.Context, opts *Options) error {
	path, err := osexec.LookPath(opts.Command[0])
	if err != nil {
		return &cmdutil.ExitError{Code: exitNotFound, Err: err} // "exec: "x": executable file not found in $PATH"
	}
	store, err := opts.Store(ctx)
	if err != nil {
		return err
	}
	pool, err := opts.Pool(ctx)
	if err != nil {
		return err
	}
	env, err := cmdutil.ReadForConsumer(ctx, pool, store, opts.IO, "exec",
		"exec "+filepath.Base(opts.Command[0]), opts.Secrets)
	if err != nil {
		return err
	}
	for k := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("exec: key %q cannot be an environment variable name", k)
		}
	}

	child := osexec.Command(path, opts.Command[1:]...)
	child.Env = mergeEnv(opts.Environ(), env)
	child.Stdin, child.Stdout, child.Stderr = opts.IO.In, opts.IO.Out, opts.IO.ErrOut
	// Deliberately not CommandContext: on Ctrl-C the child gets the signal
	// and decides how to stop; it is not killed under it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		return &cmdutil.ExitError{Code: exitCannotRun, Err: fmt.Errorf("exec %s: %w", opts.Command[0], err)}
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = child.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = child.Wait()
	close(done)
	var exitErr *osexec.ExitError
	if errors.As(err, &exitErr) {
		code := exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return &cmdutil.ExitError{Code: code}
	}
	if err != nil {
		return fmt.Errorf("exec %s: %w", opts.Command[0], err)
	}
	return nil
}

// mergeEnv overlays secrets on the inherited environment.
func mergeEnv(base []string, secrets map[string]string) []string {
	out := make([]string, 0, len(base)+len(secrets))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := secrets[k]; !over {
			out = append(out, kv)
		}
	}
	for k, v := range secrets {
		out = append(out, k+"="+v)
	}
	return out
}
