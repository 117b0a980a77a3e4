package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/testdb"
)

func TestRejects(t *testing.T) {
	lines := []string{
		rec("users", "a", 1, `{}`),
		`{"kind":"record","collection":"users","key":`,
		`{"kind":"record","collection":"users","key":"x","colour":"red"}`,
		rec("users", "nul", 1, `{"s":"a\u0000b"}`),
		rec("users", "c", 1, `{"mine":true}`), // conflicts with the store
		"{\"kind\":\"record\",\"collection\":\"users\",\"key\":\"\xff\"}",
		rec("users", "b", 1, `{}`),
	}
	type want struct {
		line   int64
		reason string // a part of the reason
		base64 bool
	}
	common := []want{
		{2, "invalid JSON", false},
		{3, "colour", false},
		{5, "conflict", false},
		{6, "invalid JSON", true},
	}
	for _, tg := range testdb.All {
		t.Run(tg.Name, func(t *testing.T) {
			a, _ := tg.Open(t)
			mustLoad(t, a, Options{}, rec("users", "c", 1, `{"theirs":true}`))
			wants := slices.Clone(common)
			written := int64(3)
			if tg.Name == "postgres" {
				wants = append(wants, want{4, "\\u0000", false})
				slices.SortFunc(wants, func(x, y want) int { return int(x.line - y.line) })
				written = 2
			}
			var rej bytes.Buffer
			st, err := Load(context.Background(), a, testStore, reader(t, lines...), Options{Rejects: &rej, BatchSize: 2})
			if !errors.Is(err, ErrRejected) {
				t.Fatalf("got %v, want ErrRejected", err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%d of 7", len(wants))) {
				t.Errorf("error %q does not count the rejects", err)
			}
			if st.Lines != 7 || st.Written != written || st.Rejects != int64(len(wants)) || st.Conflicts != 1 {
				t.Errorf("stats %+v", st)
			}
			if st.Written+st.Unchanged+st.Stale+st.Rejects != st.Lines {
				t.Errorf("lines not accounted for: %+v", st)
			}
			sc := bufio.NewScanner(&rej)
			var i int
			for sc.Scan() {
				var r struct {
					Line      int64   `json:"line"`
					Reason    string  `json:"reason"`
					Raw       *string `json:"raw"`
					RawBase64 []byte  `json:"raw_base64"`
				}
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("rejects line %q: %v", sc.Text(), err)
				}
				if i >= len(wants) {
					t.Fatalf("extra reject %s", sc.Text())
				}
				w := wants[i]
				i++
				if r.Line != w.line || !strings.Contains(r.Reason, w.reason) {
					t.Errorf("reject %s, want line %d with %q", sc.Text(), w.line, w.reason)
				}
				raw := lines[w.line-1]
				switch {
				case w.base64 && (r.Raw != nil || string(r.RawBase64) != raw):
					t.Errorf("reject %s: want raw_base64 of the line", sc.Text())
				case !w.base64 && (r.Raw == nil || *r.Raw != raw):
					t.Errorf("reject %s: want raw %q", sc.Text(), raw)
				}
			}
			if i != len(wants) {
				t.Errorf("%d rejects, want %d", i, len(wants))
			}
		})
	}
}

func TestUnsupportedStops(t *testing.T) {
	for _, tg := range testdb.All {
		t.Run(tg.Name, func(t *testing.T) {
			a, _ := tg.Open(t)
			st, err := Load(context.Background(), a, testStore, reader(t,
				rec("u", "a", 1, `{}`),
				rec("u", "nul", 1, `"\u0000"`),
				rec("u", "b", 1, `{}`),
			), Options{})
			if tg.Name == "sqlite" {
				if err != nil || st.Written != 3 {
					t.Fatalf("sqlite takes \\u0000: %v %+v", err, st)
				}
				return
			}
			if !errors.Is(err, adapters.ErrUnsupported) || !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "line 2") {
				t.Fatalf("got %v, want line 2 unsupported", err)
			}
			// The line before it was written; the load stopped there.
			if got := dump(t, a); !slices.Equal(got, sorted(t, rec("u", "a", 1, `{}`))) {
				t.Errorf("store %q", got)
			}
		})
	}
}

