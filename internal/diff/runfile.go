package diff

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/spool"
)

// runFile is one sorted run spilled as canonical lines to a temporary file.
type runFile struct {
	f       *os.File
	name    string // set only where an open file cannot be removed
	w       *bufio.Writer
	line    []byte
	lastKey record.Item // the address of the last item written
}

func newRunFile(dir string) (*runFile, error) {
	f, err := spool.CreateTemp(dir, "persist-sort-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("sort: %w", err)
	}
	r := &runFile{f: f, w: bufio.NewWriterSize(f, 256<<10)}
	if err := os.Remove(f.Name()); err != nil {
		r.name = f.Name()
	}
	return r, nil
}

func (r *runFile) write(it *record.Item) error {
	line, err := record.WriteItemLine(r.w, it, r.line, nil)
	r.line = line
	if err != nil {
		return fmt.Errorf("sort: spill run: %w", err)
	}
	r.lastKey = record.Item{Kind: it.Kind, Collection: it.Collection, Key: it.Key, Stream: it.Stream, Seq: it.Seq}
	return nil
}

func (r *runFile) writeLine(line []byte) error {
	r.w.Write(line)
	if err := r.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("sort: spill run: %w", err)
	}
	return nil
}

// finish flushes the run; it is not written again.
func (r *runFile) finish() error {
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("sort: spill run: %w", err)
	}
	r.w = nil
	return nil
}

func (r *runFile) reader(bufSize int) (*runReader, error) {
	if _, err := r.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("sort: read run: %w", err)
	}
	return &runReader{r: bufio.NewReaderSize(r.f, bufSize)}, nil
}

func (r *runFile) close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	if r.name != "" {
		os.Remove(r.name)
	}
	r.f = nil
	return err
}

// runReader reads a run file back one parsed line at a time.
type runReader struct {
	r    *bufio.Reader
	long []byte // a line longer than the read buffer, assembled here
	raw  []byte // the current line, without its newline
	line record.Line
	ok   bool // raw and line hold an item
}

func (rr *runReader) next() error {
	raw, err := rr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		rr.long = append(rr.long[:0], raw...)
		for errors.Is(err, bufio.ErrBufferFull) {
			raw, err = rr.r.ReadSlice('\n')
			rr.long = append(rr.long, raw...)
		}
		raw = rr.long
	}
	if err == io.EOF && len(raw) == 0 {
		rr.ok = false
		return nil
	}
	if err != nil {
		return fmt.Errorf("sort: read run: %w", err)
	}
	rr.raw = raw[:len(raw)-1]
	if err := record.ParseLine(rr.raw, &rr.line); err != nil {
		return fmt.Errorf("sort: read back spilled line: %w", err)
	}
	rr.ok = true
	return nil
}
