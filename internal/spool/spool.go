// Package spool holds bytes to be written later: in memory while few, then
// in an unnamed temporary file.
package spool

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Memory is how much of a spool stays in memory before the rest goes to a
// temporary file.
var Memory = 8 << 20

// Spool holds bytes to be written later (a patch's body, a held diff, a
// list checked whole before any of it is written): in memory while small,
// then in an unnamed temporary file in Dir (os.TempDir where empty), named
// by Pattern as os.CreateTemp takes it, and removed as soon as it is
// created, so nothing is left behind whatever happens to the process.
type Spool struct {
	Dir, Pattern string

	mem  bytes.Buffer
	file *os.File
	name string // set only where an open file cannot be removed
	n    int64
}

func (s *Spool) Write(p []byte) (int, error) {
	s.n += int64(len(p))
	if s.file == nil && s.mem.Len()+len(p) <= Memory {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := CreateTemp(s.Dir, s.Pattern)
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
func (s *Spool) WriteTo(w io.Writer) (int64, error) {
	if s.file == nil {
		return s.mem.WriteTo(w)
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("spool: %w", err)
	}
	return io.Copy(w, s.file)
}

func (s *Spool) Close() error {
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

// CreateTemp is os.CreateTemp in dir, os.TempDir where dir is empty, with
// the error saying what failed.
func CreateTemp(dir, pattern string) (*os.File, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	return f, nil
}
