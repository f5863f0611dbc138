// Package manifest loads and validates mcpctl manifests (files, directories,
// stdin; YAML or JSON; multi-document; kind: List; the original mcpctl's flat
// and grouped forms) into typed resources.
package manifest

import "encoding/json"

// APIVersion is the canonical apiVersion.
const APIVersion = "mcpctl/v1"

// Kinds.
const (
	KindSecretBackend = "SecretBackend"
	KindSecret        = "Secret"
)

// Source is where a resource was declared.
type Source struct {
	File     string // path as given (or "-" for stdin)
	Document int    // 0-based document index within the file
	Line     int    // 1-based line of the document's start (or the field)
}

func (s Source) String() string {
	return s.File + ":" + itoa(s.Line) + " (document " + itoa(s.Document) + ")"
}

// Backend is a declared SecretBackend.
type Backend struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Type        string // canonical driver type ("vault" resolved to "openbao")
	Default     bool
	Description string
	Config      json.RawMessage // spec.config, validated by the driver registry
	Source      Source
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
	// Data is spec.data; nil means values are unmanaged (placement only).
	Data map[string]ValueSource
	// BaseDir is the directory fromFile paths are relative to (the manifest
	// file's directory), and Root the directory they may not escape.
	BaseDir string
	Root    string
	Source  Source
}

// Set is the result of a load: every declared resource.
type Set struct {
	Backends []Backend
	Secrets  []Secret
	// Warnings are non-fatal findings (e.g. a literal `value:`).
	Warnings []string
	// Digest is a SHA-256 over the canonical form of all resources, recorded
	// in saved plans.
	Digest string
}
