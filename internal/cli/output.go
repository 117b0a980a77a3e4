package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cuitty/persist/internal/record"
)

// Output is where a tool writes its stream: stdout for "-", else a file
// written under a temporary name and renamed into place by Commit, so that a
// failure never leaves a half-written file behind. A .zst or .gz name
// compresses.
type Output struct {
	w      io.Writer
	comp   io.WriteCloser
	f      *os.File
	tmp    string
	final  string
	closed bool
}

// CreateOutput opens path ("-" for stdout) for writing.
func CreateOutput(path string, stdout io.Writer) (*Output, error) {
	if path == "-" || path == "" {
		return &Output{w: stdout}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; an output is an ordinary file.
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	comp, err := record.NewCompressor(f, path)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &Output{w: comp, comp: comp, f: f, tmp: f.Name(), final: path}, nil
}

func (o *Output) Write(p []byte) (int, error) { return o.w.Write(p) }

// Commit finishes the output: flushes compression, syncs and renames the
// file into place.
func (o *Output) Commit() error {
	if o.f == nil || o.closed {
		return nil
	}
	o.closed = true
	err := o.comp.Close()
	if err == nil {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(o.tmp, o.final)
	}
	if err != nil {
		os.Remove(o.tmp)
		return fmt.Errorf("write %s: %w", o.final, err)
	}
	return nil
}

// Abort discards a file output; it is a no-op after Commit and for stdout.
func (o *Output) Abort() {
	if o.f == nil || o.closed {
		return
	}
	o.closed = true
	o.comp.Close()
	o.f.Close()
	os.Remove(o.tmp)
}
