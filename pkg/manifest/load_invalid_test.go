package manifest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// secretMarker is the value planted in malformed inputs: it must never
// appear in an error.
const secretMarker = "do-not-print-me"

func load(t *testing.T, paths []string, opts LoadOptions) (*Set, error) {
	t.Helper()
	return Load(context.Background(), paths, opts)
}

// errLines returns the messages of a load error, one per collected error.
func errLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want manifest.Errors: %v", err, err)
	}
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// TestLoadInvalid loads each malformed file of testdata/invalid alone and
// compares every reported error: message, file, document and line.
func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"alias-bomb.yaml", []string{
			`testdata/invalid/alias-bomb.yaml:11 (document 1): YAML aliases expand to more than 10000 nodes; refusing the document (a YAML bomb?)`,
		}},
		{"bad-apiversion.yaml", []string{
			`testdata/invalid/bad-apiversion.yaml:1 (document 1): apiVersion: unsupported "v1" (this mcpctl reads mcpctl/v1)`,
		}},
		{"bad-backend-ref-name.yaml", []string{
			`testdata/invalid/bad-backend-ref-name.yaml:5 (document 1): secret "x": spec.backend: invalid backend name "Bao"`,
		}},
		{"bad-name-long.yaml", []string{
			`testdata/invalid/bad-name-long.yaml:4 (document 1): secret "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": metadata.name: invalid name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": use lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`,
		}},
		{"bad-name-upper.yaml", []string{
			`testdata/invalid/bad-name-upper.yaml:4 (document 1): secret "Open_AI": metadata.name: invalid name "Open_AI": use lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`,
		}},
		{"binary.yaml", []string{
			`testdata/invalid/binary.yaml:3: binary data (NUL byte): not a YAML or JSON manifest (UTF-16 files are not supported; save as UTF-8)`,
		}},
		{"bootstrap-wrong-type.yaml", []string{
			`testdata/invalid/bootstrap-wrong-type.yaml:5 (document 1): backend "default": spec.type: the bootstrap backend "default" is always of type plaintext`,
		}},
		{"complex-key.yaml", []string{
			`testdata/invalid/complex-key.yaml:6 (document 1): secret "x": metadata.labels: keys must be strings, got a list`,
		}},
		{"config-inf.yaml", []string{
			`testdata/invalid/config-inf.yaml:7 (document 1): backend "kv": spec.config.ratio: must be a finite number`,
			`testdata/invalid/config-inf.yaml:8 (document 1): backend "kv": spec.config.when: unsupported value: a value tagged "!custom"`,
		}},
		{"config-not-mapping.yaml", []string{
			`testdata/invalid/config-not-mapping.yaml:6 (document 1): backend "kv": spec.config: must be a mapping, got a string`,
		}},
		{"data-key-invalid.yaml", []string{
			`testdata/invalid/data-key-invalid.yaml:6 (document 1): secret "x": spec.data.bad key!: invalid key name "bad key!": use letters, digits, "-", "_" and "." (at most 253 characters)`,
		}},
		{"deep-nesting.yaml", []string{
			`testdata/invalid/deep-nesting.yaml:7 (document 1): nested deeper than 64 levels`,
		}},
		{"driver-config-invalid.yaml", []string{
			`testdata/invalid/driver-config-invalid.yaml:7 (document 1): backend "bao": spec.config: invalid backend config: json: unknown field "address"`,
		}},
		{"duplicate-key.yaml", []string{
			`testdata/invalid/duplicate-key.yaml:5 (document 1): secret "x": metadata.name: duplicate key (first at line 4)`,
		}},
		{"fromenv-bad-name.yaml", []string{
			`testdata/invalid/fromenv-bad-name.yaml:6 (document 1): secret "x": spec.data.API_KEY.fromEnv: invalid environment variable name "1OPENAI-KEY"`,
		}},
		{"fromfile-absolute.yaml", []string{
			`testdata/invalid/fromfile-absolute.yaml:6 (document 1): secret "x": spec.data.PASSWD.fromFile: absolute path "/etc/passwd" is not allowed: fromFile paths are relative to the manifest's directory (--files-root allows paths inside it)`,
		}},
		{"fromfile-empty.yaml", []string{
			`testdata/invalid/fromfile-empty.yaml:6 (document 1): secret "x": spec.data.KEY.fromFile: must not be empty`,
		}},
		{"fromfile-escape.yaml", []string{
			`testdata/invalid/fromfile-escape.yaml:6 (document 1): secret "x": spec.data.KEY.fromFile: path "../../../../.ssh/id_rsa" escapes "testdata/invalid", the directory given to -f (--files-root widens it)`,
		}},
		{"invalid-utf8.yaml", []string{
			`testdata/invalid/invalid-utf8.yaml:5: invalid UTF-8: manifests must be UTF-8 text`,
		}},
		{"json-syntax.json", []string{
			`testdata/invalid/json-syntax.json:4 (document 1): syntax error: did not find expected ',' or '}'`,
		}},
		{"kind-case.yaml", []string{
			`testdata/invalid/kind-case.yaml:2 (document 1): kind: unknown kind "secret" for apiVersion mcpctl/v1 (did you mean "Secret"? lower-case kinds belong to the original mcpctl format, which has no apiVersion)`,
		}},
		{"label-key-invalid.yaml", []string{
			`testdata/invalid/label-key-invalid.yaml:6 (document 1): secret "x": metadata.labels.-team: invalid label key "-team": [prefix/]name, name at most 63 characters of letters, digits, "-", "_", "."`,
		}},
		{"label-value-number.yaml", []string{
			`testdata/invalid/label-value-number.yaml:6 (document 1): secret "openai": metadata.labels.version: must be a string, got a number (quote it to make it a string)`,
		}},
		{"legacy-config-unknown.yaml", []string{
			`testdata/invalid/legacy-config-unknown.yaml:6 (document 1): backend "bao": config.token: unknown field (known: url, tokenSecretRef, namespace, mount, pathPrefix)`,
		}},
		{"legacy-grouped-kind-mismatch.yaml", []string{
			`testdata/invalid/legacy-grouped-kind-mismatch.yaml:5 (document 1): secret "x": kind: must be "secret" here, got "secretbackend"`,
		}},
		{"legacy-grouped-not-list.yaml", []string{
			`testdata/invalid/legacy-grouped-not-list.yaml:2 (document 1): secretbackends: must be a list, got a mapping`,
		}},
		{"legacy-number-value.yaml", []string{
			`testdata/invalid/legacy-number-value.yaml:4 (document 1): secret "db": data.PORT: must be a string or a mapping with one of fromEnv, fromFile or value, got a number (quote it to make it a string)`,
		}},
		{"legacy-token-ref-bad.yaml", []string{
			`testdata/invalid/legacy-token-ref-bad.yaml:6 (document 1): backend "bao": config.tokenSecretRef: must be {name: SECRET, key: KEY} or "SECRET/KEY", got "bao-token"`,
		}},
		{"legacy-unknown-field.yaml", []string{
			`testdata/invalid/legacy-unknown-field.yaml:3 (document 1): backend "bao": config: invalid backend config: url is required`,
			`testdata/invalid/legacy-unknown-field.yaml:4 (document 1): backend "bao": address: unknown field (known: kind, name, type, description, isDefault, config)`,
		}},
		{"list-in-list.yaml", []string{
			`testdata/invalid/list-in-list.yaml:5 (document 1): items[0]: kind: a List cannot contain a List`,
		}},
		{"list-item-missing-kind.yaml", []string{
			`testdata/invalid/list-item-missing-kind.yaml:4 (document 1): items[0]: kind: required (SecretBackend, Secret or List)`,
		}},
		{"list-item-scalar.yaml", []string{
			`testdata/invalid/list-item-scalar.yaml:7 (document 1): items[1]: must be a mapping with apiVersion and kind, got a number`,
			`testdata/invalid/list-item-scalar.yaml:10 (document 1): secret (items[2]): metadata.name: required`,
		}},
		{"list-items-not-list.yaml", []string{
			`testdata/invalid/list-items-not-list.yaml:4 (document 1): items: must be a list, got a mapping`,
		}},
		{"merge-key.yaml", []string{
			`testdata/invalid/merge-key.yaml:7 (document 1): merge keys (<<) are not supported; write the fields out`,
		}},
		{"missing-apiversion.yaml", []string{
			`testdata/invalid/missing-apiversion.yaml:1 (document 1): apiVersion: required (mcpctl/v1)`,
		}},
		{"missing-metadata.yaml", []string{
			`testdata/invalid/missing-metadata.yaml:1 (document 1): secret: metadata.name: required`,
		}},
		{"missing-name.yaml", []string{
			`testdata/invalid/missing-name.yaml:4 (document 1): secret: metadata.name: required`,
		}},
		{"missing-type.yaml", []string{
			`testdata/invalid/missing-type.yaml:6 (document 1): backend "bao": spec.type: required (one of: openbao, plaintext, testkv)`,
		}},
		{"multi-errors.yaml", []string{
			`testdata/invalid/multi-errors.yaml:9 (document 2): secret "BAD": metadata.name: invalid name "BAD": use lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`,
			`testdata/invalid/multi-errors.yaml:13 (document 2): secret "BAD": spec.data.A: exactly one of fromEnv, fromFile or value may be set, found fromEnv and fromFile`,
			`testdata/invalid/multi-errors.yaml:22 (document 4): backend "kv": spec.type: unknown backend type "nope" (known: openbao, plaintext, testkv)`,
			`testdata/invalid/multi-errors.yaml:23 (document 4): backend "kv": spec.default: must be true or false, got a number`,
		}},
		{"not-a-manifest.yaml", []string{
			`testdata/invalid/not-a-manifest.yaml:1 (document 1): not an mcpctl manifest: expected apiVersion: mcpctl/v1 with kind: SecretBackend, Secret or List (or the original mcpctl's kind: secretbackend / kind: secret documents, or secretbackends: / secrets: lists)`,
		}},
		{"prevent-destroy-bad.yaml", []string{
			`testdata/invalid/prevent-destroy-bad.yaml:6 (document 1): secret "x": metadata.annotations.mcpctl/prevent-destroy: must be "true" or "false"`,
		}},
		{"scalar-doc.yaml", []string{
			`testdata/invalid/scalar-doc.yaml:6 (document 2): a manifest document must be a mapping with apiVersion and kind, got a string`,
		}},
		{"second-default.yaml", []string{
			`testdata/invalid/second-default.yaml:11 (document 2): backend "two": spec.default: second default backend: backend "one" is already the default (testdata/invalid/second-default.yaml:4 (document 1)); only one backend may be the default`,
		}},
		{"syntax-error.yaml", []string{
			`testdata/invalid/syntax-error.yaml:9 (document 2): syntax error: mapping values are not allowed in this context`,
		}},
		{"token-secret-missing-key.yaml", []string{
			`testdata/invalid/token-secret-missing-key.yaml:7 (document 1): backend "bao": spec.config: token secret "bao-token" has no key "token" (it declares: TOKEN)`,
		}},
		{"unknown-field-metadata.yaml", []string{
			`testdata/invalid/unknown-field-metadata.yaml:5 (document 1): secret "openai": metadata.namespace: unknown field (known: name, labels, annotations)`,
		}},
		{"unknown-field-spec.yaml", []string{
			`testdata/invalid/unknown-field-spec.yaml:6 (document 1): secret "openai": spec.bakend: unknown field (known: backend, data)`,
		}},
		{"unknown-field-top.yaml", []string{
			`testdata/invalid/unknown-field-top.yaml:1 (document 1): backend "bao": spec: required (with at least spec.type)`,
			`testdata/invalid/unknown-field-top.yaml:5 (document 1): backend "bao": specs: unknown field (did you mean "spec"?) (known: apiVersion, kind, metadata, spec)`,
		}},
		{"unknown-kind.yaml", []string{
			`testdata/invalid/unknown-kind.yaml:2 (document 1): kind: unknown kind "ConfigMap" (known: SecretBackend, Secret, List)`,
		}},
		{"unknown-type.yaml", []string{
			`testdata/invalid/unknown-type.yaml:6 (document 1): backend "bao": spec.type: unknown backend type "consul" (known: openbao, plaintext, testkv)`,
		}},
		{"value-number.yaml", []string{
			`testdata/invalid/value-number.yaml:6 (document 1): secret "x": spec.data.PORT.value: must be a string, got a number (quote it to make it a string)`,
			`testdata/invalid/value-number.yaml:7 (document 1): secret "x": spec.data.EMPTY.value: must be a string, got null (write value: "" for an empty value)`,
		}},
		{"valuesource-none.yaml", []string{
			`testdata/invalid/valuesource-none.yaml:6 (document 1): secret "x": spec.data.API_KEY: exactly one of fromEnv, fromFile or value is required`,
		}},
		{"valuesource-plain.yaml", []string{
			`testdata/invalid/valuesource-plain.yaml:6 (document 1): secret "x": spec.data.API_KEY: must be a mapping with one of fromEnv, fromFile or value, got a string (a plain value must be written {value: ...})`,
		}},
		{"valuesource-two.yaml", []string{
			`testdata/invalid/valuesource-two.yaml:7 (document 1): secret "x": spec.data.API_KEY: exactly one of fromEnv, fromFile or value may be set, found fromEnv and value`,
		}},
		{"valuesource-unknown.yaml", []string{
			`testdata/invalid/valuesource-unknown.yaml:6 (document 1): secret "x": spec.data.API_KEY.fromenv: unknown field (did you mean "fromEnv"?) (known: fromEnv, fromFile, value)`,
		}},
		{"wrong-type-default.yaml", []string{
			`testdata/invalid/wrong-type-default.yaml:7 (document 1): backend "local": spec.default: must be true or false, got a string (remove the quotes)`,
		}},
		{"wrong-type-labels.yaml", []string{
			`testdata/invalid/wrong-type-labels.yaml:5 (document 1): secret "openai": metadata.labels: must be a mapping, got a list`,
		}},
		{"wrong-type-name.yaml", []string{
			`testdata/invalid/wrong-type-name.yaml:4 (document 1): secret: metadata.name: must be a string, got a number (quote it to make it a string)`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join("testdata", "invalid", tt.file)
			set, err := load(t, []string{path}, LoadOptions{})
			if err == nil {
				t.Fatalf("Load(%s) succeeded with %d backends, %d secrets; want errors", path, len(set.Backends), len(set.Secrets))
			}
			if set != nil {
				t.Errorf("Load returned a Set along with errors")
			}
			got := errLines(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), secretMarker) {
				t.Errorf("error contains a secret value: %v", err)
			}
		})
	}
}

