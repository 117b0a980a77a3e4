package persist_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/testdb"
)

// Through the Go API, with a writer putting, deleting and appending all the
// while: a full dump and deltas, each loaded in turn into the other kind of
// database, leave it equal to the source once the writer stops.
func TestDeltasWhileWriting(t *testing.T) {
	for _, src := range backends {
		for _, dst := range backends {
			if src.name == dst.name {
				continue
			}
			t.Run(src.name+" to "+dst.name, func(t *testing.T) {
				ctx := testContext(t)
				from, to := src.new(t)+"#app", dst.new(t)+"#app"
				seed, err := os.Open(writeStream(t, 2000))
				if err != nil {
					t.Fatal(err)
				}
				defer seed.Close()
				if _, err := persist.Load(ctx, seed, from, persist.LoadOptions{}); err != nil {
					t.Fatal(err)
				}
				w := startWriter(t, open(t, from), 3)
				since := ""
				copyOnce := func() persist.DumpResult {
					t.Helper()
					var buf bytes.Buffer
					res, err := persist.Dump(ctx, from, &buf, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: since}})
					if err != nil {
						t.Fatalf("Dump since %q: %v", since, err)
					}
					if res.Cursor == "" {
						t.Fatal("the dump has no cursor")
					}
					if _, err := persist.Load(ctx, &buf, to, persist.LoadOptions{}); err != nil {
						t.Fatalf("Load of the dump since %q: %v", since, err)
					}
					since = res.Cursor
					return res
				}
				copyOnce()
				var changes int64
				for range 3 {
					w.waitOps(t, 40)
					d := copyOnce()
					changes += d.Records + d.Events
				}
				w.check(t)
				copyOnce()
				if changes == 0 {
					t.Errorf("the deltas held nothing, while the writer wrote %d times", w.ops.Load())
				}
				if a, b := mustSum(t, from), mustSum(t, to); a.Sum != b.Sum || a.Records != b.Records || a.Events != b.Events {
					t.Fatalf("after the last delta: %+v, %+v", a, b)
				}
			})
		}
	}
}

// The API's errors for deltas: a delta into a store that loaded no dump
// of its source (ErrChain), a cursor of another store (ErrCursor).
func TestDeltaErrors(t *testing.T) {
	ctx := testContext(t)
	a, b := backends[0].new(t)+"#app", backends[0].new(t)+"#app"
	for _, loc := range []string{a, b} {
		s := open(t, loc)
		if _, err := s.Put(ctx, "c", "k", 1); err != nil {
			t.Fatal(err)
		}
	}
	var full bytes.Buffer
	res, err := persist.Dump(ctx, a, &full, persist.DumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, a).Put(ctx, "c", "k2", 2); err != nil {
		t.Fatal(err)
	}
	var delta bytes.Buffer
	if _, err := persist.Dump(ctx, a, &delta, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: res.Cursor}}); err != nil {
		t.Fatal(err)
	}
	if _, err := persist.Load(ctx, bytes.NewReader(delta.Bytes()), b, persist.LoadOptions{}); !errors.Is(err, persist.ErrChain) {
		t.Errorf("Load of a delta before its full dump: %v, want ErrChain", err)
	}
	if _, err := persist.Load(ctx, bytes.NewReader(delta.Bytes()), b, persist.LoadOptions{IgnoreSince: true}); err != nil {
		t.Errorf("Load with IgnoreSince: %v", err)
	}
	if _, err := persist.Dump(ctx, b, &bytes.Buffer{}, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: res.Cursor}}); !errors.Is(err, persist.ErrCursor) {
		t.Errorf("Dump of another store since a's cursor: %v, want ErrCursor", err)
	}
}

