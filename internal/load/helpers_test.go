package load

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/testdb"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const testStore = "app"

// eachTarget runs fn against a fresh database of every kind.
func eachTarget(t *testing.T, fn func(t *testing.T, a adapters.Adapter)) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		a, _ := db.Open(t)
		fn(t, a)
	})
}

var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 123456000, time.UTC)

const fixedNowText = "2026-11-25T12:00:00.123456Z"

func nowFixed() time.Time { return fixedNow }

// reader makes a stream of lines (a newline after each).
func reader(t testing.TB, lines ...string) *record.Reader {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	r, err := record.NewReader(strings.NewReader(b.String()), record.ReaderOptions{AllowPatch: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// streamOf makes a stream from raw bytes.
func streamOf(t testing.TB, data []byte) *record.Reader {
	t.Helper()
	r, err := record.NewReader(bytes.NewReader(data), record.ReaderOptions{AllowPatch: true})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rec(coll, key string, version int64, value string) string {
	return fmt.Sprintf(`{"kind":"record","collection":%q,"key":%q,"version":%d,"updated_at":"2026-01-01T00:00:00.000000Z","value":%s}`, coll, key, version, value)
}

func tomb(coll, key string, version int64) string {
	return fmt.Sprintf(`{"kind":"record","collection":%q,"key":%q,"version":%d,"updated_at":"2026-01-01T00:00:00.000000Z","deleted":true}`, coll, key, version)
}

func ev(stream string, seq int64, typ, data string) string {
	return fmt.Sprintf(`{"kind":"event","stream":%q,"seq":%d,"type":%q,"at":"2026-01-01T00:00:00.000000Z","data":%s}`, stream, seq, typ, data)
}

// dump returns the store's canonical lines in dump order.
func dump(t testing.TB, a adapters.Adapter) []string {
	t.Helper()
	return dumpStore(t, a, testStore)
}

func dumpStore(t testing.TB, a adapters.Adapter, store string) []string {
	t.Helper()
	ctx := context.Background()
	snap, err := a.Snapshot(ctx, store)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	defer snap.Close()
	var out []string
	err = snap.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
		out = append(out, string(record.AppendItem(nil, it)))
		return nil
	})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return out
}

// sumOf is the persist1 sum of canonical lines.
func sumOf(lines []string) string {
	var s record.Sum
	for _, l := range lines {
		s.AddLine([]byte(l))
	}
	return s.String()
}

// canon returns the canonical line of a stream line.
func canon(t testing.TB, line string) string {
	t.Helper()
	var l record.Line
	if err := record.ParseLine([]byte(line), &l); err != nil {
		t.Fatalf("parse %s: %v", line, err)
	}
	return string(record.AppendItem(nil, &l.Item))
}

// sorted returns the canonical lines of stream lines, in dump order.
func sorted(t testing.TB, lines ...string) []string {
	t.Helper()
	items := parseItems(t, lines...)
	slices.SortFunc(items, record.Compare)
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(record.AppendItem(nil, it))
	}
	return out
}

// load runs Load on lines and fails the test on an error.
func mustLoad(t testing.TB, a adapters.Adapter, opt Options, lines ...string) Stats {
	t.Helper()
	st, err := Load(context.Background(), a, testStore, reader(t, lines...), opt)
	if err != nil {
		t.Fatalf("load: %v (stats %+v)", err, st)
	}
	return st
}

// genStream makes n records (and n/10 events) with the given version, as a
// stream with header and trailer, and returns it with its sum.
func genStream(n int, version int64, tag string) ([]byte, string) {
	var items []*record.Item
	for i := range n {
		items = append(items, &record.Item{
			Kind: record.KindRecord, Collection: fmt.Sprintf("c%d", i%7), Key: fmt.Sprintf("k%07d", i),
			Version: version, UpdatedAt: "2026-01-01T00:00:00.000000Z",
			Value: fmt.Appendf(nil, `{"i":%d,"name":"item %d","tag":%q}`, i, i, tag),
		})
	}
	for i := range n / 10 {
		items = append(items, &record.Item{
			Kind: record.KindEvent, Stream: fmt.Sprintf("s%d", i%3), Seq: int64(i/3 + 1), Type: "made",
			At: "2026-01-01T00:00:00.000000Z", Data: fmt.Appendf(nil, `{"i":%d}`, i),
		})
	}
	var buf bytes.Buffer
	w, err := record.NewWriter(&buf, record.Header{Format: record.Format, Store: testStore, Records: int64(n), Events: int64(n / 10)})
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		if err := w.Write(it); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	s := w.Sum()
	return buf.Bytes(), s.String()
}

func storeSum(t testing.TB, a adapters.Adapter) string {
	t.Helper()
	return sumOf(dump(t, a))
}

// parseItems parses stream lines into items.
func parseItems(t testing.TB, lines ...string) []*record.Item {
	t.Helper()
	items := make([]*record.Item, len(lines))
	for i, line := range lines {
		var l record.Line
		if err := record.ParseLine([]byte(line), &l); err != nil {
			t.Fatalf("parse %s: %v", line, err)
		}
		items[i] = l.Item.Clone()
	}
	return items
}