// Every file under testdata/invalid must be covered by TestLoadInvalid or
// by another named test, so a new malformed input cannot go unasserted.
func TestLoadInvalidCorpusCount(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("only %d malformed inputs in testdata/invalid, want at least 30", len(files))
	}
}

func TestLoadErrorsAcrossFiles(t *testing.T) {
	t.Parallel()
	_, err := load(t, []string{"testdata/invalid/dup-a.yaml", "testdata/invalid/dup-b.yaml"}, LoadOptions{})
	want := []string{
		`testdata/invalid/dup-b.yaml:3 (document 1): secret "openai": name: duplicate name: also declared at testdata/invalid/dup-a.yaml:3 (document 1)`,
	}
	if diff := cmp.Diff(want, errLines(t, err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestLoadErrorFields(t *testing.T) {
	t.Parallel()
	_, err := load(t, []string{"testdata/invalid/bad-backend-ref-name.yaml"}, LoadOptions{})
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("got %v, want one Errors entry", err)
	}
	want := &Error{
		Source:   Source{File: "testdata/invalid/bad-backend-ref-name.yaml", Document: 0, Line: 5},
		Resource: `secret "x"`,
		Field:    "spec.backend",
		Msg:      `invalid backend name "Bao"`,
	}
	if diff := cmp.Diff(want, errs[0]); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}
