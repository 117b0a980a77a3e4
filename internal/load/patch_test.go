package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// patchStream writes a patch stream for a store whose sum is target.
func patchStream(t *testing.T, target string, lines ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.Header{Format: record.Format, Store: testStore, Records: -1, Events: -1, Patch: true, TargetSum: target})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range parsePatchItems(t, lines...) {
		if err := w.Write(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func parsePatchItems(t *testing.T, lines ...string) []*record.Item {
	t.Helper()
	// Remove lines parse only in a patch stream: read them through a reader.
	var buf bytes.Buffer
	buf.WriteString(`{"kind":"header","format":"persist.v1","patch":true,"target_sum":"persist1:0000000000000000000000000000000000000000000000000000000000000000"}` + "\n")
	for _, l := range lines {
		buf.WriteString(l + "\n")
	}
	r, err := record.NewReader(&buf, record.ReaderOptions{AllowPatch: true, IgnoreTrailer: true})
	if err != nil {
		t.Fatal(err)
	}
	var items []*record.Item
	for {
		it, err := r.Next()
		if err != nil {
			if !errors.Is(err, record.ErrTruncated) && !errors.Is(err, io.EOF) {
				t.Fatalf("patch line: %v", err)
			}
			return items
		}
		items = append(items, it.Clone())
	}
}

func TestPatch(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		ctx := context.Background()
		mustLoad(t, a, Options{},
			rec("u", "a", 3, `{"x":1}`),
			rec("u", "b", 2, `{}`),
			tomb("u", "d", 5),
			ev("s", 1, "one", `1`),
			ev("s", 2, "two", `2`),
		)
		before := dump(t, a)
		patch := patchStream(t, storeSum(t, a),
			rec("u", "a", 1, `{"back":1}`), // older than the store's, applied as it is
			`{"kind":"remove","collection":"u","key":"b"}`,
			rec("u", "c", 4, `{}`),
			`{"kind":"remove","collection":"u","key":"d"}`,
			`{"kind":"remove","stream":"s","seq":2}`,
			ev("s", 3, "three", `3`),
		)
		st, err := Load(ctx, a, testStore, streamOf(t, patch), Options{BatchSize: 2})
		if err != nil {
			t.Fatalf("patch: %v", err)
		}
		if st.Written != 2 || st.Events != 1 || st.Removed != 3 {
			t.Errorf("stats %+v", st)
		}
		want := sorted(t, rec("u", "a", 1, `{"back":1}`), rec("u", "c", 4, `{}`), ev("s", 1, "one", `1`), ev("s", 3, "three", `3`))
		after := dump(t, a)
		if !slices.Equal(after, want) {
			t.Fatalf("store\n got %q\nwant %q", after, want)
		}

		// The same patch again: the store is no longer what it was made for.
		_, err = Load(ctx, a, testStore, streamOf(t, patch), Options{})
		if !errors.Is(err, ErrPatchTarget) {
			t.Fatalf("got %v, want ErrPatchTarget", err)
		}
		if got := dump(t, a); !slices.Equal(got, after) {
			t.Errorf("store changed by a refused patch: %q", got)
		}
		_ = before
	})
}

func TestPatchAllOrNothing(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		ctx := context.Background()
		mustLoad(t, a, Options{}, rec("u", "a", 1, `{}`))
		before := dump(t, a)
		patch := patchStream(t, storeSum(t, a),
			rec("u", "b", 1, `{}`),
			rec("u", "c", 1, `{}`),
		)
		// Corrupt the second item line: the reader rejects it, and a patch
		// with a rejected line is refused whole even with a rejects writer.
		lines := bytes.Split(patch, []byte("\n"))
		lines[2] = []byte(`{"kind":"record","collection":"u","key":"c","version":1,"value":}`)
		var rej bytes.Buffer
		_, err := Load(ctx, a, testStore, streamOf(t, bytes.Join(lines, []byte("\n"))), Options{Rejects: &rej, BatchSize: 1})
		if err == nil {
			t.Fatal("a patch with a bad line was applied")
		}
		if got := dump(t, a); !slices.Equal(got, before) {
			t.Errorf("store changed: %q", got)
		}
	})
}
