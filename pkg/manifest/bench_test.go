package manifest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// BenchmarkLoad10k loads one stream of 10,000 Secret documents with two
// managed keys each, the size the performance issue plans against.
func BenchmarkLoad10k(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("apiVersion: mcpctl/v1\nkind: SecretBackend\nmetadata: {name: kv}\nspec: {type: testkv}\n")
	for i := range 10_000 {
		fmt.Fprintf(&buf, "---\napiVersion: mcpctl/v1\nkind: Secret\nmetadata:\n  name: secret-%d\n  labels: {team: t%d}\nspec:\n  backend: kv\n  data:\n    USER: {fromEnv: USER_%d}\n    PASSWORD: {fromEnv: PASSWORD_%d}\n", i, i%10, i, i)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		set, err := Load(context.Background(), []string{"-"}, LoadOptions{Stdin: bytes.NewReader(data)})
		if err != nil {
			b.Fatal(err)
		}
		if len(set.Secrets) != 10_000 {
			b.Fatalf("%d secrets", len(set.Secrets))
		}
	}
}
