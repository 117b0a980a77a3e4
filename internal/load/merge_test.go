package load

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

func TestMergeOutcomes(t *testing.T) {
	base := []string{
		rec("users", "u1", 2, `{"n":1}`),
		rec("users", "u2", 2, `{"n":2}`),
		rec("users", "u3", 2, `{"n":3}`),
		tomb("users", "u4", 3),
		ev("orders", 1, "placed", `{"t":1}`),
	}
	cases := []struct {
		name  string
		lines []string
		want  Stats    // only the counters below are compared
		final []string // expected store content (dump order); nil: not checked
	}{
		{
			name: "new, stale, identical and newer",
			lines: []string{
				rec("users", "u1", 1, `{"n":0}`),  // stale
				rec("users", "u2", 2, `{"n":2}`),  // identical
				rec("users", "u3", 3, `{"n":33}`), // newer
				rec("users", "u5", 1, `{"n":5}`),  // new
				ev("orders", 1, "placed", `{"t":1}`),
				ev("orders", 2, "paid", `{"t":2}`),
			},
			want: Stats{Lines: 6, Written: 2, Unchanged: 1, Stale: 1, FirstStale: 1, Events: 1, EventsUnchanged: 1, Batches: 1},
			final: []string{
				rec("users", "u1", 2, `{"n":1}`),
				rec("users", "u2", 2, `{"n":2}`),
				rec("users", "u3", 3, `{"n":33}`),
				tomb("users", "u4", 3),
				rec("users", "u5", 1, `{"n":5}`),
				ev("orders", 1, "placed", `{"t":1}`),
				ev("orders", 2, "paid", `{"t":2}`),
			},
		},
		{
			name: "tombstone never resurrected by a stale copy",
			lines: []string{
				rec("users", "u4", 2, `{"alive":true}`),
				rec("users", "u4", 1, `{"alive":true}`),
			},
			want: Stats{Lines: 2, Stale: 2, FirstStale: 1, Batches: 1},
		},
		{
			name: "a newer tombstone deletes",
			lines: []string{
				tomb("users", "u1", 3),
			},
			want: Stats{Lines: 1, Written: 1, Batches: 1},
		},
		{
			name: "duplicates in one batch merge in stream order",
			lines: []string{
				rec("users", "u9", 1, `{"v":1}`),
				rec("users", "u9", 3, `{"v":3}`),
				rec("users", "u9", 2, `{"v":2}`), // stale against the line before it
				rec("users", "u9", 3, `{"v":3}`), // identical to it
			},
			want: Stats{Lines: 4, Written: 2, Stale: 1, FirstStale: 3, Unchanged: 1, Batches: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachTarget(t, func(t *testing.T, a adapters.Adapter) {
				mustLoad(t, a, Options{}, base...)
				st := mustLoad(t, a, Options{}, tc.lines...)
				st.Elapsed = 0
				want := tc.want
				want.Done = true // a load that returned no error read and committed it all
				if st != want {
					t.Errorf("stats\n got %+v\nwant %+v", st, want)
				}
				if tc.final != nil {
					if got, want := dump(t, a), sorted(t, tc.final...); !slices.Equal(got, want) {
						t.Errorf("store\n got %q\nwant %q", got, want)
					}
				}
			})
		})
	}
}

func TestConflictStops(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		mustLoad(t, a, Options{}, rec("users", "u1", 2, `{"n":1}`), ev("s", 1, "a", `1`))
		for _, line := range []string{rec("users", "u1", 2, `{"n":2}`), ev("s", 1, "a", `2`)} {
			st, err := Load(context.Background(), a, testStore, reader(t,
				rec("users", "u0", 1, `{}`), // before the conflict: written
				line,
				rec("users", "u2", 1, `{}`), // after it: not reached
			), Options{})
			if !errors.Is(err, ErrRejected) || !errors.Is(err, ErrConflict) {
				t.Fatalf("got %v, want a conflict that stops the load", err)
			}
			if !bytes.Contains([]byte(err.Error()), []byte("line 2")) {
				t.Errorf("error %q does not name line 2", err)
			}
			if st.Conflicts != 1 || st.Rejects != 1 {
				t.Errorf("stats %+v", st)
			}
		}
		want := sorted(t, rec("users", "u0", 1, `{}`), rec("users", "u1", 2, `{"n":1}`), ev("s", 1, "a", `1`))
		if got := dump(t, a); !slices.Equal(got, want) {
			t.Errorf("store\n got %q\nwant %q", got, want)
		}
	})
}

