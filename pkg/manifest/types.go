// Package manifest loads and validates mcpctl manifests (files, directories,
// stdin; YAML or JSON; multi-document; kind: List; the original mcpctl's flat
// and grouped forms) into typed resources.
//
// Decoding is strict and positional: every document is parsed into a YAML
// node tree first and then walked field by field, so each error carries the
// file, the document index and the line of the offending node, and every
// error of a load is reported at once (see Errors). The reference for users
// is docs/manifest-reference.md.
package manifest

import (
	"encoding/json"
	"strconv"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// APIVersion is the canonical apiVersion.
const APIVersion = "mcpctl/v1"

// Kinds.
const (
	KindSecretBackend = "SecretBackend"
	KindSecret        = "Secret"
	KindList          = "List"
)

// BootstrapBackend is the name of the plaintext backend every installation
// has. It needs no manifest; a Secret may name it in spec.backend, and a
// manifest may declare it only with type plaintext.
const BootstrapBackend = "default"

// PlaintextType is the type of the bootstrap backend. Any type may be the
// default backend (as in the original mcpctl); the bootstrap backend is
// plaintext because it is the trust root that needs no credentials.
const PlaintextType = "plaintext"

// AnnotationPreventDestroy protects a resource from deletion; its value must
// be "true" or "false".
const AnnotationPreventDestroy = "mcpctl/prevent-destroy"

// Source is where a resource was declared.
type Source struct {
	File     string // path as given (or "-" for stdin)
	Document int    // 0-based document index within the file; -1 for the file itself
	Line     int    // 1-based line of the document's start (or the field); 0 if unknown
}

// String renders file:line (document N) with N counted from 1, the way a
// reader counts `---` separators.
func (s Source) String() string {
	out := s.File
	if out == "" {
		out = "<input>"
	}
	if s.Line > 0 {
		out += ":" + strconv.Itoa(s.Line)
	}
	if s.Document >= 0 {
		out += " (document " + strconv.Itoa(s.Document+1) + ")"
	}
	return out
}

// Backend is a declared SecretBackend.
type Backend struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Type        string // canonical driver type ("vault" resolved to "openbao")
	Default     bool
	Description string
	// Config is spec.config as compact JSON with sorted keys ("{}" when
	// absent), validated by the driver registry.
	Config json.RawMessage
	// Deps are the Secrets the config refers to (e.g. auth.tokenSecretRef),
	// as reported by the driver's validator. Each names a Secret declared in
	// the manifests or, checked by plan, one that exists only in state (made
	// with `mcpctl create secret`).
	Deps   []drivers.SecretRef
	Source Source
}

// ValueSource says where one managed value comes from. Exactly one is set.
type ValueSource struct {
	FromEnv  string  `json:"fromEnv,omitempty"`
	FromFile string  `json:"fromFile,omitempty"`
	Value    *string `json:"value,omitempty"`
}

// Secret is a declared Secret.
type Secret struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	// Backend is spec.backend; empty means "the default backend".
	Backend string
	// BackendAt is where Backend is written (zero when it is not), so a
	// plan error about the placement points at that line.
	BackendAt Source
	// Data is spec.data, sorted by key; nil means values are unmanaged
	// (placement only). See Data.
	Data Data
	// BaseDir is the directory fromFile paths are relative to (the manifest
	// file's directory), and Root the directory they may not escape (the
	// directory given to -f, or the file's directory for a file argument).
	// FilesRoot, when set (--files-root), is a second directory fromFile
	// paths may point into. All three are absolute.
	BaseDir   string
	Root      string
	FilesRoot string
	Source    Source
}

// Managed reports whether the manifest declares the secret's values.
func (s Secret) Managed() bool { return s.Data != nil }

// Set is the result of a load: every declared resource.
type Set struct {
	// Backends and Secrets are in load order (files in argument order,
	// directories walked in lexical order, documents in file order).
	Backends []Backend
	Secrets  []Secret
	// Warnings are non-fatal findings (e.g. a literal `value:`), each naming
	// file:line.
	Warnings []string
	// Digest is a SHA-256 over the canonical form of all resources, recorded
	// in saved plans. See ComputeDigest.
	Digest string
}

// Backend returns the declared backend with the given name.
func (s *Set) Backend(name string) (Backend, bool) {
	for _, b := range s.Backends {
		if b.Name == name {
			return b, true
		}
	}
	return Backend{}, false
}

// Secret returns the declared secret with the given name.
func (s *Set) Secret(name string) (Secret, bool) {
	for _, x := range s.Secrets {
		if x.Name == name {
			return x, true
		}
	}
	return Secret{}, false
}
