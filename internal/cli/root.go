package cli

import (
	"github.com/spf13/cobra"

	applycmd "github.com/mcpctl/mcpctl/internal/cli/apply"
	"github.com/mcpctl/mcpctl/internal/cli/cmdutil"
	"github.com/mcpctl/mcpctl/internal/cli/completion"
	"github.com/mcpctl/mcpctl/internal/cli/create"
	"github.com/mcpctl/mcpctl/internal/cli/db"
	"github.com/mcpctl/mcpctl/internal/cli/delete"
	"github.com/mcpctl/mcpctl/internal/cli/describe"
	"github.com/mcpctl/mcpctl/internal/cli/drift"
	"github.com/mcpctl/mcpctl/internal/cli/env"
	"github.com/mcpctl/mcpctl/internal/cli/exec"
	"github.com/mcpctl/mcpctl/internal/cli/get"
	"github.com/mcpctl/mcpctl/internal/cli/graph"
	"github.com/mcpctl/mcpctl/internal/cli/history"
	"github.com/mcpctl/mcpctl/internal/cli/lock"
	"github.com/mcpctl/mcpctl/internal/cli/migrate"
	plancmd "github.com/mcpctl/mcpctl/internal/cli/plan"
	versioncmd "github.com/mcpctl/mcpctl/internal/cli/version"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// Help groups, in the order `mcpctl --help` lists them.
const (
	groupReconcile = "reconcile"
	groupResources = "resources"
	groupConsume   = "consume"
	groupAdmin     = "admin"
)

var helpGroups = []*cobra.Group{
	{ID: groupReconcile, Title: "Reconcile manifests with reality:"},
	{ID: groupResources, Title: "Inspect and change resources directly:"},
	{ID: groupConsume, Title: "Hand secrets to programs:"},
	{ID: groupAdmin, Title: "Administer the installation:"},
}

// commandSet lists every top-level command with its help group. This is the
// one place a new command is registered: plan, apply, drift, migrate and
// graph go in groupReconcile as pkg/plan and pkg/apply provide them, e.g.
//
//	{groupReconcile, plancmd.NewCmdPlan(f, nil)},
func commandSet(f *cmdutil.Factory) []struct {
	group string
	cmd   *cobra.Command
} {
	return []struct {
		group string
		cmd   *cobra.Command
	}{
		{groupReconcile, plancmd.NewCmdPlan(f, nil)},
		{groupReconcile, applycmd.NewCmdApply(f, nil)},
		{groupReconcile, drift.NewCmdDrift(f, nil)},
		{groupReconcile, migrate.NewCmdMigrate(f)},
		{groupReconcile, graph.NewCmdGraph(f, nil)},
		{groupResources, get.NewCmdGet(f, nil)},
		{groupResources, describe.NewCmdDescribe(f)},
		{groupResources, create.NewCmdCreate(f)},
		{groupResources, delete.NewCmdDelete(f)},
		{groupConsume, exec.NewCmdExec(f, nil)},
		{groupConsume, env.NewCmdEnv(f, nil)},
		{groupAdmin, history.NewCmdHistory(f, nil)},
		{groupAdmin, lock.NewCmdLock(f)},
		{groupAdmin, db.NewCmdDB(f)},
		{"", versioncmd.NewCmdVersion(f, nil)},
		{"", completion.NewCmdCompletion(f, nil)},
	}
}

// NewCmdRoot builds the mcpctl command tree.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	opts := f.Options
	root := &cobra.Command{
		Use:   "mcpctl <command> [flags]",
		Short: "GitOps for secret storage",
		Long: `mcpctl keeps secret backends (a Postgres column, OpenBao / Vault KV v2) and the
placement of every secret in YAML manifests. plan shows what differs between the
manifests and reality, apply makes reality match, and moving a secret between
backends is a crash-safe migration.

State lives in one Postgres schema. Connection: --database-url, else
MCPCTL_DATABASE_URL, else DATABASE_URL, else the libpq PG* variables.

Exit codes: 0 success (no changes), 1 error, 2 changes or drift found.`,
		Example: `  # Prepare the database (creates the schema and the plaintext/default backend)
  mcpctl db migrate

  # Store a secret on the default backend and look at it (never at its values)
  mcpctl create secret openai --from-literal API_KEY=sk-...
  mcpctl get secrets
  mcpctl describe secret openai

  # Run a program with the secret's keys as environment variables
  mcpctl exec --secret openai -- python app.py`,
		Version:       f.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("schema") {
				if s := f.Getenv("MCPCTL_SCHEMA"); s != "" {
					opts.Schema = s
				}
			} else if opts.Schema == "" {
				return cmdutil.FlagErrorf("--schema must not be empty (the default is %q)", state.DefaultSchema)
			}
			if !cmd.Flags().Changed("log-level") {
				if s := f.Getenv("MCPCTL_LOG_LEVEL"); s != "" {
					opts.LogLevel = s
				}
			}
			return f.Configure()
		},
	}
	root.SetVersionTemplate("mcpctl version {{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true // `mcpctl completion` is ours
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})

	pf := root.PersistentFlags()
	pf.StringVar(&opts.DatabaseURL, "database-url", "", "Postgres connection string (default: $MCPCTL_DATABASE_URL, $DATABASE_URL, then PG* variables)")
	pf.StringVar(&opts.Schema, "schema", opts.Schema, "Postgres schema holding mcpctl's state (env MCPCTL_SCHEMA)")
	pf.BoolVar(&opts.NoColor, "no-color", false, "Disable colour (also NO_COLOR); colour is only ever used on a terminal")
	pf.StringVar(&opts.LogLevel, "log-level", opts.LogLevel, "Log level on stderr: debug, info, warn, error (env MCPCTL_LOG_LEVEL)")
	pf.DurationVar(&opts.LockTimeout, "lock-timeout", opts.LockTimeout, "How long a writer waits for another writer's lock before failing")
	_ = root.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))

	used := map[string]bool{}
	for _, c := range commandSet(f) {
		c.cmd.GroupID = c.group
		if c.group == groupResources {
			// get, describe, create, delete: `get secret/openai` works.
			cmdutil.MarkKindVerb(c.cmd)
		}
		root.AddCommand(c.cmd)
		used[c.group] = true
	}
	// Only groups with commands, so help shows no empty headings.
	for _, g := range helpGroups {
		if used[g.ID] {
			root.AddGroup(g)
		}
	}
	return root
}
