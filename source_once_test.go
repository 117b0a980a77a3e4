package persist_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cuitty/persist"
)

// A stream is read once: a second read, after a whole one or one broken
// out of, is refused (ErrReadAgain), never the rest passed for the whole;
// a store reads its snapshot again. Every call on a closed Source is
// ErrClosed, not a panic.
func TestSourceReadOnce(t *testing.T) {
	ctx := testContext(t)
	file := writeStream(t, 50)
	store := backends[0].new(t) + "#app"
	in, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := persist.Load(ctx, in, store, persist.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	// The stream: the store's dump, in dump order as a Dump of it needs.
	var dump bytes.Buffer
	if _, err := persist.Dump(ctx, store, &dump, persist.DumpOptions{}); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(t.TempDir(), "app.jsonl")
	if err := os.WriteFile(file, dump.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func(loc string) *persist.Source {
		t.Helper()
		src, err := persist.OpenSource(ctx, loc, persist.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		return src
	}
	reads := map[string]func(*persist.Source) error{
		"Sum":  func(s *persist.Source) error { _, _, err := s.Sum(ctx, persist.SumOptions{}); return err },
		"Dump": func(s *persist.Source) error { _, err := s.Dump(ctx, &bytes.Buffer{}, nil); return err },
		"Items": func(s *persist.Source) error {
			for _, err := range s.Items(ctx) {
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	for first, read := range reads {
		for second, again := range reads {
			src := open(file)
			if first == "Items" {
				for range src.Items(ctx) {
					break // a peek at the first item
				}
			} else if err := read(src); err != nil {
				t.Fatalf("%s: %v", first, err)
			}
			if err := again(src); !errors.Is(err, persist.ErrReadAgain) {
				t.Errorf("a stream's %s after its %s: %v, want ErrReadAgain", second, first, err)
			}
			st := open(store)
			if err := read(st); err != nil {
				t.Fatal(err)
			}
			if err := again(st); err != nil {
				t.Errorf("a store's %s after its %s: %v", second, first, err)
			}
		}
	}
	for _, loc := range []string{file, store} {
		src := open(loc)
		src.Close()
		for name, read := range reads {
			if err := read(src); !errors.Is(err, persist.ErrClosed) {
				t.Errorf("%s of %s after Close: %v, want ErrClosed", name, filepath.Base(loc), err)
			}
		}
		if _, _, _, err := src.Counts(ctx); !errors.Is(err, persist.ErrClosed) {
			t.Errorf("Counts after Close: %v", err)
		}
		if _, err := src.Cursor(ctx); !errors.Is(err, persist.ErrClosed) {
			t.Errorf("Cursor after Close: %v", err)
		}
	}
}

// A Comparison Compare returned with an error is never Equal: a side it
// could not sum is no proof of anything.
func TestComparisonWithAnErrorIsNotEqual(t *testing.T) {
	ctx := testContext(t)
	file := writeStream(t, 50)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.jsonl")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := persist.Compare(ctx, file, cut, persist.CompareOptions{})
	if err == nil || c.Equal() {
		t.Errorf("a comparison with a stream cut short: Equal %v, %v", c.Equal(), err)
	}
	if (persist.Comparison{}).Equal() {
		t.Error("the zero Comparison is Equal")
	}
	c, err = persist.Compare(ctx, file, file+"", persist.CompareOptions{})
	if err == nil || c.Equal() {
		t.Errorf("one file named twice: Equal %v, %v", c.Equal(), err)
	}
}