// A stream that went through Seal (edited on purpose: it may lack items of
// its dump) and a whole one do not chain, either way round: the copy would
// lack what the edit left out, with no error. Sealed after sealed does.
func TestSealedChain(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			a := be.new(t) + "#app"
			if _, err := open(t, a).Put(ctx, "c", "k", 1); err != nil {
				t.Fatal(err)
			}
			var full, sealedFull bytes.Buffer
			res, err := persist.Dump(ctx, a, &full, persist.DumpOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := persist.Seal(ctx, bytes.NewReader(full.Bytes()), &sealedFull, persist.SealOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := open(t, a).Put(ctx, "c", "k2", 2); err != nil {
				t.Fatal(err)
			}
			var delta, sealedDelta bytes.Buffer
			if _, err := persist.Dump(ctx, a, &delta, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: res.Cursor}}); err != nil {
				t.Fatal(err)
			}
			sres, err := persist.Seal(ctx, bytes.NewReader(delta.Bytes()), &sealedDelta, persist.SealOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(sres.Cursor, ",s") {
				t.Errorf("Seal's cursor %q is not marked sealed", sres.Cursor)
			}
			for _, tc := range []struct {
				name         string
				first, delta []byte
				ok           bool
			}{
				{"whole, then sealed", full.Bytes(), sealedDelta.Bytes(), false},
				{"sealed, then whole", sealedFull.Bytes(), delta.Bytes(), false},
				{"sealed, then sealed", sealedFull.Bytes(), sealedDelta.Bytes(), true},
				{"whole, then whole", full.Bytes(), delta.Bytes(), true},
			} {
				b := be.new(t) + "#app"
				if _, err := persist.Load(ctx, bytes.NewReader(tc.first), b, persist.LoadOptions{}); err != nil {
					t.Fatalf("%s: the first load: %v", tc.name, err)
				}
				_, err := persist.Load(ctx, bytes.NewReader(tc.delta), b, persist.LoadOptions{})
				if tc.ok && err != nil || !tc.ok && !errors.Is(err, persist.ErrChain) {
					t.Errorf("%s: Load of the delta: %v, want ok=%v (else ErrChain)", tc.name, err, tc.ok)
				}
			}
			// A sealed cursor starts a delta as its dump's cursor does.
			var again bytes.Buffer
			if _, err := persist.Dump(ctx, a, &again, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: res.Cursor + ",s"}}); err != nil {
				t.Fatalf("Dump since the sealed cursor: %v", err)
			}
			// Its trailer's cursor is where this dump stands (on PostgreSQL,
			// the loads above moved that on); the rest is the same.
			body := func(b []byte) []byte { return b[:bytes.LastIndex(b[:len(b)-1], []byte("\n"))] }
			if !bytes.Equal(body(again.Bytes()), body(delta.Bytes())) {
				t.Errorf("the delta since the sealed cursor differs from the one since its dump's:\n%s\n%s", again.Bytes(), delta.Bytes())
			}
		})
	}
}

// A replace or a patch makes a store something else than the dumps loaded
// into it before built: the next delta of such a dump is refused
// (ErrChain), where it would have mixed the two sources' data without a
// word. Once its full dump is loaded again, the chain goes on.
func TestReplaceEndsChains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		src, other := backends[0].new(t)+"#app", backends[0].new(t)+"#app"
		for _, loc := range []string{src, other} {
			if _, err := open(t, loc).Put(ctx, "c", loc, 1); err != nil {
				t.Fatal(err)
			}
		}
		for _, how := range []string{"replace", "patch"} {
			t.Run(how, func(t *testing.T) {
				target := db.Location(t) + "#" + how
				var full bytes.Buffer
				res, err := persist.Dump(ctx, src, &full, persist.DumpOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := persist.Load(ctx, bytes.NewReader(full.Bytes()), target, persist.LoadOptions{}); err != nil {
					t.Fatal(err)
				}
				var by bytes.Buffer
				if how == "replace" {
					if _, err := persist.Dump(ctx, other, &by, persist.DumpOptions{}); err != nil {
						t.Fatal(err)
					}
				} else if _, err := persist.Diff(ctx, other, target, &by, persist.DiffOptions{Format: persist.DiffPatch}); err != nil {
					t.Fatal(err)
				}
				if _, err := persist.Load(ctx, &by, target, persist.LoadOptions{Mode: map[string]persist.LoadMode{"replace": persist.Replace, "patch": persist.Merge}[how]}); err != nil {
					t.Fatal(err)
				}
				if _, err := open(t, src).Put(ctx, "c", how, 2); err != nil {
					t.Fatal(err)
				}
				var delta bytes.Buffer
				if _, err := persist.Dump(ctx, src, &delta, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: res.Cursor}}); err != nil {
					t.Fatal(err)
				}
				if _, err := persist.Load(ctx, bytes.NewReader(delta.Bytes()), target, persist.LoadOptions{}); !errors.Is(err, persist.ErrChain) {
					t.Errorf("the source's delta after a %s: %v, want ErrChain", how, err)
				}
				if _, err := persist.Load(ctx, bytes.NewReader(full.Bytes()), target, persist.LoadOptions{}); err != nil {
					t.Fatal(err)
				}
				if _, err := persist.Load(ctx, bytes.NewReader(delta.Bytes()), target, persist.LoadOptions{}); err != nil {
					t.Errorf("the delta after its full dump again: %v", err)
				}
			})
		}
	})
}

