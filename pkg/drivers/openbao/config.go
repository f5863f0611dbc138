package openbao

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// Config is spec.config of an openbao (or vault) backend. The reference for
// users is docs/secret-backends.md.
type Config struct {
	URL        string    `json:"url"`
	Mount      string    `json:"mount,omitempty"`
	PathPrefix string    `json:"pathPrefix,omitempty"`
	Namespace  string    `json:"namespace,omitempty"`
	TLS        TLSConfig `json:"tls,omitzero"`
	Timeout    Duration  `json:"timeout,omitzero"`
	// MaxRetries is how many times a failed call is retried (so at most
	// MaxRetries+1 attempts). A pointer tells "0" (no retries) from unset.
	MaxRetries *int       `json:"maxRetries,omitempty"`
	Auth       AuthConfig `json:"auth,omitzero"`
	// TokenSecretRef is the original mcpctl's spelling of
	// auth.tokenSecretRef, accepted so its backend documents load unchanged.
	TokenSecretRef *drivers.SecretRef `json:"tokenSecretRef,omitempty"`
}

// TLSConfig holds the TLS options of the connection to the server.
type TLSConfig struct {
	CACertFile         string `json:"caCertFile,omitempty"`
	ClientCertFile     string `json:"clientCertFile,omitempty"`
	ClientKeyFile      string `json:"clientKeyFile,omitempty"`
	ServerName         string `json:"serverName,omitempty"`
	InsecureSkipVerify bool   `json:"insecureSkipVerify,omitempty"`
}

