package manifest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcpctl/mcpctl/pkg/drivers"
)

// Resolve reads the secret's managed values: environment variables (through
// lookupEnv; nil means os.LookupEnv), files (confined to Root or FilesRoot,
// symlinks included, at most MaxValueFileSize bytes each, content taken
// as-is including any trailing newline) and literals. A secret without data
// resolves to empty Values.
//
// Every key is tried and all problems are returned together. Errors name
// the resource, the key and the variable or path, never a value. An
// environment variable that is set but empty is an error too: CI systems
// expand unavailable secrets to "", and writing "" over a real value is how
// outages start. Use {value: ""} for a deliberately empty value.
func (s Secret) Resolve(lookupEnv func(string) (string, bool)) (drivers.Values, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	out := make(map[string]string, len(s.Data))
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: secret %s: spec.data.%s: %s", s.Source, quote(s.Name), key, fmt.Sprintf(format, args...)))
	}
	for _, e := range s.Data {
		key, vs := e.Key, e.ValueSource
		switch {
		case vs.FromEnv != "":
			v, ok := lookupEnv(vs.FromEnv)
			switch {
			case !ok:
				fail(key, "environment variable %s is not set", vs.FromEnv)
			case v == "":
				fail(key, "environment variable %s is empty", vs.FromEnv)
			default:
				out[key] = v
			}
		case vs.FromFile != "":
			v, err := s.readFile(vs.FromFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: secret %s: spec.data.%s: fromFile %s: %w", s.Source, quote(s.Name), key, quote(vs.FromFile), err))
				continue
			}
			out[key] = v
		case vs.Value != nil:
			out[key] = *vs.Value
		default:
			fail(key, "no value source (fromEnv, fromFile or value)")
		}
	}
	if len(errs) > 0 {
		return drivers.Values{}, errors.Join(errs...)
	}
	return drivers.NewValues(out), nil
}

// ErrOutsideRoot is returned (wrapped) for a fromFile path that leaves the
// directories it may read.
var ErrOutsideRoot = errors.New("path is outside the directory given to -f (--files-root widens it)")

// readFile reads a fromFile path through os.Root, which refuses ".." and
// symlinks leading out of the root: checking the path lexically is not
// enough when a pull request can add a symlink to /etc/shadow.
func (s Secret) readFile(p string) (string, error) {
	target := p
	if !filepath.IsAbs(p) {
		target = filepath.Join(s.BaseDir, p)
	}
	target = filepath.Clean(target)
	for _, root := range []string{s.Root, s.FilesRoot} {
		if root == "" || !within(root, target) || (filepath.IsAbs(p) && root != s.FilesRoot) {
			continue
		}
		rel, err := filepath.Rel(root, target)
		if err != nil {
			continue
		}
		return readInRoot(root, rel)
	}
	return "", ErrOutsideRoot
}

func readInRoot(root, rel string) (string, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return "", unwrapPath(err)
	}
	defer r.Close()
	// Check before opening: opening a FIFO waits for a writer, so a pull
	// request adding one would hang plan forever.
	fi, err := r.Stat(rel)
	if err != nil {
		return "", unwrapPath(err)
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := r.Open(rel)
	if err != nil {
		return "", unwrapPath(err)
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return "", unwrapPath(err)
	}
	if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxValueFileSize+1))
	if err != nil {
		return "", unwrapPath(err)
	}
	if len(b) > MaxValueFileSize {
		return "", fmt.Errorf("larger than %d bytes", MaxValueFileSize)
	}
	return string(b), nil
}

// unwrapPath drops the *PathError wrapper, whose path is the root-relative
// one and would duplicate the fromFile path already in the message.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
