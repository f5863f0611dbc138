// Package openbao is the secret backend driver for OpenBao and HashiCorp
// Vault KV v2 (spec.type "openbao", alias "vault"), on
// github.com/hashicorp/vault/api.
//
// Objects live at <mount>/data/<pathPrefix>/<secret name>. custom_metadata
// records who owns an object and the key names of the version mcpctl wrote,
// so Stat is one metadata read in the common case and never reads values.
// Every write is check-and-set; a write retried after a lost response is
// reconciled by re-reading, never repeated blindly. See
// docs/secret-backends.md for configuration and policies.
package openbao

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// TypeName is the canonical spec.type; Alias is the accepted alternative.
const (
	TypeName = "openbao"
	Alias    = "vault"
)

func init() {
	drivers.Register(drivers.Type{
		Name:     TypeName,
		Aliases:  []string{Alias},
		Validate: validate,
		New: func(ctx context.Context, cfg drivers.Config) (drivers.Driver, error) {
			return New(ctx, cfg)
		},
	})
}

// LoggerProvider may be implemented by drivers.Config.Deps to give the
// driver a logger; a *slog.Logger as Deps works too. Without either the
// driver logs to slog.Default().
type LoggerProvider interface {
	Logger() *slog.Logger
}

// Driver is one configured OpenBao/Vault KV v2 backend. It is safe for
// concurrent use; it logs in on first use and keeps its token for its
// lifetime (renewing it when renewable), so create one per backend per run.
type Driver struct {
	name     string
	cfg      Config
	resolver drivers.SecretResolver
	conn     *conn
	log      *slog.Logger

	auth authState

	bulkMu sync.Mutex
	// bulk is the cached answer to "does the server serve detailed-metadata
	// LIST?": 0 unknown, 1 yes, -1 no.
	bulk int
	// listPageSize overrides defaultPageSize (tests).
	listPageSize int
	// noVersionDelete is set once the token was refused
	// <mount>/delete/<path> (a policy from before mcpctl used it): Delete
	// with a Version then reads metadata and soft-deletes the current
	// version only if it is still that version.
	noVersionDelete atomic.Bool

	closeOnce sync.Once
}

var (
	_ drivers.Driver     = (*Driver)(nil)
	_ drivers.BulkStater = (*Driver)(nil)
	_ drivers.Locator    = (*Driver)(nil)
	_ drivers.Checker    = (*Driver)(nil)
	_ drivers.Closer     = (*Driver)(nil)
)

// New builds a driver from cfg. It does no I/O: the token is resolved and
// checked on first use.
func New(_ context.Context, cfg drivers.Config) (*Driver, error) {
	c, err := ParseConfig(cfg.Raw)
	if err != nil {
		return nil, &drivers.Error{Backend: cfg.Name, Op: "configure", Kind: drivers.ErrInvalidConfig, Err: unwrapInvalid(err)}
	}
	log := loggerFrom(cfg.Deps).With("backend", cfg.Name)
	cn, err := newConn(c, log)
	if err != nil {
		return nil, &drivers.Error{Backend: cfg.Name, Op: "configure", Kind: drivers.ErrInvalidConfig, Err: unwrapInvalid(err)}
	}
	return &Driver{name: cfg.Name, cfg: c, resolver: cfg.Resolver, conn: cn, log: log}, nil
}

// unwrapInvalid drops the ErrInvalidConfig prefix of a config error when it
// goes into a drivers.Error whose Kind says it already.
func unwrapInvalid(err error) error {
	if s, ok := strings.CutPrefix(err.Error(), drivers.ErrInvalidConfig.Error()+": "); ok {
		return errors.New(s)
	}
	return err
}

func loggerFrom(deps any) *slog.Logger {
	switch d := deps.(type) {
	case *slog.Logger:
		if d != nil {
			return d
		}
	case LoggerProvider:
		if l := d.Logger(); l != nil {
			return l
		}
	}
	return slog.Default()
}

// Config returns the parsed configuration with defaults filled in.
func (d *Driver) Config() Config { return d.cfg }

// Location is the object's KV v2 API path, recorded in state as external_ref.
func (d *Driver) Location(ref drivers.Ref) string { return d.dataPath(ref) }

// Close stops the token renewer, waiting until no renewal request can
// leave any more, and drops idle connections. It is safe to call more than
// once.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		d.auth.stop()
		if t, ok := d.conn.httpClient.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	})
	return nil
}

// Paths. Refs are secret names; a "/" in one nests it.
func (d *Driver) objectPath(ref drivers.Ref) string { return d.cfg.PathPrefix + "/" + string(ref) }
func (d *Driver) dataPath(ref drivers.Ref) string {
	return d.cfg.Mount + "/data/" + d.objectPath(ref)
}
func (d *Driver) metadataPath(ref drivers.Ref) string {
	return d.cfg.Mount + "/metadata/" + d.objectPath(ref)
}
func (d *Driver) deletePath(ref drivers.Ref) string {
	return d.cfg.Mount + "/delete/" + d.objectPath(ref)
}
func (d *Driver) subkeysPath(ref drivers.Ref) string {
	return d.cfg.Mount + "/subkeys/" + d.objectPath(ref)
}

// checkRef refuses refs that would escape the prefix or address a folder.
func checkRef(ref drivers.Ref) error {
	s := string(ref)
	if s == "" {
		return errors.New("empty object name")
	}
	if strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") {
		return errors.New("object name must not start or end with /")
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return errors.New("object name has an empty, . or .. path segment")
		}
	}
	if strings.ContainsAny(s, "?#%\\\x00\r\n") {
		return errors.New("object name must not contain ?, #, %, \\ or control characters")
	}
	return nil
}

// fail builds the driver error for op on ref.
func (d *Driver) fail(op string, ref drivers.Ref, kind, err error) error {
	return &drivers.Error{Backend: d.name, Ref: ref, Op: op, Kind: kind, Err: err}
}
