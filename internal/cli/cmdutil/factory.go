// Package cmdutil holds what every mcpctl command shares: the Factory that
// hands out dependencies (streams, the state store, the backend pool), the
// global options, error types that carry exit codes and hints, the writer
// lock helper, prompts and output printers.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mcpctl/mcpctl/pkg/backends"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// GlobalOptions are the root command's persistent flags.
type GlobalOptions struct {
	DatabaseURL string
	Schema      string
	NoColor     bool
	LogLevel    string
	LockTimeout time.Duration
}

// Factory builds the dependencies of one invocation. Commands copy the
// function fields they need into their Options struct, so tests replace
// them without a database.
type Factory struct {
	IOStreams *IOStreams
	Getenv    func(string) string
	Version   string
	Options   *GlobalOptions
	// Log goes to stderr at --log-level; it never receives secret values.
	Log *slog.Logger

	// Store opens the state store once per run.
	Store func(ctx context.Context) (*state.Store, error)
	// Pool returns the run's backend pool (drivers opened lazily, each
	// backend logged in to once).
	Pool func(ctx context.Context) (*backends.Pool, error)

	mu       sync.Mutex
	store    *state.Store
	storeErr error
	pool     *backends.Pool
}

// New returns a Factory for the given streams and environment.
func New(ios *IOStreams, getenv func(string) string, version string) *Factory {
	f := &Factory{
		IOStreams: ios,
		Getenv:    getenv,
		Version:   version,
		Options:   &GlobalOptions{Schema: state.DefaultSchema, LogLevel: "warn", LockTimeout: 30 * time.Second},
		Log:       slog.New(slog.NewTextHandler(ios.ErrOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	f.Store = f.openStore
	f.Pool = f.openPool
	return f
}

// ParseLogLevel maps --log-level to a slog level.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("invalid --log-level %q: use debug, info, warn or error", s)
}

// Configure applies the parsed global options: logger, colour. The root
// command calls it before any command runs.
func (f *Factory) Configure() error {
	lvl, err := ParseLogLevel(f.Options.LogLevel)
	if err != nil {
		return &FlagError{Err: err}
	}
	if f.Options.LockTimeout < 0 {
		return FlagErrorf("invalid --lock-timeout %s: must not be negative", f.Options.LockTimeout)
	}
	f.Log = slog.New(slog.NewTextHandler(f.IOStreams.ErrOut, &slog.HandlerOptions{Level: lvl}))
	f.IOStreams.SetColorDisabled(f.Options.NoColor || f.Getenv("NO_COLOR") != "" || f.Getenv("TERM") == "dumb")
	return nil
}

func (f *Factory) openStore(ctx context.Context) (*state.Store, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.store != nil || f.storeErr != nil {
		return f.store, f.storeErr
	}
	url, source := state.ResolveURL(f.Options.DatabaseURL)
	f.Log.Debug("connecting to Postgres", "from", source, "schema", f.Options.Schema)
	s, err := state.Open(ctx, state.Options{URL: url, Source: source, Schema: f.Options.Schema})
	if err != nil {
		if source == state.SourceLibpq {
			err = WithHint(err, "point mcpctl at Postgres with --database-url or MCPCTL_DATABASE_URL")
		}
		f.storeErr = err
		return nil, err
	}
	f.store = s
	return s, nil
}

func (f *Factory) openPool(ctx context.Context) (*backends.Pool, error) {
	s, err := f.Store(ctx)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pool == nil {
		f.pool = backends.New(s, driverDeps{Store: s, log: f.Log})
	}
	return f.pool, nil
}

// driverDeps is what driver factories receive as drivers.Config.Deps: the
// store, whose rows the plaintext driver keeps values in, and the run's
// logger (openbao's LoggerProvider), so driver logs honour --log-level.
type driverDeps struct {
	*state.Store
	log *slog.Logger
}

func (d driverDeps) Logger() *slog.Logger { return d.log }

// Close releases the pool's drivers and the store's connections.
func (f *Factory) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	if f.pool != nil {
		errs = append(errs, f.pool.Close())
		f.pool = nil
	}
	if f.store != nil {
		f.store.Close()
		f.store = nil
	}
	return errors.Join(errs...)
}