// A patch writes A's items over B's whatever their versions. Where it puts
// back an older version, or other content at B's version or seq, a delta
// of B would reach B's copies as a stale line, skipped, or a conflict: the
// patch deletes those items outright before writing them, so B's next
// delta is refused (ErrRemoved) as after a remove line, and a full dump
// starts a new chain. A patch whose writes are all newer keeps the chain.
func TestPatchOverNewerEndsChains(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		for _, tc := range []struct {
			name  string
			b     func(s *persist.Store) error // B's writes after its copy of A
			a     func(s *persist.Store) error // A's, after B was made
			ended bool
		}{
			{"an older version put back", func(s *persist.Store) error { _, err := s.Put(ctx, "c", "k", 2); return err }, nil, true},
			{"an event with other content", func(s *persist.Store) error { _, err := s.Append(ctx, "s", "t", "B's"); return err },
				func(s *persist.Store) error { _, err := s.Append(ctx, "s", "t", "A's"); return err }, true},
			{"only newer versions", nil, func(s *persist.Store) error { _, err := s.Put(ctx, "c", "k", 3); return err }, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a, b := backends[0].new(t)+"#app", db.Location(t)+"#app"
				if _, err := open(t, a).Put(ctx, "c", "k", 1); err != nil {
					t.Fatal(err)
				}
				var full bytes.Buffer
				if _, err := persist.Dump(ctx, a, &full, persist.DumpOptions{}); err != nil {
					t.Fatal(err)
				}
				if _, err := persist.Load(ctx, &full, b, persist.LoadOptions{}); err != nil {
					t.Fatal(err)
				}
				for _, w := range []struct {
					loc string
					fn  func(s *persist.Store) error
				}{{b, tc.b}, {a, tc.a}} {
					if w.fn != nil {
						if err := w.fn(open(t, w.loc)); err != nil {
							t.Fatal(err)
						}
					}
				}
				res, err := persist.Dump(ctx, b, io.Discard, persist.DumpOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var patch bytes.Buffer
				if _, err := persist.Diff(ctx, a, b, &patch, persist.DiffOptions{Format: persist.DiffPatch}); err != nil {
					t.Fatal(err)
				}
				if _, err := persist.Load(ctx, &patch, b, persist.LoadOptions{}); err != nil {
					t.Fatal(err)
				}
				sa, errA := persist.Sum(ctx, a)
				sb, errB := persist.Sum(ctx, b)
				if errA != nil || errB != nil || sa.Sum != sb.Sum {
					t.Fatalf("B after the patch: %+v, %v; A: %+v, %v", sb, errB, sa, errA)
				}
				_, err = persist.Dump(ctx, b, io.Discard, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: res.Cursor}})
				if tc.ended && !errors.Is(err, persist.ErrRemoved) {
					t.Errorf("B's delta after the patch: %v, want ErrRemoved", err)
				}
				if !tc.ended && err != nil {
					t.Errorf("B's delta after a patch of newer versions: %v", err)
				}
			})
		}
	})
}

