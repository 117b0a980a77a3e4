package diff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/spool"
)

// applyPatch loads a patch stream into an in-memory store (address → canonical
// line) the way persist-load must: after checking the target sum, record and
// event lines replace, remove lines delete.
func applyPatch(t *testing.T, patch []byte, store map[string]string) {
	t.Helper()
	rd, err := record.NewReader(bytes.NewReader(patch), record.ReaderOptions{AllowPatch: true})
	if err != nil {
		t.Fatal(err)
	}
	first := true
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the patch: %v", err)
		}
		if first {
			first = false
			checkTarget(t, rd.Header(), store)
		}
		addr := address(it)
		if it.Kind == record.KindRemove {
			if _, ok := store[addr]; !ok {
				t.Errorf("patch removes %s, which B does not hold", addr)
			}
			delete(store, addr)
			continue
		}
		store[addr] = string(rd.Canonical())
	}
	if first {
		checkTarget(t, rd.Header(), store)
	}
	if rd.Trailer() == nil {
		t.Error("patch has no trailer")
	}
}

func checkTarget(t *testing.T, h *record.Header, store map[string]string) {
	t.Helper()
	if h == nil || !h.Patch {
		t.Fatalf("header %+v is not a patch header", h)
	}
	var sum record.Sum
	for _, line := range store {
		sum.AddLine([]byte(line))
	}
	if h.TargetSum != sum.String() {
		t.Errorf("target_sum %s, B's sum is %s", h.TargetSum, sum)
	}
}

func storeOf(items []*record.Item) map[string]string {
	m := map[string]string{}
	for _, it := range items {
		m[address(it)] = string(record.AppendItem(nil, it))
	}
	return m
}

func checkPatch(t *testing.T, a, b []*record.Item, opt Options) Stats {
	t.Helper()
	opt.Format = Patch
	st, out := runDiff(t, a, b, opt)
	store := storeOf(b)
	applyPatch(t, []byte(out), store)
	want := storeOf(a)
	if len(store) != len(want) {
		t.Errorf("after the patch B holds %d items, A %d", len(store), len(want))
	}
	for k, v := range want {
		if store[k] != v {
			t.Errorf("after the patch %s is %q, want %q", k, store[k], v)
		}
	}
	return st
}

func TestPatch(t *testing.T) {
	for _, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			st := checkPatch(t, parseLines(t, tc.a), parseLines(t, tc.b), Options{})
			if st != tc.stats {
				t.Errorf("stats = %+v, want %+v", st, tc.stats)
			}
		})
	}
}

func TestPatchShape(t *testing.T) {
	c := diffCases[len(diffCases)-1] // records_and_events
	_, out := runDiff(t, parseLines(t, c.a), parseLines(t, c.b), Options{Format: Patch, TargetSum: "persist1:" + fmt.Sprintf("%064x", 7)})
	lines := bytes.Split(bytes.TrimSuffix([]byte(out), []byte("\n")), []byte("\n"))
	// The result sum is A's: what B holds once the patch is in.
	var sumA record.Sum
	for _, it := range parseLines(t, c.a) {
		sumA.AddLine(record.AppendItem(nil, it))
	}
	want := []string{
		`{"kind":"header","format":"persist.v1","records":1,"events":1,"patch":true,"target_sum":"persist1:0000000000000000000000000000000000000000000000000000000000000007","result_sum":"` + sumA.String() + `"}`,
		`{"kind":"record","collection":"a","key":"1","version":1,"updated_at":"2026-11-25T12:00:00.000000Z","value":1}`,
		`{"kind":"remove","collection":"b","key":"1"}`,
		`{"kind":"event","stream":"s","seq":1,"type":"t","at":"2026-11-25T12:00:00.000000Z","data":1}`,
	}
	if len(lines) != len(want)+1 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, w := range want {
		if string(lines[i]) != w {
			t.Errorf("line %d:\n got %s\nwant %s", i+1, lines[i], w)
		}
	}
	var sum record.Sum
	for _, l := range lines[1 : len(lines)-1] {
		sum.AddLine(l)
	}
	if w := `{"kind":"trailer","records":1,"events":1,"sum":"` + sum.String() + `"}`; string(lines[len(lines)-1]) != w {
		t.Errorf("trailer %s, want %s", lines[len(lines)-1], w)
	}
}

// TestPatchLarge goes through the temporary file (a small memory limit) on
// random sides with every kind of difference.
func TestPatchLarge(t *testing.T) {
	defer func(n int) { spool.Memory = n }(spool.Memory)
	spool.Memory = 4 << 10
	a, b := randomSides(rand.New(rand.NewPCG(1, 2)), 5000)
	st := checkPatch(t, a, b, Options{TempDir: t.TempDir()})
	if st.OnlyA == 0 || st.OnlyB == 0 || st.Changed == 0 || st.Same == 0 {
		t.Errorf("sides too alike to test much: %+v", st)
	}
}

// randomSides makes two sides in dump order that share most items: some
// only in one, some changed in value, version, time or deletion.
func randomSides(rng *rand.Rand, n int) (a, b []*record.Item) {
	for i := range n {
		it := &record.Item{Kind: record.KindRecord, Collection: "c" + strconv.Itoa(i%7), Key: fmt.Sprintf("k%08d", i),
			Version: int64(1 + i%5), UpdatedAt: "2026-11-25T12:00:00.000000Z",
			Value: []byte(fmt.Sprintf(`{"i":%d,"name":"n%d","tags":["x","y"]}`, i, i))}
		if i%3 == 0 {
			it = &record.Item{Kind: record.KindEvent, Stream: "s" + strconv.Itoa(i%5), Seq: int64(i + 1), Type: "t",
				At: "2026-11-25T12:00:00.000000Z", Data: []byte(fmt.Sprintf(`{"i":%d}`, i))}
		}
		switch rng.IntN(10) {
		case 0:
			a = append(a, it)
		case 1:
			b = append(b, it)
		case 2:
			c := it.Clone()
			if c.Kind == record.KindRecord {
				switch rng.IntN(3) {
				case 0:
					c.Value = []byte(`{"i":-1}`)
				case 1:
					c.Version++
				case 2:
					c.Deleted, c.Value = true, nil
				}
			} else {
				c.Data = []byte(`[1]`)
			}
			a, b = append(a, it), append(b, c)
		default:
			a, b = append(a, it), append(b, it)
		}
	}
	sortItems(a)
	sortItems(b)
	return a, b
}

func TestPatchWriteError(t *testing.T) {
	c := diffCases[1]
	_, err := Diff(context.Background(), iter(parseLines(t, c.a)), iter(parseLines(t, c.b)), failWriter{}, Options{Format: Patch})
	if !errors.Is(err, errFail) {
		t.Fatalf("err = %v, want the write error", err)
	}
}

var errFail = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFail }
