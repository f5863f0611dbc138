package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// The manifest tests register their own backend types instead of importing
// the real driver packages: the loader only needs the registry's names,
// aliases and validators, and the real drivers' validators belong to their
// own tests. The names are the real ones because the rules under test are
// about them (only "plaintext" may be the default; the original mcpctl's
// flat config translates to the openbao shape; "vault" is an alias). This
// test binary must therefore never import pkg/drivers/plaintext or
// pkg/drivers/openbao (Register would panic on the duplicate).
func init() {
	noDriver := func(context.Context, drivers.Config) (drivers.Driver, error) {
		return nil, errors.New("test type: no driver")
	}
	drivers.Register(drivers.Type{
		Name: "plaintext",
		Validate: func(raw json.RawMessage) ([]drivers.SecretRef, error) {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return nil, err
			}
			for k := range m {
				return nil, fmt.Errorf("unknown key %q: plaintext takes no config", k)
			}
			return nil, nil
		},
		New: noDriver,
	})
	drivers.Register(drivers.Type{
		Name:     "openbao",
		Aliases:  []string{"vault"},
		Validate: validateFakeOpenBao,
		New:      noDriver,
	})
	drivers.Register(drivers.Type{
		Name:     "testkv",
		Validate: func(json.RawMessage) ([]drivers.SecretRef, error) { return nil, nil },
		New:      noDriver,
	})
}

// validateFakeOpenBao mirrors the documented openbao config keys.
func validateFakeOpenBao(raw json.RawMessage) ([]drivers.SecretRef, error) {
	var c struct {
		URL        string `json:"url"`
		Mount      string `json:"mount"`
		PathPrefix string `json:"pathPrefix"`
		Namespace  string `json:"namespace"`
		TLS        *struct {
			CACertFile string `json:"caCertFile"`
		} `json:"tls"`
		Auth *struct {
			Method         string             `json:"method"`
			TokenSecretRef *drivers.SecretRef `json:"tokenSecretRef"`
		} `json:"auth"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", drivers.ErrInvalidConfig, err)
	}
	if c.URL == "" {
		return nil, fmt.Errorf("%w: url is required", drivers.ErrInvalidConfig)
	}
	if c.Auth != nil && c.Auth.TokenSecretRef != nil {
		return []drivers.SecretRef{*c.Auth.TokenSecretRef}, nil
	}
	return nil, nil
}