// AuthConfig says how the driver gets its token.
type AuthConfig struct {
	// Method is "token" (default) or "approle".
	Method            string             `json:"method,omitempty"`
	TokenSecretRef    *drivers.SecretRef `json:"tokenSecretRef,omitempty"`
	RoleID            string             `json:"roleId,omitempty"`
	SecretIDSecretRef *drivers.SecretRef `json:"secretIdSecretRef,omitempty"`
	// MountPath is where the AppRole auth method is mounted (default "approle").
	MountPath string `json:"mountPath,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("10s").
type Duration time.Duration

// UnmarshalJSON accepts a duration string such as "10s" or "1m30s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration string such as \"10s\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Auth methods.
const (
	AuthToken   = "token"
	AuthAppRole = "approle"
)

// Defaults.
const (
	DefaultMount      = "secret"
	DefaultPathPrefix = "mcpctl"
	DefaultTimeout    = 10 * time.Second
	DefaultMaxRetries = 4
	DefaultAppRole    = "approle"
)

// ParseConfig decodes raw strictly (unknown keys, trailing data and wrong
// types are errors), checks it and fills in defaults. Errors wrap
// drivers.ErrInvalidConfig and name the offending key.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if len(bytes.TrimSpace(raw)) == 0 {
		return c, invalid("url is required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, invalid("%s", describeJSONError(err))
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return c, invalid("trailing data after the config object")
	}
	if err := c.check(); err != nil {
		return c, err
	}
	c.defaults()
	return c, nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	// "json: unknown field \"adress\"" reads well without the prefix.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", drivers.ErrInvalidConfig, fmt.Sprintf(format, args...))
}

func (c *Config) check() error {
	if c.URL == "" {
		return invalid("url is required")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid("url %q: want http(s)://host[:port]", c.URL)
	}
	if u.Path != "" && u.Path != "/" {
		return invalid("url %q: must not have a path (the driver adds /v1/...)", c.URL)
	}
	for name, p := range map[string]string{"mount": c.Mount, "pathPrefix": c.PathPrefix, "auth.mountPath": c.Auth.MountPath} {
		if err := checkPath(p); err != nil {
			return invalid("%s %q: %v", name, p, err)
		}
	}
	if strings.ContainsAny(c.Namespace, "\r\n") {
		return invalid("namespace must be one line")
	}
	if c.Timeout < 0 {
		return invalid("timeout must be positive")
	}
	if c.MaxRetries != nil && (*c.MaxRetries < 0 || *c.MaxRetries > 20) {
		return invalid("maxRetries %d: want 0..20", *c.MaxRetries)
	}
	t := c.TLS
	if (t.ClientCertFile == "") != (t.ClientKeyFile == "") {
		return invalid("tls.clientCertFile and tls.clientKeyFile go together")
	}
	if c.TokenSecretRef != nil {
		if c.Auth.TokenSecretRef != nil {
			return invalid("tokenSecretRef and auth.tokenSecretRef both set; keep auth.tokenSecretRef")
		}
		if c.Auth.Method != "" && c.Auth.Method != AuthToken {
			return invalid("tokenSecretRef needs auth.method token, not %q", c.Auth.Method)
		}
		c.Auth.TokenSecretRef, c.TokenSecretRef = c.TokenSecretRef, nil
	}
	a := c.Auth
	switch a.Method {
	case "", AuthToken:
		if a.RoleID != "" || a.SecretIDSecretRef != nil || a.MountPath != "" {
			return invalid("auth.roleId, auth.secretIdSecretRef and auth.mountPath are for method approle")
		}
		if err := checkSecretRef("auth.tokenSecretRef", a.TokenSecretRef, false); err != nil {
			return err
		}
	case AuthAppRole:
		if a.TokenSecretRef != nil {
			return invalid("auth.tokenSecretRef is for method token")
		}
		if a.RoleID == "" {
			return invalid("auth.roleId is required for method approle")
		}
		if err := checkSecretRef("auth.secretIdSecretRef", a.SecretIDSecretRef, true); err != nil {
			return err
		}
	default:
		return invalid("auth.method %q: want token or approle", a.Method)
	}
	return nil
}

func checkSecretRef(field string, r *drivers.SecretRef, required bool) error {
	switch {
	case r == nil && required:
		return invalid("%s is required", field)
	case r == nil:
		return nil
	case r.Name == "" || r.Key == "":
		return invalid("%s needs both name and key", field)
	}
	return nil
}

// checkPath accepts "" (default) or a relative KV path without empty, "." or
// ".." segments.
func checkPath(p string) error {
	if p == "" {
		return nil
	}
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return errors.New("want a path like a/b without empty, . or .. segments")
		}
	}
	if strings.ContainsAny(p, "?#%\\ \t\r\n") {
		return errors.New("must not contain ?, #, %, \\ or whitespace")
	}
	return nil
}

func (c *Config) defaults() {
	c.URL = strings.TrimRight(c.URL, "/")
	c.Mount = strings.Trim(c.Mount, "/")
	if c.Mount == "" {
		c.Mount = DefaultMount
	}
	c.PathPrefix = strings.Trim(c.PathPrefix, "/")
	if c.PathPrefix == "" {
		c.PathPrefix = DefaultPathPrefix
	}
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	if c.MaxRetries == nil {
		n := DefaultMaxRetries
		c.MaxRetries = &n
	}
	if c.Auth.Method == "" {
		c.Auth.Method = AuthToken
	}
	if c.Auth.Method == AuthAppRole && c.Auth.MountPath == "" {
		c.Auth.MountPath = DefaultAppRole
	}
	c.Auth.MountPath = strings.Trim(c.Auth.MountPath, "/")
}

// Deps returns the Secrets the config reads credentials from; the plan
// orders them before this backend (the token chicken-and-egg).
func (c Config) Deps() []drivers.SecretRef {
	var out []drivers.SecretRef
	for _, r := range []*drivers.SecretRef{c.Auth.TokenSecretRef, c.Auth.SecretIDSecretRef} {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// validate is the registry's strict validator.
func validate(raw json.RawMessage) ([]drivers.SecretRef, error) {
	c, err := ParseConfig(raw)
	if err != nil {
		return nil, err
	}
	return c.Deps(), nil
}
