package persist_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuitty/persist"
)

func TestStoreWrites(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := testContext(t)
			s := open(t, b.new(t))
			if s.Name() != persist.DefaultStore {
				t.Fatalf("store name %q, want %q", s.Name(), persist.DefaultStore)
			}
			before := time.Now().UTC().Add(-time.Second)

			r, err := s.Put(ctx, "users", "u1", map[string]any{"name": "Ada", "<tag>": "x&y"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != 1 || string(r.Value) != `{"<tag>":"x&y","name":"Ada"}` {
				t.Fatalf("first put = version %d value %s", r.Version, r.Value)
			}
			if r.UpdatedAt.Before(before) || r.UpdatedAt.Location() != time.UTC || r.UpdatedAt.Nanosecond()%1000 != 0 {
				t.Fatalf("updated_at %v: want UTC, now, to the microsecond", r.UpdatedAt)
			}
			r, err = s.Put(ctx, "users", "u1", json.RawMessage(` { "name" : "Ada Lovelace", "born": 1815.0 } `))
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != 2 || string(r.Value) != `{"born":1815,"name":"Ada Lovelace"}` {
				t.Fatalf("second put = version %d value %s", r.Version, r.Value)
			}
			got, err := s.Get(ctx, "users", "u1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || string(got.Value) != string(r.Value) || !got.UpdatedAt.Equal(r.UpdatedAt) {
				t.Fatalf("Get = %+v, want %+v", got, r)
			}
			var v struct{ Name string }
			if err := got.Decode(&v); err != nil || v.Name != "Ada Lovelace" {
				t.Fatalf("Decode = %+v, %v", v, err)
			}

			del, err := s.Delete(ctx, "users", "u1")
			if err != nil {
				t.Fatal(err)
			}
			if del.Version != 3 || !del.Deleted || del.Value != nil {
				t.Fatalf("tombstone = %+v", del)
			}
			if _, err := s.Get(ctx, "users", "u1"); !errors.Is(err, persist.ErrNotFound) {
				t.Fatalf("Get after delete: %v, want ErrNotFound", err)
			}
			if _, err := s.Delete(ctx, "users", "u1"); !errors.Is(err, persist.ErrNotFound) {
				t.Fatalf("second delete: %v, want ErrNotFound", err)
			}
			if _, err := s.Delete(ctx, "users", "nobody"); !errors.Is(err, persist.ErrNotFound) {
				t.Fatalf("delete of a missing record: %v, want ErrNotFound", err)
			}
			if _, err := s.Get(ctx, "users", "nobody"); !errors.Is(err, persist.ErrNotFound) {
				t.Fatalf("Get of a missing record: %v, want ErrNotFound", err)
			}
			// Written again after a delete: newer than its tombstone.
			if r, err = s.Put(ctx, "users", "u1", nil); err != nil || r.Version != 4 || string(r.Value) != "null" {
				t.Fatalf("put after delete = %+v, %v", r, err)
			}

			for i := 1; i <= 3; i++ {
				e, err := s.Append(ctx, "orders", "placed", map[string]any{"total": 12.5, "n": i})
				if err != nil {
					t.Fatal(err)
				}
				if e.Seq != int64(i) || e.Type != "placed" || string(e.Data) != fmt.Sprintf(`{"n":%d,"total":12.5}`, i) {
					t.Fatalf("event %d = %+v %s", i, e, e.Data)
				}
			}
			if e, err := s.Append(ctx, "audit", "", nil); err != nil || e.Seq != 1 || string(e.Data) != "null" {
				t.Fatalf("first event of another stream = %+v, %v", e, err)
			}
			if _, err := s.Put(ctx, "users", "bad", func() {}); err == nil {
				t.Fatal("Put of a value encoding/json cannot marshal succeeded")
			}
			if _, err := s.Put(ctx, "users", "bad", json.RawMessage(`{"a":`)); err == nil {
				t.Fatal("Put of invalid JSON succeeded")
			}

			sum := mustSum(t, s.Location()+"#"+s.Name())
			if sum.Records != 1 || sum.Events != 4 {
				t.Fatalf("Sum = %+v, want 1 record and 4 events", sum)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Put(ctx, "users", "u2", 1); !errors.Is(err, persist.ErrClosed) {
				t.Fatalf("Put after Close: %v, want ErrClosed", err)
			}
			// Closed comes first, whatever else is wrong with the call.
			for name, call := range map[string]func() error{
				"Put of a value that does not marshal": func() error { _, err := s.Put(ctx, "users", "u2", func() {}); return err },
				"Delete of a name not UTF-8":           func() error { _, err := s.Delete(ctx, "users", "\xff"); return err },
				"PutIf":                                func() error { _, err := s.PutIf(ctx, "users", "u2", 0, 1); return err },
				"PutMany of none":                      func() error { _, err := s.PutMany(ctx, nil); return err },
				"Append":                               func() error { _, err := s.Append(ctx, "s", "t", 1); return err },
			} {
				if err := call(); !errors.Is(err, persist.ErrClosed) {
					t.Errorf("%s after Close: %v, want ErrClosed", name, err)
				}
			}
		})
	}
}

