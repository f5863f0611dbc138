package plan

import "io"

// RenderJSON writes the plan's JSON document (format_version "1",
// documented in docs/plan-json.md). It is byte for byte what Save writes, so
// the output of `plan -o json` is also a saved plan apply can run.
func RenderJSON(w io.Writer, p *Plan) error { return Save(w, p) }
