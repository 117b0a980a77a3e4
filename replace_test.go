package persist_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/testdb"
)

// A replace makes the store exactly the stream, so a stream that may hold
// only part of its store is refused, with nothing written: one without a
// header (a producer that died midway leaves a part that reads as whole)
// and a dump persist-dump filtered. Sealed by persist-seal, either is
// vouched for, and replaces.
func TestReplaceRefusesPartialStreams(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		loc := db.Location(t) + "#app"
		s := open(t, loc)
		for _, c := range []string{"users", "orders"} {
			if _, err := s.Put(ctx, c, "k1", map[string]any{"c": c}); err != nil {
				t.Fatal(err)
			}
		}
		sum := func() string {
			res, err := persist.Sum(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			return res.Sum
		}
		before := sum()
		var filtered strings.Builder
		if _, err := persist.Dump(ctx, loc, &filtered, persist.DumpOptions{ReadOptions: persist.ReadOptions{Filter: persist.Filter{Collections: []string{"users"}}}}); err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitAfter(filtered.String(), "\n")
		handMade := strings.Join(lines[1:len(lines)-2], "") // the items alone
		// Without its cursor (for dumps of two stores to compare byte for
		// byte), a filtered dump still says it is one; so does such a
		// dump's file dumped again without its cursor.
		var noCursor, again strings.Builder
		if _, err := persist.Dump(ctx, loc, &noCursor, persist.DumpOptions{ReadOptions: persist.ReadOptions{NoCursor: true, Filter: persist.Filter{Collections: []string{"users"}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := persist.Dump(ctx, "-", &again, persist.DumpOptions{ReadOptions: persist.ReadOptions{NoCursor: true, Stdin: strings.NewReader(filtered.String())}}); err != nil {
			t.Fatal(err)
		}
		for name, in := range map[string]string{"filtered": filtered.String(), "hand-made": handMade,
			"filtered without its cursor": noCursor.String(), "its file dumped again without its cursor": again.String()} {
			_, err := persist.Load(ctx, strings.NewReader(in), loc, persist.LoadOptions{Mode: persist.Replace})
			if !errors.Is(err, persist.ErrPartialStream) {
				t.Errorf("%s: %v, want ErrPartialStream", name, err)
			}
			if h := strings.Join(hint.All(err), "\n"); !strings.Contains(h, "persist-seal") || !strings.Contains(h, "leave out --mode replace") {
				t.Errorf("%s: hints %q", name, h)
			}
			if got := sum(); got != before {
				t.Fatalf("%s: the store changed: %s, was %s", name, got, before)
			}
			// Merged, either is fine.
			if _, err := persist.Load(ctx, strings.NewReader(in), loc, persist.LoadOptions{}); err != nil {
				t.Errorf("%s merged: %v", name, err)
			}
		}
		// Sealed as it is, a filtered dump is still one: the mark of a dump
		// filtered twice is the seal's.
		var sealed strings.Builder
		if _, err := persist.Seal(ctx, strings.NewReader(filtered.String()), &sealed, persist.SealOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := persist.Load(ctx, strings.NewReader(sealed.String()), loc, persist.LoadOptions{Mode: persist.Replace}); !errors.Is(err, persist.ErrPartialStream) {
			t.Fatalf("a filtered dump sealed: %v, want ErrPartialStream", err)
		}
		// Its items framed anew are the user's word.
		var framed strings.Builder
		if _, err := persist.Seal(ctx, strings.NewReader(handMade), &framed, persist.SealOptions{Unframed: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := persist.Load(ctx, strings.NewReader(framed.String()), loc, persist.LoadOptions{Mode: persist.Replace}); err != nil {
			t.Fatalf("framed anew: %v", err)
		}
		if _, err := s.Get(ctx, "orders", "k1"); !errors.Is(err, persist.ErrNotFound) {
			t.Errorf("after the sealed replace, orders/k1: %v, want ErrNotFound", err)
		}
	})
}

// A replace whose stream names an item on two lines cannot leave the
// store exactly the stream (the later line overwrites, or loses to, the
// earlier): it is refused before it commits, whatever the lines' order,
// versions and content, and the hint's command finds the item.
func TestReplaceRefusesRepeatedItems(t *testing.T) {
	const (
		a  = `{"kind":"record","collection":"users","key":"a","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}` + "\n"
		a2 = `{"kind":"record","collection":"users","key":"a","version":2,"updated_at":"2026-01-02T00:00:00.000000Z","value":2}` + "\n"
		ah = `{"kind":"record","collection":"users","key":"a","value":1}` + "\n"
		b  = `{"kind":"record","collection":"users","key":"b","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}` + "\n"
		e1 = `{"kind":"event","stream":"orders","seq":1,"type":"placed","at":"2026-01-01T00:00:00.000000Z","data":{}}` + "\n"
		e2 = `{"kind":"event","stream":"orders","seq":2,"type":"placed","at":"2026-01-01T00:00:00.000000Z","data":{}}` + "\n"
	)
	cases := map[string]string{
		"same line twice":              a + b + a,
		"next to each other":           a + a + b,
		"a newer version after":        a + b + a2,
		"an older version after":       a2 + b + a,
		"hand-made, without a version": ah + b + ah,
		"an event twice":               a + e1 + e2 + e1,
	}
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		loc := db.Location(t) + "#app"
		s := open(t, loc)
		if _, err := s.Put(ctx, "users", "kept", map[string]any{"n": 1}); err != nil {
			t.Fatal(err)
		}
		before, err := persist.Sum(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		for name, items := range cases {
			var in strings.Builder
			if _, err := persist.Seal(ctx, strings.NewReader(items), &in, persist.SealOptions{Unframed: true, Store: "app"}); err != nil {
				t.Fatalf("%s: sealing: %v", name, err)
			}
			_, err := persist.Load(ctx, strings.NewReader(in.String()), loc, persist.LoadOptions{Mode: persist.Replace})
			if !errors.Is(err, persist.ErrRepeated) {
				t.Errorf("%s: %v, want ErrRepeated", name, err)
				continue
			}
			if h := strings.Join(hint.All(err), "\n"); !strings.Contains(h, "uniq -d") || !strings.Contains(h, "leave out --mode replace") {
				t.Errorf("%s: hints %q", name, h)
			}
			if after, err := persist.Sum(ctx, loc); err != nil || after.Sum != before.Sum {
				t.Fatalf("%s: the store changed: %+v, %v; was %s", name, after, err, before.Sum)
			}
			// Merged, the lines apply in order.
			if _, err := persist.Load(ctx, strings.NewReader(in.String()), db.Location(t)+"#merged", persist.LoadOptions{}); err != nil {
				t.Errorf("%s merged: %v", name, err)
			}
		}
		// Each item once replaces.
		var once strings.Builder
		if _, err := persist.Seal(ctx, strings.NewReader(a+b+e1+e2), &once, persist.SealOptions{Unframed: true, Store: "app"}); err != nil {
			t.Fatal(err)
		}
		if res, err := persist.Load(ctx, strings.NewReader(once.String()), loc, persist.LoadOptions{Mode: persist.Replace}); err != nil || res.Written != 2 || res.Events != 2 {
			t.Fatalf("each item once: %+v, %v", res, err)
		}
	})
}

// A patch makes B exactly A, removing what A lacks, so an A that may hold
// only part of its store is refused as a replace refuses it, with nothing
// written: a stream without a header, a dump persist-dump filtered, a
// --live dump. The whole dump makes a patch.
func TestPatchRefusesPartialA(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	loc := "sqlite:" + filepath.Join(dir, "app.db") + "#app"
	s := open(t, loc)
	for _, c := range []string{"users", "orders"} {
		if _, err := s.Put(ctx, c, "k1", map[string]any{"c": c}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete(ctx, "users", "k1"); err != nil {
		t.Fatal(err)
	}
	dump := func(name string, f persist.Filter) string {
		var b strings.Builder
		if _, err := persist.Dump(ctx, loc, &b, persist.DumpOptions{ReadOptions: persist.ReadOptions{Filter: f}}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if name == "hand-made.jsonl" {
			lines := strings.SplitAfter(b.String(), "\n")
			b.Reset()
			b.WriteString(strings.Join(lines[1:len(lines)-2], ""))
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	target := "sqlite:" + filepath.Join(dir, "copy.db") + "#app"
	if _, err := persist.Migrate(ctx, loc, target, persist.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{dump("filtered.jsonl", persist.Filter{Collections: []string{"orders"}}),
		dump("live.jsonl", persist.Filter{Live: true}), dump("hand-made.jsonl", persist.Filter{})} {
		var patch strings.Builder
		_, err := persist.Diff(ctx, a, target, &patch, persist.DiffOptions{Format: persist.DiffPatch})
		if !errors.Is(err, persist.ErrPartialStream) || patch.Len() > 0 {
			t.Errorf("patch from %s: %v, %d bytes written; want ErrPartialStream and nothing", filepath.Base(a), err, patch.Len())
		}
		if h := strings.Join(hint.All(err), "\n"); !strings.Contains(h, "persist-load "+target) || !strings.Contains(h, "persist-seal --unframed") {
			t.Errorf("patch from %s: hints %q", filepath.Base(a), h)
		}
	}
	var patch strings.Builder
	if _, err := persist.Diff(ctx, dump("whole.jsonl", persist.Filter{}), target, &patch, persist.DiffOptions{Format: persist.DiffPatch}); err != nil || patch.Len() == 0 {
		t.Errorf("patch from the whole dump: %v, %d bytes", err, patch.Len())
	}
}

// A patch is applied exactly as persist-diff made it: IgnoreTrailer, which
// would take an edited one, is refused before anything is written, and the
// patch as made applies.
func TestEditedPatchRefused(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	a, b := "sqlite:"+dir+"/a.db#app", "sqlite:"+dir+"/b.db#app"
	for i, loc := range []string{a, b} {
		s := open(t, loc)
		if _, err := s.Put(ctx, "users", "u1", i); err != nil {
			t.Fatal(err)
		}
	}
	var patch strings.Builder
	if _, err := persist.Diff(ctx, a, b, &patch, persist.DiffOptions{Format: persist.DiffPatch}); err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(patch.String(), `"value":0`, `"value":7`, 1)
	if edited == patch.String() {
		t.Fatalf("nothing edited in %s", patch.String())
	}
	_, err := persist.Load(ctx, strings.NewReader(edited), b, persist.LoadOptions{IgnoreTrailer: true})
	if !errors.Is(err, persist.ErrPatchTarget) || !strings.Contains(err.Error(), "a trailer that no longer matches is never excused") {
		t.Fatalf("an edited patch with IgnoreTrailer: %v", err)
	}
	if _, err := persist.Load(ctx, strings.NewReader(patch.String()), b, persist.LoadOptions{}); err != nil {
		t.Fatalf("the patch as made: %v", err)
	}
	res, err := persist.Compare(ctx, a, b, persist.CompareOptions{})
	if err != nil || !res.Equal() {
		t.Fatalf("after the patch: %+v, %v", res, err)
	}
}

// A load whose input stalls (a producer that hangs, its pipe left open)
// ends when its context does, with what it committed, and does not close
// the input's reader under a read still waiting on it (the race detector
// watches). The read ends when the pipe does.
func TestLoadCancelledOnStalledInput(t *testing.T) {
	loc := "sqlite:" + t.TempDir() + "/stall.db#app"
	s := open(t, loc) // a database that exists: batches commit in place
	s.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	type result struct {
		res persist.LoadResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := persist.Load(ctx, pr, loc, persist.LoadOptions{BatchSize: 10})
		done <- result{res, err}
	}()
	for i := range 25 {
		fmt.Fprintf(pw, `{"kind":"record","collection":"c","key":"k%02d","value":%d}`+"\n", i, i)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if res, err := persist.Sum(ctx, loc); err == nil && res.Records >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the two whole batches were not committed")
		}
	}
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) || r.res.Batches != 2 || r.res.Written != 20 {
			t.Fatalf("%+v, %v; want 2 batches, 20 written, and the cancel", r.res, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the load waited on its input after the cancel")
	}
	pw.Close() // the read under way ends, and the reader is closed after it
	time.Sleep(50 * time.Millisecond)
}