func TestLoadTwiceChangesNothing(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		data, sum := genStream(3000, 1, "x")
		ctx := context.Background()
		var progress []int64
		st1, err := Load(ctx, a, testStore, streamOf(t, data), Options{BatchSize: 500, OnProgress: func(s Stats) { progress = append(progress, s.Lines) }})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(progress, []int64{500, 1000, 1500, 2000, 2500, 3000, 3300}) {
			t.Errorf("progress calls %v", progress)
		}
		if st1.Written != 3000 || st1.Events != 300 || st1.Batches != 7 {
			t.Errorf("first load %+v", st1)
		}
		if got := storeSum(t, a); got != sum {
			t.Fatalf("store sum %s, stream sum %s", got, sum)
		}
		st2, err := Load(ctx, a, testStore, streamOf(t, data), Options{BatchSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		if st2.Written != 0 || st2.Events != 0 || st2.Unchanged != 3000 || st2.EventsUnchanged != 300 {
			t.Errorf("second load %+v", st2)
		}
		if got := storeSum(t, a); got != sum {
			t.Errorf("store sum after the second load %s, want %s", got, sum)
		}
	})
}

func TestHandMade(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		opt := Options{Now: nowFixed}
		mustLoad(t, a, opt, rec("users", "u2", 4, `{"old":true}`), ev("log", 5, "x", `null`))
		lines := []string{
			`{"kind":"record","collection":"users","key":"u1","value":{"name":"Ada"}}`,
			`{"kind":"record","collection":"users","key":"u2","value":{"name":"Bob"}}`,
			`{"kind":"record","collection":"users","key":"u3"}`,
			`{"kind":"record","collection":"users","key":"u4","deleted":true}`,
			`{"kind":"event","stream":"log","type":"a"}`,
			`{"kind":"event","stream":"log","type":"b","data":{"k":1}}`,
			`{"kind":"event","stream":"new","type":"c"}`,
		}
		st := mustLoad(t, a, opt, lines...)
		if st.Written != 4 || st.Events != 3 {
			t.Errorf("first load %+v", st)
		}
		want := sorted(t,
			`{"kind":"record","collection":"users","key":"u1","version":1,"updated_at":"`+fixedNowText+`","value":{"name":"Ada"}}`,
			`{"kind":"record","collection":"users","key":"u2","version":5,"updated_at":"`+fixedNowText+`","value":{"name":"Bob"}}`,
			`{"kind":"record","collection":"users","key":"u3","version":1,"updated_at":"`+fixedNowText+`","value":null}`,
			`{"kind":"record","collection":"users","key":"u4","version":1,"updated_at":"`+fixedNowText+`","deleted":true}`,
			ev("log", 5, "x", `null`),
			`{"kind":"event","stream":"log","seq":6,"type":"a","at":"`+fixedNowText+`","data":null}`,
			`{"kind":"event","stream":"log","seq":7,"type":"b","at":"`+fixedNowText+`","data":{"k":1}}`,
			`{"kind":"event","stream":"new","seq":1,"type":"c","at":"`+fixedNowText+`","data":null}`,
		)
		if got := dump(t, a); !slices.Equal(got, want) {
			t.Errorf("store\n got %q\nwant %q", got, want)
		}
		// Records again: nothing changes (events without seq do append).
		st = mustLoad(t, a, Options{}, lines[:4]...)
		if st.Written != 0 || st.Unchanged != 4 {
			t.Errorf("second load %+v", st)
		}
		// A changed hand-made record gets the next version.
		mustLoad(t, a, opt, `{"kind":"record","collection":"users","key":"u1","value":{"name":"Ada L."}}`)
		if got := dump(t, a)[0]; got != canon(t, `{"kind":"record","collection":"users","key":"u1","version":2,"updated_at":"`+fixedNowText+`","value":{"name":"Ada L."}}`) {
			t.Errorf("u1 after a change: %s", got)
		}
		// A versioned line without updated_at that matches is unchanged.
		st = mustLoad(t, a, opt, `{"kind":"record","collection":"users","key":"u1","version":2,"value":{"name":"Ada L."}}`)
		if st.Unchanged != 1 {
			t.Errorf("versioned line without time: %+v", st)
		}
	})
}