// Concurrent writers of one record and one stream, through two Stores as two
// processes would: every write lands, each version and seq exactly once.
func TestStoreConcurrentWrites(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := testContext(t)
			loc := b.new(t)
			stores := []*persist.Store{open(t, loc), open(t, loc)}
			s := stores[0]
			const writers, each = 8, 15
			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				versions = map[int64]bool{}
				seqs     = map[int64]bool{}
				errs     []error
			)
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := stores[w%2]
					for i := range each {
						r, err := s.Put(ctx, "counters", "c", map[string]int{"w": w, "i": i})
						var e persist.Event
						if err == nil {
							e, err = s.Append(ctx, "log", "tick", w)
						}
						mu.Lock()
						if err != nil {
							errs = append(errs, err)
						} else {
							versions[r.Version] = true
							seqs[e.Seq] = true
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("%d writes failed, first: %v", len(errs), errs[0])
			}
			for n := int64(1); n <= writers*each; n++ {
				if !versions[n] || !seqs[n] {
					t.Fatalf("version or seq %d missing: %d versions, %d seqs", n, len(versions), len(seqs))
				}
			}
			if r, err := s.Get(ctx, "counters", "c"); err != nil || r.Version != writers*each {
				t.Fatalf("final record = %+v, %v", r, err)
			}
		})
	}
}

func TestOpenStoreName(t *testing.T) {
	ctx := testContext(t)
	loc := backends[0].new(t)
	a := open(t, loc+"#billing")
	if a.Name() != "billing" {
		t.Fatalf("name %q", a.Name())
	}
	// The only store the database holds.
	if b := open(t, loc); b.Name() != "billing" {
		t.Fatalf("Open without #NAME picked %q, want the only store, billing", b.Name())
	}
	open(t, loc+"#other")
	if _, err := persist.Open(ctx, loc); err == nil {
		t.Fatal("Open of a database with two stores and no #NAME succeeded")
	}
	if s, err := persist.OpenStore(ctx, loc, "other"); err != nil || s.Name() != "other" {
		t.Fatalf("OpenStore = %v, %v", s, err)
	} else {
		s.Close()
	}
	// A store the database does not hold is told apart from trouble.
	if _, err := persist.Get(ctx, loc+"#nosuch", "c", "k", persist.ReadOptions{}); !errors.Is(err, persist.ErrNoStore) {
		t.Fatalf("Get of a store the database does not hold = %v, want ErrNoStore", err)
	}
	// A name that is not UTF-8 makes no store: its dump's header could not
	// be read back.
	if _, err := persist.Open(ctx, loc+"#bad\xffname"); !errors.Is(err, persist.ErrStoreChoice) {
		t.Fatalf("Open of a store named in bytes that are not UTF-8 = %v", err)
	}
	if _, err := persist.OpenStore(ctx, loc, "bad\xffname"); !errors.Is(err, persist.ErrStoreChoice) {
		t.Fatalf("OpenStore of a store named in bytes that are not UTF-8 = %v", err)
	}
}

func TestOpenRefusesAStream(t *testing.T) {
	path := writeStream(t, 10)
	if _, err := persist.Open(testContext(t), path); err == nil || !strings.Contains(err.Error(), "stream") {
		t.Fatalf("Open of a stream file: %v, want an error saying it is a stream", err)
	}
	if _, err := persist.Open(testContext(t), "postgres://u:hunter22@127.0.0.1:1/nowhere?connect_timeout=2"); err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Fatalf("Open of an unreachable server: %v, want an error without the password", err)
	}
}

