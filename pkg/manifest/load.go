package manifest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "sigs.k8s.io/yaml/goyaml.v3"
)

// LoadOptions configure Load.
type LoadOptions struct {
	// Stdin is read for the path "-". Load fails if "-" is given and Stdin is nil.
	Stdin io.Reader
	// FilesRoot (--files-root) is an extra directory fromFile paths may point
	// into, besides the directory given to -f. Relative to the working
	// directory. With it, absolute fromFile paths inside it are allowed too.
	FilesRoot string
	// Limits bound the input; zero fields take DefaultLimits.
	Limits Limits
}

// Load reads every manifest under paths — files, directories (recursively:
// *.yaml, *.yml and *.json in lexical order, skipping entries whose name
// starts with "."), and "-" for opts.Stdin — and validates them as one set.
//
// Every problem found is returned together as Errors, each naming the file,
// the document and the line. On error the Set is nil.
func Load(ctx context.Context, paths []string, opts LoadOptions) (*Set, error) {
	if len(paths) == 0 {
		return nil, errors.New("no manifest paths given")
	}
	l := &loader{
		ctx:  ctx,
		opts: opts,
		lim:  opts.Limits.withDefaults(),
		c:    collector{order: map[string]int{}},
		seen: map[string]bool{},
	}
	if opts.FilesRoot != "" {
		abs, err := filepath.Abs(opts.FilesRoot)
		if err != nil {
			return nil, fmt.Errorf("--files-root %s: %w", opts.FilesRoot, err)
		}
		l.filesRoot = abs
	}
	for _, p := range paths {
		if l.stopped() {
			break
		}
		l.expand(p)
	}
	for _, in := range l.inputs {
		if l.stopped() {
			break
		}
		l.loadInput(in)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.crossCheck()
	l.droppedWarnings()
	if err := l.c.result(); err != nil {
		return nil, err
	}
	set := &Set{Warnings: l.c.warningStrings()}
	for _, b := range l.backends {
		set.Backends = append(set.Backends, b.Backend)
	}
	set.Secrets = make([]Secret, 0, len(l.secrets))
	for _, s := range l.secrets {
		set.Secrets = append(set.Secrets, s.Secret)
	}
	set.Digest = ComputeDigest(set.Backends, set.Secrets)
	return set, nil
}

// input is one manifest file to read.
type input struct {
	path    string // as given or as walked, for messages
	abs     string // absolute path; empty for stdin
	baseDir string // fromFile paths are relative to it
	root    string // fromFile paths may not escape it
	rootArg string // root as the user wrote it, for messages
	stdin   bool
}

type loader struct {
	ctx       context.Context
	opts      LoadOptions
	lim       Limits
	c         collector
	filesRoot string

	inputs    []input
	seen      map[string]bool
	stdinUsed bool
	bytes     int64
	documents int
	resources int
	halted    bool // a global limit was hit; stop reading

	backends []*backendRec
	secrets  []*secretRec
	// shared holds one copy of each distinct labels/annotations map (share).
	shared map[string]map[string]string
	// strs holds one copy of each repeated data key and source (intern),
	// sharedData one copy of each distinct spec.data (shareData).
	strs       map[string]string
	sharedData map[string]Data
	// dropped are the server-side fields of the original's exports, by
	// name, warned about once each (see export.go).
	dropped map[string]*droppedField
}

func (l *loader) stopped() bool { return l.halted || l.ctx.Err() != nil }

func (l *loader) halt(src Source, format string, args ...any) {
	l.c.addf(src, "", "", format, args...)
	l.halted = true
}

func fileSource(path string) Source { return Source{File: path, Document: -1} }

func (l *loader) note(path string) {
	if _, ok := l.c.order[path]; !ok {
		l.c.order[path] = len(l.c.order)
	}
}

// expand turns one -f argument into inputs.
func (l *loader) expand(p string) {
	l.note(p)
	if p == "-" {
		if l.opts.Stdin == nil {
			l.c.addf(fileSource(p), "", "", "standard input is not available")
			return
		}
		if l.stdinUsed {
			l.c.addf(fileSource(p), "", "", `"-" (standard input) given more than once`)
			return
		}
		l.stdinUsed = true
		cwd, err := os.Getwd()
		if err != nil {
			l.c.add(&Error{Source: fileSource(p), Msg: "cannot determine the working directory for fromFile paths", Err: err})
			return
		}
		l.inputs = append(l.inputs, input{path: p, baseDir: cwd, root: cwd, stdin: true})
		return
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		l.c.add(&Error{Source: fileSource(p), Msg: err.Error(), Err: err})
		return
	}
	fi, err := os.Stat(p)
	if err != nil {
		l.c.add(&Error{Source: fileSource(p), Msg: "cannot read: " + pathErrMsg(err), Err: err})
		return
	}
	if !fi.IsDir() {
		l.addInput(input{path: p, abs: abs, baseDir: filepath.Dir(abs), root: filepath.Dir(abs), rootArg: filepath.Dir(p)})
		return
	}
	l.walk(p, abs)
}

// walk adds the manifest files under dir. Symlinked files are followed only
// when they stay inside dir: a pull request must not turn /etc/passwd into a
// "manifest" whose parse errors echo its content.
func (l *loader) walk(dir, absDir string) {
	realDir, err := filepath.EvalSymlinks(absDir)
	if err != nil {
		l.c.add(&Error{Source: fileSource(dir), Msg: "cannot read: " + pathErrMsg(err), Err: err})
		return
	}
	found := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if l.stopped() {
			return fs.SkipAll
		}
		if err != nil {
			l.note(path)
			l.c.add(&Error{Source: fileSource(path), Msg: "cannot read: " + pathErrMsg(err), Err: err})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isManifestName(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return nil
		}
		abs := filepath.Join(absDir, rel)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(abs)
			if err != nil {
				l.note(path)
				l.c.add(&Error{Source: fileSource(path), Msg: "cannot follow symlink: " + pathErrMsg(err), Err: err})
				return nil
			}
			if !within(realDir, target) {
				l.note(path)
				l.c.addf(fileSource(path), "", "", "symlink points outside %s; refusing to read it", dir)
				return nil
			}
			fi, err := os.Stat(target)
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		found++
		l.addInput(input{path: path, abs: abs, baseDir: filepath.Dir(abs), root: absDir, rootArg: dir})
		return nil
	})
	if err != nil && !errors.Is(err, fs.SkipAll) {
		l.c.add(&Error{Source: fileSource(dir), Msg: err.Error(), Err: err})
	}
	if found == 0 && !l.stopped() {
		l.c.warn(fileSource(dir), "", "", "no manifest files (*.yaml, *.yml, *.json) found")
	}
}