// A delta dumped again with --live is refused as a --live delta of the
// store is: without its tombstones, marked by the filter, it would chain
// after a --live full dump, and the copy keep what was deleted. A full
// dump's file dumped again with --live is fine.
func TestLiveDeltaFileRefused(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	a := backends[0].new(t) + "#app"
	s := open(t, a)
	if _, err := s.Put(ctx, "c", "k", 1); err != nil {
		t.Fatal(err)
	}
	full, delta := filepath.Join(dir, "full.jsonl"), filepath.Join(dir, "delta.jsonl")
	var b bytes.Buffer
	res, err := persist.Dump(ctx, a, &b, persist.DumpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(full, b.Bytes(), 0o644)
	if _, err := s.Delete(ctx, "c", "k"); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if _, err := persist.Dump(ctx, a, &b, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: res.Cursor}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(delta, b.Bytes(), 0o644)
	live := persist.DumpOptions{ReadOptions: persist.ReadOptions{Filter: persist.Filter{Live: true}}}
	var out bytes.Buffer
	if _, err := persist.Dump(ctx, delta, &out, live); !errors.Is(err, persist.ErrLiveDelta) || out.Len() > 0 {
		t.Errorf("--live dump of a delta file: %v, %d bytes; want ErrLiveDelta and nothing", err, out.Len())
	}
	if _, err := persist.Dump(ctx, full, &out, live); err != nil {
		t.Errorf("--live dump of a full dump's file: %v", err)
	}
	// Summed or diffed, it writes no stream: read as asked.
	src, err := persist.OpenSource(ctx, delta, live.ReadOptions)
	if err != nil {
		t.Fatalf("--live read of a delta file: %v", err)
	}
	defer src.Close()
	if res, _, err := src.Sum(ctx, persist.SumOptions{}); err != nil || res.Records != 0 {
		t.Errorf("--live sum of a delta file: %+v, %v; want its live records (none)", res, err)
	}
	if _, err := persist.Diff(ctx, delta, delta+"x", io.Discard, persist.DiffOptions{ReadOptions: live.ReadOptions}); errors.Is(err, persist.ErrLiveDelta) {
		t.Errorf("--live diff of a delta file: %v", err)
	}
}

// A delta loaded again, once it was the last loaded, is a load with
// nothing to do (a load is idempotent): read whole, nothing written, the
// chain as it was. One that starts past the last loaded is refused, the
// error naming both ends and the hint the delta to load first, and that
// --ignore-since would leave the gap's changes out for good.
func TestDeltaLoadedAgain(t *testing.T) {
	ctx := testContext(t)
	a, b := backends[0].new(t)+"#app", backends[0].new(t)+"#app"
	s := open(t, a)
	var streams []*bytes.Buffer
	cursor := ""
	for i := range 4 {
		if _, err := s.Put(ctx, "c", fmt.Sprint("k", i), i); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		res, err := persist.Dump(ctx, a, &buf, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		cursor = res.Cursor
		streams = append(streams, &buf)
	}
	load := func(i int) (persist.LoadResult, error) {
		return persist.Load(ctx, bytes.NewReader(streams[i].Bytes()), b, persist.LoadOptions{})
	}
	for i := range 2 {
		if _, err := load(i); err != nil {
			t.Fatal(err)
		}
	}
	res, err := load(1)
	if err != nil || !res.LoadedAlready || res.Written+res.Unchanged != 0 {
		t.Errorf("the last delta again: %+v, %v; want LoadedAlready and nothing written", res, err)
	}
	// Edited on its way, and read with IgnoreTrailer, its end proves
	// nothing: refused as before, not "loaded already".
	edited := strings.Replace(streams[1].String(), `"value":1`, `"value":10`, 1)
	if res, err := persist.Load(ctx, strings.NewReader(edited), b, persist.LoadOptions{IgnoreTrailer: true}); !errors.Is(err, persist.ErrChain) || res.LoadedAlready {
		t.Errorf("the last delta edited, its trailer ignored: %+v, %v; want ErrChain", res, err)
	}
	if _, err := load(2); err != nil {
		t.Errorf("the next delta after it: %v", err)
	}
	_, err = load(1)
	if !errors.Is(err, persist.ErrChain) || !strings.Contains(err.Error(), "deltas between the two are missing, or this one is older") {
		t.Errorf("an older delta: %v, want ErrChain", err)
	}
	// A gap: a store that loaded the first two gets the fourth.
	c := backends[0].new(t) + "#app"
	for _, i := range []int{0, 1} {
		if _, err := persist.Load(ctx, bytes.NewReader(streams[i].Bytes()), c, persist.LoadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = persist.Load(ctx, bytes.NewReader(streams[3].Bytes()), c, persist.LoadOptions{})
	if h := strings.Join(hint.All(err), "\n"); !errors.Is(err, persist.ErrChain) || !strings.Contains(h, "for good") {
		t.Errorf("a gap: %v (hints %q), want ErrChain and the hint", err, h)
	}
}

// A delta loaded in its chain merges as any stream: a record its copy
// holds newer (written outside the chain, or loaded ahead from a later
// dump of the source, as a chain loaded again is) is stale, kept, and the
// result says the delta was chained; the chain goes on. A record the copy
// holds at the same version with other content is the copy parting from
// its source (ErrDiverged): the load stops there and notes no cursor, and
// the hint's way, a new full dump replacing the copy, mends it.
func TestChainedStaleAndConflict(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		ctx := testContext(t)
		src, dst := backends[0].new(t)+"#app", db.Location(t)+"#app"
		for _, k := range []string{"a", "b", "c"} {
			if _, err := open(t, src).Put(ctx, "c", k, 1); err != nil {
				t.Fatal(err)
			}
		}
		dump := func(since string) (*bytes.Buffer, string) {
			t.Helper()
			var b bytes.Buffer
			res, err := persist.Dump(ctx, src, &b, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: since}})
			if err != nil {
				t.Fatal(err)
			}
			return &b, res.Cursor
		}
		full, cursor := dump("")
		if _, err := persist.Load(ctx, full, dst, persist.LoadOptions{}); err != nil {
			t.Fatal(err)
		}
		// b twice in the copy, past the source.
		for range 2 {
			if _, err := open(t, dst).Put(ctx, "c", "b", "copy's own"); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range []string{"a", "b"} {
			if _, err := open(t, src).Put(ctx, "c", k, 2); err != nil {
				t.Fatal(err)
			}
		}
		delta, next := dump(cursor)
		lr, err := persist.Load(ctx, delta, dst, persist.LoadOptions{})
		if err != nil || !lr.Chained || lr.Stale != 1 || lr.FirstStale != 3 || lr.Written != 1 {
			t.Fatalf("a chained delta with a record the copy holds newer: %+v, %v; want it loaded, chained, b stale at line 3", lr, err)
		}
		// The chain went on: c's version 2 in the copy is another content
		// than the source's, which a delta then brings at that version.
		if _, err := persist.Load(ctx, strings.NewReader(
			`{"kind":"record","collection":"c","key":"c","version":2,"updated_at":"2026-01-01T00:00:00Z","value":"copy's"}`+"\n"),
			dst, persist.LoadOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := open(t, src).Put(ctx, "c", "c", 2); err != nil {
			t.Fatal(err)
		}
		delta, _ = dump(next)
		for range 2 { // refused again: the cursor was not noted
			_, err := persist.Load(ctx, bytes.NewReader(delta.Bytes()), dst, persist.LoadOptions{})
			if !errors.Is(err, persist.ErrDiverged) || !errors.Is(err, persist.ErrConflict) {
				t.Fatalf("a chained delta with a record the copy holds at its version, another content: %v, want ErrDiverged", err)
			}
			if h := strings.Join(hint.All(err), " "); !strings.Contains(h, "--mode replace") || strings.Contains(h, "--rejects") {
				t.Errorf("hint %q", h)
			}
		}
		full, _ = dump("")
		if _, err := persist.Load(ctx, full, dst, persist.LoadOptions{Mode: persist.Replace}); err != nil {
			t.Fatalf("a new full dump replacing the copy, as the hint says: %v", err)
		}
		if a, b := mustSum(t, src), mustSum(t, dst); a.Sum != b.Sum {
			t.Errorf("after the new full dump: %+v, %+v", a, b)
		}
	})
}

// A store that several sources feed: a chained delta of one that meets a
// record another brought at the same version parts the copy as any
// conflict, and the hint says the other source may hold the record.
func TestFanInSaysWhy(t *testing.T) {
	ctx := testContext(t)
	one, two, dst := backends[0].new(t)+"#one", backends[0].new(t)+"#two", backends[0].new(t)+"#app"
	if _, err := open(t, one).Put(ctx, "c", "k", "one"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := open(t, two).Put(ctx, "c", "k", "two"); err != nil {
			t.Fatal(err)
		}
	}
	var cursor string
	for _, src := range []string{one, two} {
		var full bytes.Buffer
		res, err := persist.Dump(ctx, src, &full, persist.DumpOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if src == one {
			cursor = res.Cursor
		}
		if _, err := persist.Load(ctx, &full, dst, persist.LoadOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := open(t, one).Put(ctx, "c", "k", "one again"); err != nil {
		t.Fatal(err)
	}
	var delta bytes.Buffer
	if _, err := persist.Dump(ctx, one, &delta, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: cursor}}); err != nil {
		t.Fatal(err)
	}
	_, err := persist.Load(ctx, &delta, dst, persist.LoadOptions{})
	if !errors.Is(err, persist.ErrDiverged) || !strings.Contains(strings.Join(hint.All(err), " "), "dumps of another source too") {
		t.Errorf("a delta of one of two sources meeting the other's record at its version: %v %q; want ErrDiverged saying the other source may hold it",
			err, hint.All(err))
	}
}