func TestApply(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		ctx := context.Background()
		items := parseItems(t,
			rec("users", "u1", 1, `{"a":1}`),
			`{"kind":"record","collection":"users","key":"u1","value":{"a":2}}`,
			`{"kind":"event","stream":"s","type":"t"}`,
		)
		st, err := Apply(ctx, a, testStore, items, Options{Now: nowFixed})
		if err != nil {
			t.Fatal(err)
		}
		if st.Written != 2 || st.Events != 1 || st.Batches != 1 {
			t.Errorf("stats %+v", st)
		}
		// A conflict fails the whole call: nothing of it is written.
		items = parseItems(t, rec("users", "u7", 1, `{}`), rec("users", "u1", 2, `{"other":1}`))
		if _, err := Apply(ctx, a, testStore, items, Options{}); !errors.Is(err, ErrConflict) {
			t.Fatalf("got %v, want a conflict", err)
		}
		if got := dump(t, a); len(got) != 2 {
			t.Errorf("store after a refused Apply: %q", got)
		}
	})
}

// The decide step alone, without a database: each line of a batch against
// what the store holds and what the lines before it decided.
func TestDecide(t *testing.T) {
	const now = "2026-12-01T00:00:00.000000Z"
	held := []string{rec("u", "a", 2, `1`), rec("u", "t", 3, `null`), ev("s", 1, "x", `1`)}
	cases := []struct {
		name    string
		lines   []string
		ordered bool
		want    []outcome // each line's outcome
		puts    []string  // what is written, in order
		err     string    // the error, if any
	}{
		{"newer, older, equal, other content", []string{rec("u", "a", 3, `3`), rec("u", "b", 1, `1`)}, true,
			[]outcome{outWritten, outWritten}, []string{rec("u", "a", 3, `3`), rec("u", "b", 1, `1`)}, ""},
		{"stale and unchanged", []string{rec("u", "a", 1, `0`), rec("u", "a", 2, `1`)}, false,
			[]outcome{outStale, outUnchanged}, nil, ""},
		{"a conflict goes to the rejects", []string{rec("u", "a", 2, `"other"`)}, true,
			[]outcome{outConflict}, nil, ""},
		{"a key twice: the second decided against the first", []string{rec("u", "c", 1, `1`), rec("u", "c", 2, `2`), rec("u", "c", 2, `2`)}, false,
			[]outcome{outWritten, outWritten, outUnchanged}, []string{rec("u", "c", 2, `2`)}, ""},
		{"hand-made: a new version, or none when unchanged", []string{`{"kind":"record","collection":"u","key":"a","value":1}`, `{"kind":"record","collection":"u","key":"t","value":5}`}, true,
			[]outcome{outUnchanged, outWritten}, []string{`{"kind":"record","collection":"u","key":"t","version":4,"updated_at":"` + now + `","value":5}`}, ""},
		{"events: identical, new, appended after the store's last", []string{ev("s", 1, "x", `1`), ev("s", 2, "y", `2`), `{"kind":"event","stream":"s","type":"z","data":3}`}, false,
			[]outcome{outEventUnchanged, outEventWritten, outEventWritten},
			[]string{ev("s", 2, "y", `2`), `{"kind":"event","stream":"s","seq":3,"type":"z","at":"` + now + `","data":3}`}, ""},
	}
	for _, tc := range cases {
		for _, stop := range []bool{false, true} {
			v := &storeView{held: map[key]*record.Item{}, next: map[string]int64{"s": 1}}
			for _, it := range parseItems(t, held...) {
				normalize(it)
				v.held[keyOf(it)] = it
			}
			var ents []*entry
			for i, it := range parseItems(t, tc.lines...) {
				ents = append(ents, &entry{line: int64(i + 1), it: it})
			}
			puts, err := decider{now: now, ordered: tc.ordered, stopAtConflict: stop}.decide(ents, v)
			if stop && slices.Contains(tc.want, outConflict) {
				var st *stopError
				if !errors.As(err, &st) || !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "line 1") {
					t.Errorf("%s: without rejects, err = %v, want a stop at line 1", tc.name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for i, e := range ents {
				if e.out != tc.want[i] {
					t.Errorf("%s: line %d: outcome %d, want %d", tc.name, i+1, e.out, tc.want[i])
				}
			}
			var got []string
			for _, p := range puts {
				got = append(got, string(record.AppendItem(nil, p)))
			}
			var want []string
			for _, l := range tc.puts {
				want = append(want, canon(t, l))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: puts\n got %q\nwant %q", tc.name, got, want)
			}
		}
	}
	// A Fresh attempt hands a conflict within the batch back to the full way.
	ents := []*entry{{line: 1, it: parseItems(t, rec("u", "n", 1, `1`))[0]}, {line: 2, it: parseItems(t, rec("u", "n", 1, `2`))[0]}}
	if _, err := (decider{now: now, fresh: true}).decide(ents, &storeView{held: map[key]*record.Item{}}); !errors.Is(err, errNotFresh) {
		t.Errorf("fresh attempt with a conflict in the batch: %v, want errNotFresh", err)
	}
}