func isManifestName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func (l *loader) addInput(in input) {
	if l.seen[in.abs] {
		return // the same file named twice (or a file inside a directory given too)
	}
	l.seen[in.abs] = true
	l.note(in.path)
	if len(l.inputs) >= l.lim.MaxFiles {
		l.halt(fileSource(in.path), "more than %d manifest files; refusing to read more", l.lim.MaxFiles)
		return
	}
	l.inputs = append(l.inputs, in)
}

// read returns the content of one input, bounded by the limits.
func (l *loader) read(in input) ([]byte, bool) {
	var r io.Reader
	if in.stdin {
		r = l.opts.Stdin
	} else {
		f, err := os.Open(in.path)
		if err != nil {
			l.c.add(&Error{Source: fileSource(in.path), Msg: "cannot read: " + pathErrMsg(err), Err: err})
			return nil, false
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > l.lim.MaxFileSize {
			l.c.addf(fileSource(in.path), "", "", "file is %d bytes, larger than the limit of %d bytes", fi.Size(), l.lim.MaxFileSize)
			return nil, false
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, l.lim.MaxFileSize+1))
	if err != nil {
		l.c.add(&Error{Source: fileSource(in.path), Msg: "cannot read: " + pathErrMsg(err), Err: err})
		return nil, false
	}
	if int64(len(data)) > l.lim.MaxFileSize {
		l.c.addf(fileSource(in.path), "", "", "file is larger than the limit of %d bytes", l.lim.MaxFileSize)
		return nil, false
	}
	l.bytes += int64(len(data))
	if l.bytes > l.lim.MaxTotalSize {
		l.halt(fileSource(in.path), "manifests total more than the limit of %d bytes; refusing to read more", l.lim.MaxTotalSize)
		return nil, false
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		l.c.addf(Source{File: in.path, Document: -1, Line: lineAt(data, i)}, "", "",
			"binary data (NUL byte): not a YAML or JSON manifest (UTF-16 files are not supported; save as UTF-8)")
		return nil, false
	}
	if !utf8.Valid(data) {
		l.c.addf(Source{File: in.path, Document: -1, Line: lineAt(data, firstInvalidUTF8(data))}, "", "",
			"invalid UTF-8: manifests must be UTF-8 text")
		return nil, false
	}
	return data, true
}

func lineAt(data []byte, off int) int { return bytes.Count(data[:off], []byte{'\n'}) + 1 }

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// loadInput parses every document of one input.
func (l *loader) loadInput(in input) {
	data, ok := l.read(in)
	if !ok {
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for idx := 0; ; idx++ {
		if l.stopped() {
			return
		}
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			line, msg := yamlErrorLine(err)
			l.c.add(&Error{Source: Source{File: in.path, Document: idx, Line: line}, Msg: "syntax error: " + msg, Err: err})
			return // the parser cannot resynchronise after a syntax error
		}
		l.documents++
		if l.documents > l.lim.MaxDocuments {
			l.halt(Source{File: in.path, Document: idx, Line: doc.Line}, "more than %d documents; refusing to read more", l.lim.MaxDocuments)
			return
		}
		d := &docCtx{l: l, in: in, src: Source{File: in.path, Document: idx, Line: doc.Line}}
		d.document(&doc)
	}
}

// decodeNode parses the next document. The parser is third-party code fed
// hostile input, so a panic in it becomes an error, never a crash.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML parser failure: %v", r)
		}
	}()
	return dec.Decode(n)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine splits "yaml: line 3: msg" into 3 and "msg".
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, m[2]
	}
	return 0, strings.TrimPrefix(msg, "yaml: ")
}

// pathErrMsg drops the operation from an *fs.PathError ("open x: ..."),
// since the path is already in the error's source.
func pathErrMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// within reports whether path is root or inside it (both absolute, clean).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel))
}
