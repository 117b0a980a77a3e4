package diff

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

// TestVectors diffs the shared non-canonical, unordered stream against its
// canonical dump: after sorting, nothing differs.
func TestVectors(t *testing.T) {
	dir := "../record/testdata/vectors"
	open := func(name string) *record.Reader {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		r, err := record.NewReader(f, record.ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, maxBytes := range []int{1 << 30, 8 << 10} {
		raw := mustSorted(t, open("stream-small.jsonl"), maxBytes)
		var out bytes.Buffer
		st, err := Diff(context.Background(), raw, open("stream-small.canonical.jsonl"), &out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if st != (Stats{Same: 400}) || out.Len() != 0 {
			t.Errorf("maxBytes %d: %+v\n%s", maxBytes, st, out.String())
		}
	}
}