// An empty RawMessage is no JSON: refused, where nil is null (as
// encoding/json marshals it). A name that is not UTF-8 is no record's, on
// either database: ErrNotFound, not a driver's error.
func TestStoreEmptyValueAndInvalidNames(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := testContext(t)
			s := open(t, b.new(t))
			if _, err := s.Put(ctx, "c", "empty", json.RawMessage{}); err == nil || !strings.Contains(err.Error(), "empty") {
				t.Errorf("Put of an empty RawMessage = %v, want refused", err)
			}
			if _, err := s.Get(ctx, "c", "empty"); !errors.Is(err, persist.ErrNotFound) {
				t.Errorf("after the refused put, Get = %v, want ErrNotFound", err)
			}
			r, err := s.Put(ctx, "c", "nil", json.RawMessage(nil))
			if err != nil || string(r.Value) != "null" {
				t.Errorf("Put of a nil RawMessage = %s, %v; want null", r.Value, err)
			}
			if _, err := s.Get(ctx, "c", "\xff"); !errors.Is(err, persist.ErrNotFound) {
				t.Errorf("Get of a key that is not UTF-8 = %v, want ErrNotFound", err)
			}
			// A write of such a name, or of a string value holding such
			// bytes (which encoding/json would store as U+FFFD), is
			// refused as what the store cannot hold, naming what is wrong.
			for _, w := range []struct {
				what string
				do   func() error
			}{
				{"collection", func() error { _, err := s.Put(ctx, "users\xff", "k", 1); return err }},
				{"key", func() error { _, err := s.Put(ctx, "users", "k\xff", 1); return err }},
				{"stream", func() error { _, err := s.Append(ctx, "s\xff", "t", 1); return err }},
				{"string", func() error { _, err := s.Put(ctx, "users", "v", map[string]any{"name": []any{"a\xffb"}}); return err }},
				{"string", func() error { _, err := s.Put(ctx, "users", "v", map[string]int{"\xff": 1}); return err }},
				{"string", func() error { _, err := s.Put(ctx, "users", "v", struct{ N *string }{N: ptr("\xfe")}); return err }},
				{"value", func() error { _, err := s.Put(ctx, "users", "v", []badText{{}}); return err }},
				{"value", func() error { _, err := s.Put(ctx, "users", "v", map[string]any{"m": badText{}}); return err }},
				{"value", func() error { _, err := s.Put(ctx, "users", "v", map[badText]int{{}: 1}); return err }},
				{"string", func() error { _, err := s.Put(ctx, "users", "v", aliasing{Name: "Ad\xffa"}); return err }},
				{"string", func() error { _, err := s.Put(ctx, "users", "v", map[textKey]int{"a\xffb": 1}); return err }},
				{"string", func() error {
					// A RawMessage left out of the output pays for no escape.
					_, err := s.Put(ctx, "users", "v", struct {
						Extra json.RawMessage `json:"-"`
						Name  string
					}{json.RawMessage(`"\ufffd"`), "Ad\xffa"})
					return err
				}},
				{"string", func() error {
					_, err := s.Put(ctx, "users", "v", []any{json.RawMessage(`"\ufffd"`), aliasing{Name: "\xff"}})
					return err
				}},
			} {
				if err := w.do(); !errors.Is(err, persist.ErrUnsupported) || !strings.Contains(err.Error(), "the "+w.what) {
					t.Errorf("a %s that is not UTF-8: %v, want ErrUnsupported naming it", w.what, err)
				}
			}
			if _, err := s.Get(ctx, "users", "v"); !errors.Is(err, persist.ErrNotFound) {
				t.Errorf("after the refused puts, Get = %v, want ErrNotFound", err)
			}
			// U+FFFD itself, and the six characters \ufffd, are values like any other.
			for v, want := range map[string]string{"\ufffd": "\"\ufffd\"", `\ufffd`: `"\\ufffd"`, `a\\ufffd`: `"a\\\\ufffd"`} {
				if r, err := s.Put(ctx, "users", "ok", v); err != nil || string(r.Value) != want {
					t.Errorf("Put(%q) = %s, %v; want %s", v, r.Value, err, want)
				}
			}
			// So is the escape a nested json.RawMessage holds: it is its
			// own, not encoding/json's replacement of bad bytes.
			for _, v := range []any{map[string]any{"x": json.RawMessage(`"\ufffd"`)}, []*json.RawMessage{ptr(json.RawMessage(`["\ufffd"]`))}} {
				if r, err := s.Put(ctx, "users", "ok", v); err != nil || !strings.Contains(string(r.Value), "\ufffd") {
					t.Errorf("Put(%#v) = %s, %v; want the escape's U+FFFD kept", v, r.Value, err)
				}
			}
		})
	}
}

// A value whose line would pass the stream's 256 MiB limit is refused at
// the write, as something the store cannot hold: written, no dump of the
// store could be loaded back.
func TestStorePutOverLineLimit(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := testContext(t)
			s := open(t, b.new(t))
			v := make([]byte, 256<<20)
			for i := range v {
				v[i] = 'a'
			}
			v[0], v[len(v)-1] = '"', '"'
			_, err := s.Put(ctx, "big", "k", json.RawMessage(v))
			if !errors.Is(err, persist.ErrUnsupported) {
				t.Fatalf("Put of a value over the line limit = %v, want ErrUnsupported", err)
			}
			if _, err := s.Get(ctx, "big", "k"); !errors.Is(err, persist.ErrNotFound) {
				t.Fatalf("after the refused put, Get = %v, want ErrNotFound", err)
			}
		})
	}
}

