package spool

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// A spool gives back what was written to it, kept in memory while small
// and then in a temporary file that no directory lists.
func TestSpoolGivesBackWhatWasWritten(t *testing.T) {
	defer func(n int) { Memory = n }(Memory)
	Memory = 16
	for _, n := range []int{0, 10, 16, 17, 1000} {
		dir := t.TempDir()
		s := &Spool{Dir: dir, Pattern: "persist-test-*"}
		want := strings.Repeat("0123456789", 100)[:n]
		for i := 0; i < n; i += 7 {
			if _, err := s.Write([]byte(want[i:min(i+7, n)])); err != nil {
				t.Fatal(err)
			}
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%d bytes: the directory lists %d files", n, len(entries))
		}
		var got bytes.Buffer
		if _, err := s.WriteTo(&got); err != nil || got.String() != want {
			t.Errorf("%d bytes: got %q, %v", n, got.String(), err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("%d bytes: close: %v", n, err)
		}
	}
}

// A spool whose directory cannot take its file says so at the write that
// needed it.
func TestSpoolWithoutItsDirectory(t *testing.T) {
	defer func(n int) { Memory = n }(Memory)
	Memory = 4
	s := &Spool{Dir: t.TempDir() + "/gone", Pattern: "persist-test-*"}
	if _, err := s.Write([]byte("abc")); err != nil {
		t.Fatalf("in memory: %v", err)
	}
	if _, err := s.Write([]byte("defgh")); err == nil || !strings.Contains(err.Error(), "create temporary file") {
		t.Fatalf("past memory, without the directory: %v", err)
	}
}
