package diff

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// spoolMemory is how much of a spooled body stays in memory before the rest
// goes to a temporary file.
var spoolMemory = 8 << 20

// spool holds bytes to be written later (a patch's body, or a held diff): in memory while small, then in an
// unnamed temporary file (removed as soon as it is created, so nothing is
// left behind whatever happens to the process).
type spool struct {
	dir  string
	mem  bytes.Buffer
	file *os.File
	name string // set only where an open file cannot be removed
	n    int64
}

func (s *spool) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	if s.file == nil && s.mem.Len()+len(p) <= spoolMemory {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := createTemp(s.dir, "persist-diff-*")
		if err != nil {
			return 0, err
		}
		s.file, s.name = f, ""
		if err := os.Remove(f.Name()); err != nil {
			s.name = f.Name()
		}
		if _, err := s.mem.WriteTo(f); err != nil {
			return 0, fmt.Errorf("spool: %w", err)
		}
		s.mem = bytes.Buffer{}
	}
	n, err := s.file.Write(p)
	if err != nil {
		return n, fmt.Errorf("spool: %w", err)
	}
	return n, nil
}

// WriteTo copies everything written so far to w.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	if s.file == nil {
		return s.mem.WriteTo(w)
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	return io.Copy(w, s.file)
}

func (s *spool) Close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	if s.name != "" {
		os.Remove(s.name)
	}
	s.file = nil
	return err
}

func createTemp(dir, pattern string) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	return f, nil
}
