package docgen

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/mcpctl/mcpctl/pkg/manifest"
)

// Every ```yaml block in docs/ and examples/ is a manifest a reader may
// copy, so each is loaded through pkg/manifest with the real drivers'
// config validators (docgen.go imports the drivers), alone (a block must make sense by itself).
//
// Blocks that are not whole manifests say so in the fence's info string,
// which Markdown renderers ignore after the language word:
//
//	```yaml fragment       part of a manifest (e.g. only a spec:)
//	```yaml not-manifest   other YAML (a CI workflow)
//	```yaml with-previous  a manifest naming resources of the previous
//	                       whole manifest in the same file: loaded with it
//
// Fragments and other YAML are still parsed as YAML, so a typo in them
// fails too.

type yamlBlock struct {
	file, info, body string
	line             int // of the opening fence
}

func docsBlocks(t *testing.T, root string) []yamlBlock {
	t.Helper()
	var blocks []yamlBlock
	for _, dir := range []string{"docs", "examples"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".md") {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			var cur *yamlBlock
			for n := 1; sc.Scan(); n++ {
				line := sc.Text()
				switch {
				case cur == nil && strings.HasPrefix(line, "```yaml"):
					cur = &yamlBlock{file: p, line: n, info: strings.TrimSpace(strings.TrimPrefix(line, "```yaml"))}
				case cur != nil && strings.HasPrefix(line, "```"):
					blocks = append(blocks, *cur)
					cur = nil
				case cur != nil:
					cur.body += line + "\n"
				}
			}
			if cur != nil {
				return fmt.Errorf("%s:%d: unclosed ```yaml block", p, cur.line)
			}
			return sc.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return blocks
}

func TestDocsYAMLExamplesLoad(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	blocks := docsBlocks(t, root)
	if len(blocks) < 5 {
		t.Fatalf("found %d ```yaml blocks under docs/ and examples/; the scanner is broken", len(blocks))
	}
	prev := map[string]string{} // file -> last whole manifest
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", strings.TrimPrefix(b.file, root+string(filepath.Separator)), b.line)
		switch b.info {
		case "fragment", "not-manifest":
			dec := yaml.NewDecoder(strings.NewReader(b.body))
			for {
				var v any
				if err := dec.Decode(&v); err != nil {
					if err.Error() != "EOF" {
						t.Errorf("%s: ```yaml %s block is not valid YAML: %v", where, b.info, err)
					}
					break
				}
			}
			continue
		case "":
			prev[b.file] = b.body
		case "with-previous":
			if prev[b.file] == "" {
				t.Errorf("%s: ```yaml with-previous follows no whole manifest in the same file", where)
				continue
			}
			b.body = prev[b.file] + "---\n" + b.body
		default:
			t.Errorf("%s: unknown ```yaml marker %q: use \"fragment\", \"not-manifest\" or \"with-previous\", or none for a whole manifest", where, b.info)
			continue
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "example.yaml")
		if err := os.WriteFile(p, []byte(b.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := manifest.Load(context.Background(), []string{p}, manifest.LoadOptions{}); err != nil {
			t.Errorf("%s: the example does not load (mark it ```yaml fragment if it is not a whole manifest):\n%v", where, err)
		}
	}
}

// TestExamplesLoad loads each folder under examples/ as `apply -f` would.
func TestExamplesLoad(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "..", "examples", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			continue
		}
		n++
		set, err := manifest.Load(context.Background(), []string{d}, manifest.LoadOptions{})
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if len(set.Backends)+len(set.Secrets) == 0 {
			t.Errorf("%s: no resources", d)
		}
	}
	if n == 0 {
		t.Fatal("no example folders found")
	}
}
