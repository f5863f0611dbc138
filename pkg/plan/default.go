package plan

import (
	"github.com/mcpctl/mcpctl/pkg/manifest"
	"github.com/mcpctl/mcpctl/pkg/state"
)

// desiredDefault is the backend that is the default once the plan is
// applied, where every Secret that names no backend lives:
//
//  1. the declared backend with spec.default (isDefault) true;
//  2. else the backend that is the default in state, when no manifest
//     declares it and --prune does not delete it: the manifests say nothing
//     about it, so an imperative `mcpctl create secretbackend --default`
//     (the original mcpctl's way to choose it) stays in force;
//  3. else the bootstrap backend.
//
// A declared backend without spec.default is not the default: a declaration
// is the whole resource, as `get -o yaml` prints it.
//
// Any backend type may be the default; the credential cycle that a token
// Secret naming no backend would then form is reported by checkCycles.
func desiredDefault(desired *manifest.Set, rows []state.Backend, opts Options) string {
	for _, b := range desired.Backends {
		if b.Default {
			return b.Name
		}
	}
	for _, r := range rows {
		if !r.IsDefault {
			continue
		}
		if _, declared := desired.Backend(r.Name); declared {
			break
		}
		if r.Name != state.BootstrapBackend && opts.Prune && opts.Selector.Matches(r.Labels) {
			break // pruned
		}
		return r.Name
	}
	return state.BootstrapBackend
}