// A write or read cut short by its context says so through errors.Is,
// whatever the driver made of the cancellation, and a write that failed so
// left nothing.
func TestStoreDeadlineIsTheError(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := open(t, b.new(t))
			for i := range 400 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%40)*100*time.Microsecond)
				key := fmt.Sprint("k", i)
				_, err := s.Put(ctx, "c", key, i)
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					cancel()
					t.Fatalf("put %d cut short: %v, want it to wrap context.DeadlineExceeded", i, err)
				}
				if _, gerr := s.Get(ctx, "c", key); gerr != nil && !errors.Is(gerr, context.DeadlineExceeded) && !errors.Is(gerr, persist.ErrNotFound) {
					cancel()
					t.Fatalf("get %d cut short: %v, want it to wrap context.DeadlineExceeded", i, gerr)
				}
				cancel()
				if err != nil && !errors.Is(err, persist.ErrCommitUnknown) {
					if _, gerr := s.Get(context.Background(), "c", key); !errors.Is(gerr, persist.ErrNotFound) {
						t.Fatalf("put %d failed with %v and left the record (get: %v)", i, err, gerr)
					}
				}
			}
		})
	}
}

// Names the database cannot hold (a NUL byte for PostgreSQL) are told as
// such before any statement: a write is ErrUnsupported, a read or delete
// finds nothing; the driver's own words never come back.
func TestStoreNamesTheDatabaseCannotHold(t *testing.T) {
	ctx := testContext(t)
	for _, b := range backends {
		if b.name != "postgres" {
			continue
		}
		s := open(t, b.new(t))
		for _, names := range [][2]string{{"c", "nul\x00key"}, {"nul\x00c", "k"}} {
			if _, err := s.Put(ctx, names[0], names[1], 1); !errors.Is(err, persist.ErrUnsupported) {
				t.Errorf("Put %q: %v, want ErrUnsupported", names, err)
			}
			if _, err := s.PutIf(ctx, names[0], names[1], 0, 1); !errors.Is(err, persist.ErrUnsupported) {
				t.Errorf("PutIf %q: %v, want ErrUnsupported", names, err)
			}
			if _, err := s.PutMany(ctx, []persist.Put{{Collection: names[0], Key: names[1], Value: 1}}); !errors.Is(err, persist.ErrUnsupported) {
				t.Errorf("PutMany %q: %v, want ErrUnsupported", names, err)
			}
			if _, err := s.Get(ctx, names[0], names[1]); !errors.Is(err, persist.ErrNotFound) {
				t.Errorf("Get %q: %v, want ErrNotFound", names, err)
			}
			if _, err := s.Delete(ctx, names[0], names[1]); !errors.Is(err, persist.ErrNotFound) {
				t.Errorf("Delete %q: %v, want ErrNotFound", names, err)
			}
		}
		if _, err := s.Append(ctx, "nul\x00stream", "t", 1); !errors.Is(err, persist.ErrUnsupported) {
			t.Errorf("Append to a stream with a NUL: %v, want ErrUnsupported", err)
		}
		// A key longer than Persist writes into the index, put there by
		// another program (PostgreSQL compresses it): reads find it, and
		// a delete never says it is not there.
		loc := b.new(t)
		s = open(t, loc)
		if _, err := s.Put(ctx, "c", "short", 1); err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("k", 5000)
		if _, err := admin(t, loc).ExecContext(ctx, `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ($1, 'c', $2, 1, now(), false, '1')`, s.Name(), long); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Get(ctx, "c", long); err != nil || r.Version != 1 {
			t.Errorf("Get of a long key another program wrote = %+v, %v", r, err)
		}
		if _, err := s.Delete(ctx, "c", long); errors.Is(err, persist.ErrNotFound) {
			t.Errorf("Delete of a long key another program wrote = %v: the record is there", err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// badText marshals to text that is not UTF-8, which encoding/json writes
// as U+FFFD.
type badText struct{}

// aliasing marshals itself through encoding/json, as many types do.
type aliasing struct{ Name string }

func (a aliasing) MarshalJSON() ([]byte, error) {
	type plain aliasing
	return json.Marshal(plain(a))
}

// textKey is a map key of string kind, which encoding/json writes as the
// string it is, whatever its MarshalText says.
type textKey string

func (textKey) MarshalText() ([]byte, error) { return []byte("text"), nil }

func (badText) MarshalText() ([]byte, error) { return []byte("a\xffb"), nil }
