// Package completion implements `mcpctl completion SHELL`.
package completion

import (
	"github.com/spf13/cobra"

	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
)

// shells lists the supported shells.
var shells = []string{"bash", "zsh", "fish", "powershell"}

// Options for `mcpctl completion`.
type Options struct {
	IO    *cmdutil.IOStreams
	Shell string
	// Root is the command tree to complete; set when the command runs.
	Root *cobra.Command
}

// NewCmdCompletion builds `mcpctl completion`.
func NewCmdCompletion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the script that makes your shell complete mcpctl's commands, flags,
and the names of backends and secrets (read from the state database).

Load it once per session, or install it where your shell looks for completions.`,
		Example: `  # bash, this session
  source <(mcpctl completion bash)
  # bash, permanently
  mcpctl completion bash > /etc/bash_completion.d/mcpctl

  # zsh (compinit must be enabled)
  mcpctl completion zsh > "${fpath[1]}/_mcpctl"

  # fish
  mcpctl completion fish > ~/.config/fish/completions/mcpctl.fish

  # PowerShell
  mcpctl completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: shells,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.FlagErrorf("name the shell: one of bash, zsh, fish, powershell")
			}
			if err := cobra.OnlyValidArgs(cmd, args); err != nil {
				return &cmdutil.FlagError{Err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Shell = args[0]
			opts.Root = cmd.Root()
			if runF != nil {
				return runF(opts)
			}
			return run(opts)
		},
	}
	return cmd
}

func run(opts *Options) error {
	w := opts.IO.Out
	switch opts.Shell {
	case "bash":
		return opts.Root.GenBashCompletionV2(w, true)
	case "zsh":
		return opts.Root.GenZshCompletion(w)
	case "fish":
		return opts.Root.GenFishCompletion(w, true)
	case "powershell":
		return opts.Root.GenPowerShellCompletionWithDesc(w)
	}
	return cmdutil.FlagErrorf("unsupported shell %q: use bash, zsh, fish or powershell", opts.Shell)
}