func TestAtomicAndStops(t *testing.T) {
	var lines []string
	for i := range 10 {
		lines = append(lines, rec("u", fmt.Sprintf("k%d", i), 1, `{}`))
	}
	lines[7] = `{"kind":"record","collection":"u","key":"k7","value":}` // line 8
	base := []string{rec("u", "z", 1, `{}`)}
	cases := []struct {
		name string
		opt  Options
		keep int // stream lines in the store afterwards
	}{
		{"batches", Options{BatchSize: 3}, 7},
		{"atomic", Options{BatchSize: 3, Atomic: true}, 0},
		{"replace", Options{BatchSize: 3, Mode: Replace}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachTarget(t, func(t *testing.T, a adapters.Adapter) {
				mustLoad(t, a, Options{}, base...)
				_, err := Load(context.Background(), a, testStore, reader(t, lines...), tc.opt)
				var le *record.LineError
				if !errors.As(err, &le) && !strings.Contains(fmt.Sprint(err), "line 8") {
					t.Fatalf("got %v, want an error at line 8", err)
				}
				want := sorted(t, append(slices.Clone(base), lines[:tc.keep]...)...)
				if got := dump(t, a); !slices.Equal(got, want) {
					t.Errorf("store\n got %q\nwant %q", got, want)
				}
			})
		})
	}
}

func TestReplace(t *testing.T) {
	const emptySum = "persist1:0000000000000000000000000000000000000000000000000000000000000000"
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		ctx := context.Background()
		base := []string{rec("u", "a", 1, `{}`), rec("u", "b", 7, `{"old":1}`), ev("s", 1, "x", `1`)}
		mustLoad(t, a, Options{}, base...)

		// A key on two lines, in two batches: no store holds exactly the
		// stream, so the replace is refused before it commits.
		twice := []string{
			rec("u", "b", 2, `{"new":1}`),
			rec("u", "c", 1, `{}`),
			`{"kind":"record","collection":"u","key":"c","value":{"again":1}}`,
			ev("t", 4, "y", `2`),
		}
		if _, err := Load(ctx, a, testStore, reader(t, twice...), Options{Mode: Replace, BatchSize: 2, Now: nowFixed}); !errors.Is(err, ErrRepeated) {
			t.Fatalf("a key twice: %v, want ErrRepeated", err)
		}
		if got, want := dump(t, a), sorted(t, base...); !slices.Equal(got, want) {
			t.Fatalf("store after a refused replace\n got %q\nwant %q", got, want)
		}

		next := []string{twice[0], twice[2], twice[3]}
		st, err := Load(ctx, a, testStore, reader(t, next...), Options{Mode: Replace, BatchSize: 2, Now: nowFixed})
		if err != nil {
			t.Fatal(err)
		}
		if st.Written != 2 || st.Events != 1 {
			t.Errorf("stats %+v", st)
		}
		want := sorted(t, next[0],
			`{"kind":"record","collection":"u","key":"c","version":1,"updated_at":"`+fixedNowText+`","value":{"again":1}}`,
			next[2])
		if got := dump(t, a); !slices.Equal(got, want) {
			t.Fatalf("store\n got %q\nwant %q", got, want)
		}

		// No line at all: refused, the store stays.
		_, err = Load(ctx, a, testStore, reader(t), Options{Mode: Replace})
		if !errors.Is(err, ErrEmptyInput) {
			t.Fatalf("empty input: got %v, want ErrEmptyInput", err)
		}
		if got := dump(t, a); !slices.Equal(got, want) {
			t.Fatalf("store after a refused replace: %q", got)
		}

		// A header and no items: the store is emptied on purpose.
		_, err = Load(ctx, a, testStore, reader(t,
			`{"kind":"header","format":"persist.v1","store":"app","records":0,"events":0}`,
			`{"kind":"trailer","records":0,"events":0,"sum":"`+emptySum+`"}`,
		), Options{Mode: Replace})
		if err != nil {
			t.Fatal(err)
		}
		if got := dump(t, a); len(got) != 0 {
			t.Errorf("store after an empty replace: %q", got)
		}
	})
}

// The count a replace ends with tells a stream naming an item twice (the
// store holds fewer) from another writer's rows landed during the replace
// (it holds more), and passes a store that holds one item per line kept.
func TestReplaceCountsExactly(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		ctx := context.Background()
		mustLoad(t, a, Options{}, rec("u", "a", 1, `1`), rec("u", "b", 1, `1`), ev("s", 1, "x", `1`))
		l := &loader{store: testStore}
		for _, tc := range []struct {
			st   Stats
			want error
			says string
		}{
			{Stats{Written: 1, Unchanged: 1, Events: 1}, nil, ""},
			{Stats{Written: 2, Stale: 1, Events: 1}, ErrRepeated, "its 3 record and 1 event lines left 2 records and 1 events"},
			{Stats{Written: 2, EventsUnchanged: 2}, ErrRepeated, "its 2 record and 2 event lines left 2 records and 1 events"},
			{Stats{Written: 1, Events: 1}, ErrVerify, "another writer wrote into the store during the replace"},
		} {
			tx, err := a.Begin(ctx, testStore)
			if err != nil {
				t.Fatal(err)
			}
			err = l.exactly(ctx, tx, tc.st)
			tx.Rollback()
			if tc.want == nil && err != nil || tc.want != nil && (!errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says)) {
				t.Errorf("%+v: %v, want %v saying %q", tc.st, err, tc.want, tc.says)
			}
		}
	})
}
