package persist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/backoff"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// Bounds on how often one write is tried on the primary: after transient
// failures, and after losing a race with another process's writer (which
// means that writer made progress, so more of those are allowed).
const (
	writeAttempts = 10
	raceAttempts  = 100
)

var stripeSeed = maphash.MakeSeed()

// errLostRace: another writer took the version or seq this write computed;
// the write is redone from a fresh read.
var errLostRace = errors.New("a concurrent write took this version")

// errNothing: a delete found nothing to delete; nothing is written.
var errNothing = errors.New("nothing to write")

// Put writes value as the record collection/key and returns the record as
// stored: version one more than the record's last (tombstones included, so
// a record written again after a delete is newer than its tombstone), time
// now. value is marshalled with encoding/json (a json.RawMessage is taken as
// it is) and stored in canonical form.
func (s *Store) Put(ctx context.Context, collection, key string, value any) (Record, error) {
	if err := s.usable(); err != nil {
		return Record{}, err
	}
	v, err := canonicalValue(value)
	if err != nil {
		return Record{}, fmt.Errorf("put %s/%s: %w", collection, key, err)
	}
	if err := s.recordNames(collection, key); err != nil {
		return Record{}, fmt.Errorf("put: %w", err)
	}
	it, err := s.write(ctx, recordAddr(collection, key), func(ctx context.Context, tx adapters.Tx, now string) (*record.Item, error) {
		cur, err := lookupOne(ctx, tx, &record.Item{Kind: record.KindRecord, Collection: collection, Key: key})
		if err != nil {
			return nil, err
		}
		next := &record.Item{Kind: record.KindRecord, Collection: collection, Key: key, Version: 1, UpdatedAt: now, Value: v}
		if cur != nil {
			next.Version = cur.Version + 1
		}
		return next, nil
	})
	if err != nil {
		return Record{}, fmt.Errorf("put %s/%s: %w", collection, key, err)
	}
	return recordOf(it), nil
}

// Get returns the record collection/key, or an error wrapping ErrNotFound
// when there is none or it is deleted.
func (s *Store) Get(ctx context.Context, collection, key string) (Record, error) {
	if err := s.usable(); err != nil {
		return Record{}, err
	}
	if err := s.recordNames(collection, key); err != nil {
		// No record of this store can have such a name.
		return Record{}, fmt.Errorf("get %s/%s: %w: %w", collection, key, ErrNotFound, err)
	}
	var cur *record.Item
	// A read-only snapshot, not a write transaction: a read neither waits
	// for another connection's write nor keeps one waiting.
	err := s.retry(ctx, func() error {
		snap, err := s.a.Snapshot(ctx, s.name)
		if err != nil {
			return err
		}
		defer snap.Close()
		f := adapters.Filter{Collections: []string{collection}, Keys: []string{key}, NoEvents: true}
		return snap.Scan(ctx, f, func(it *record.Item) error {
			cur = it.Clone()
			return nil
		})
	})
	if errors.Is(err, adapters.ErrNoStore) {
		// A store no row names any more (emptied and its row removed by
		// hand) holds no such record either, as Delete finds.
		return Record{}, fmt.Errorf("get %s/%s: %w: %w", collection, key, ErrNotFound, s.scrub(err))
	}
	if err != nil {
		return Record{}, fmt.Errorf("get %s/%s: %w", collection, key, s.scrub(err))
	}
	if cur == nil || cur.Deleted {
		return Record{}, fmt.Errorf("get %s/%s: %w", collection, key, ErrNotFound)
	}
	return recordOf(cur), nil
}

// Delete deletes the record collection/key by writing a tombstone (version
// bumped, value gone), which is what keeps a backfill or a stale copy from
// bringing it back. It returns the tombstone, or an error wrapping
// ErrNotFound, writing nothing, when there is no such record or it is
// already deleted.
func (s *Store) Delete(ctx context.Context, collection, key string) (Record, error) {
	if err := s.usable(); err != nil {
		return Record{}, err
	}
	if err := s.recordNames(collection, key); err != nil {
		return Record{}, fmt.Errorf("delete %s/%s: %w: %w", collection, key, ErrNotFound, err)
	}
	it, err := s.write(ctx, recordAddr(collection, key), func(ctx context.Context, tx adapters.Tx, now string) (*record.Item, error) {
		cur, err := lookupOne(ctx, tx, &record.Item{Kind: record.KindRecord, Collection: collection, Key: key})
		if err != nil {
			return nil, err
		}
		if cur == nil || cur.Deleted {
			return nil, errNothing
		}
		return &record.Item{Kind: record.KindRecord, Collection: collection, Key: key, Version: cur.Version + 1, UpdatedAt: now, Deleted: true}, nil
	})
	if errors.Is(err, errNothing) {
		return Record{}, fmt.Errorf("delete %s/%s: %w", collection, key, ErrNotFound)
	}
	if err != nil {
		return Record{}, fmt.Errorf("delete %s/%s: %w", collection, key, err)
	}
	return recordOf(it), nil
}

// Append appends an event of type typ to stream, with data marshalled as
// Put marshals values, and returns it with its seq (one more than the
// stream's last) and time.
func (s *Store) Append(ctx context.Context, stream, typ string, data any) (Event, error) {
	if err := s.usable(); err != nil {
		return Event{}, err
	}
	d, err := canonicalValue(data)
	if err != nil {
		return Event{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	if err := s.eventNames(stream, typ); err != nil {
		return Event{}, fmt.Errorf("append: %w", err)
	}
	it, err := s.write(ctx, "e\x00"+stream, func(ctx context.Context, tx adapters.Tx, now string) (*record.Item, error) {
		seqs, err := tx.MaxSeq(ctx, []string{stream})
		if err != nil {
			return nil, err
		}
		return &record.Item{Kind: record.KindEvent, Stream: stream, Seq: seqs[stream] + 1, Type: typ, At: now, Data: d}, nil
	})
	if err != nil {
		return Event{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	return eventOf(it), nil
}

func recordAddr(collection, key string) string { return "r\x00" + collection + "\x00" + key }

// write runs one write on the primary and, under dual-write, hands the item
// as committed to the secondary. build computes the item inside the write's
// transaction from what the store holds. addr names what the write changes.
func (s *Store) write(ctx context.Context, addr string, build func(context.Context, adapters.Tx, string) (*record.Item, error)) (*record.Item, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	dw := s.dw
	// Writers of one record or stream in this process take turns: racing
	// for the same version or seq would only make all but one redo, over and
	// over under load. Other processes are still handled by the guard.
	stripe := &s.stripes[maphash.String(stripeSeed, addr)%uint64(len(s.stripes))]
	stripe.Lock()
	defer stripe.Unlock()
	var it *record.Item
	err := s.retry(ctx, func() error {
		var err error
		it, err = s.commit(ctx, dw, build)
		return err
	})
	if err != nil {
		if errors.Is(err, errNothing) || errors.Is(err, ErrUnsupported) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", s.loc, s.scrub(err))
	}
	if dw != nil {
		// The primary has committed: the write has happened whatever the
		// secondary says, so the caller's cancellation must not stop the
		// copy half-way.
		dw.replicate(context.WithoutCancel(ctx), it)
	}
	return it, nil
}

// commit is one attempt at a write: read, compute, guarded put, read back.
// The guard and the read-back make a concurrent writer that took the same
// version or seq first a lost race (redone) instead of an overwrite.
func (s *Store) commit(ctx context.Context, dw *DualWrite, build func(context.Context, adapters.Tx, string) (*record.Item, error)) (*record.Item, error) {
	tx, err := s.a.Begin(ctx, s.name)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	it, err := build(ctx, tx, record.FormatTime(s.now().UTC().Truncate(time.Microsecond)))
	if err != nil {
		return nil, err
	}
	if err := checkItem(s.a, s.name, it); err != nil {
		return nil, err
	}
	if dw != nil {
		// Refused before the primary takes it: a write the secondary can
		// never hold would leave the two apart for good.
		if err := dw.a.Check(dw.name, it); err != nil {
			return nil, fmt.Errorf("dual-write target %s: %w", dw.loc, err)
		}
	}
	if err := tx.Put(ctx, []*record.Item{it}, adapters.Guarded); err != nil {
		return nil, err
	}
	if err := landed(ctx, tx, []*record.Item{it}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return it, nil
}

// retry runs fn until it succeeds, fails for good, or writeAttempts is spent;
// transient failures and lost races are retried after a short backoff. An
// error after ctx ended wraps ctx's error, whatever the driver made of the
// cancellation (database/sql's "transaction has already been committed or
// rolled back", PostgreSQL's "canceling statement"): a caller tells a
// deadline from trouble with errors.Is. A wait for another connection's
// SQLite lock ends with ctx too, not after the 5 s SQLite waits for one.
func (s *Store) retry(ctx context.Context, fn func() error) (err error) {
	defer ofContext(ctx, &err)
	return s.attempts(ctx, fn)
}

func (s *Store) attempts(ctx context.Context, fn func() error) error {
	failures, races := 0, 0
	for {
		err := fn()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errLostRace):
			if races++; races >= raceAttempts {
				return err
			}
			if err := backoff.Sleep(ctx, backoff.Delay(time.Millisecond, 50*time.Millisecond, races-1)); err != nil {
				return err
			}
		case s.a.Retryable(err):
			if failures++; failures >= writeAttempts {
				return err
			}
			if err := backoff.Sleep(ctx, backoff.Delay(10*time.Millisecond, time.Second, failures-1)); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

func (s *Store) usable() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

func (s *Store) scrub(err error) error { return location.ScrubError(err, s.loc.Raw) }

// ErrAltered: the database changed a write on its way in (a trigger or a
// rule on Persist's tables): the store would not hold what was written, so
// nothing is.
var ErrAltered = errors.New("the database changed the write on its way in")

// landed reads back what tx just put: another writer's row where the write
// meant its own, at its version or a newer one, is a lost race (the write
// is redone from a fresh read); a row of this transaction's own that is
// not as written, none, or an older one left in its place, is the
// database's doing (a trigger or rule that changed or dropped the write),
// which no retry undoes. An event gone is a race too: a guarded insert
// takes no lock, and another writer may delete what it wrote.
func landed(ctx context.Context, tx adapters.Tx, items []*record.Item) error {
	var others []*record.Item
	err := tx.ReadBack(ctx, items, func(it *record.Item, problem string) error {
		switch {
		case problem == adapters.ProblemNotOurs:
			others = append(others, it)
			return nil
		case problem == adapters.ProblemMissing && it.Kind == record.KindEvent:
			return errLostRace
		}
		return altered(it, problem)
	})
	if err != nil || len(others) == 0 {
		return err
	}
	if err := kept(ctx, tx, others); err != nil {
		return err
	}
	return errLostRace
}

// kept refuses a record another writer's row stands in for where that
// row is older than the write: the write was dropped, not beaten.
func kept(ctx context.Context, tx adapters.Tx, others []*record.Item) error {
	for _, it := range others {
		if it.Kind != record.KindRecord {
			continue
		}
		cur, err := lookupOne(ctx, tx, it)
		if err != nil {
			return err
		}
		if cur != nil && cur.Version < it.Version {
			return altered(it, fmt.Sprintf("the store kept version %d in place of version %d", cur.Version, it.Version))
		}
	}
	return nil
}

func altered(it *record.Item, problem string) error {
	return fmt.Errorf("%w: %s: %s (a trigger or rule on Persist's tables?); nothing was written", ErrAltered, describe(it), problem)
}

// lookupOne returns a copy of what tx holds at key's address, or nil, and
// keeps it locked until tx ends.
func lookupOne(ctx context.Context, tx adapters.Tx, key *record.Item) (*record.Item, error) {
	var found *record.Item
	err := tx.Lock(ctx, []*record.Item{key}, func(it *record.Item) error {
		found = it.Clone()
		return nil
	})
	return found, err
}

// canonicalValue marshals v and brings it to canonical form (docs/format.md).
func canonicalValue(v any) ([]byte, error) {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, err
		}
		// encoding/json writes a string's invalid UTF-8 as \ufffd (and a
		// valid U+FFFD as itself): the value would be stored changed,
		// without a word. The escapes nested json.RawMessages hold are
		// theirs, and stay; any other is taken for bad bytes replaced.
		if n := replacedUTF8(raw); n > 0 && n > rawEscapes(reflect.ValueOf(v), 0) {
			what := "a string the value holds (a marshaller's?)"
			if bad, found := invalidString(reflect.ValueOf(v), 0); found {
				what = fmt.Sprintf("the string %q", bad)
			}
			return nil, fmt.Errorf("%w: value: %s is not valid UTF-8, and would be stored changed (U+FFFD in place of its bytes)", adapters.ErrUnsupported, what)
		}
	}
	switch {
	case raw == nil:
		raw = json.RawMessage("null") // as encoding/json marshals a nil RawMessage
	case len(raw) == 0:
		// Not JSON: an empty request body must not become null unseen.
		return nil, errors.New("value: empty (no JSON at all); a null value is json.RawMessage(\"null\") or nil")
	}
	c, err := record.Canonical(nil, raw)
	if err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	return c, nil
}

// replacedUTF8 counts the escapes \ufffd (not an escaped backslash
// followed by "ufffd") in encoding/json's output raw: what it writes in
// place of bytes that are not UTF-8, from a string or a text marshaller
// alike.
func replacedUTF8(raw []byte) int {
	n := 0
	for i := 0; ; {
		j := bytes.Index(raw[i:], []byte(`\ufffd`))
		if j < 0 {
			return n
		}
		at := i + j
		b := 0 // backslashes before the one of the escape
		for k := at - 1; k >= 0 && raw[k] == '\\'; k-- {
			b++
		}
		if b%2 == 0 {
			n++
		}
		i = at + 1
	}
}

// rawEscapes counts the escapes \ufffd the json.RawMessages in v hold,
// which encoding/json writes as they are: those in maps, slices, pointers
// and interfaces. A struct's fields are not looked into (a field may be
// left out, `json:"-"`, or hidden by another of its name), nor is what any
// other marshaller writes: their escapes count as replaced bytes, and the
// value is refused rather than stored changed.
func rawEscapes(v reflect.Value, depth int) int {
	if depth > record.MaxDepth || !v.IsValid() {
		return 0
	}
	if v.Type() == reflect.TypeFor[json.RawMessage]() {
		return replacedUTF8(v.Bytes())
	}
	n := 0
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			n = rawEscapes(v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return 0 // base64
		}
		for i := range v.Len() {
			n += rawEscapes(v.Index(i), depth+1)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			n += rawEscapes(v.MapIndex(k), depth+1)
		}
	}
	return n
}

// invalidString finds a string in v that is not valid UTF-8 (a map's key
// too), as encoding/json would marshal v.
func invalidString(v reflect.Value, depth int) (string, bool) {
	if depth > record.MaxDepth || !v.IsValid() {
		return "", false
	}
	switch v.Kind() {
	case reflect.String:
		return v.String(), !utf8.ValidString(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return invalidString(v.Elem(), depth+1)
		}
	case reflect.Slice, reflect.Array:
		return invalidIn(v.Len(), v.Index, depth)
	case reflect.Map:
		keys := v.MapKeys()
		if bad, ok := invalidIn(len(keys), func(i int) reflect.Value { return keys[i] }, depth); ok {
			return bad, true
		}
		return invalidIn(len(keys), func(i int) reflect.Value { return v.MapIndex(keys[i]) }, depth)
	case reflect.Struct:
		return invalidIn(v.NumField(), func(i int) reflect.Value {
			if f := v.Type().Field(i); (f.IsExported() || f.Anonymous) && f.Tag.Get("json") != "-" {
				return v.Field(i)
			}
			return reflect.Value{} // encoding/json leaves it out
		}, depth)
	}
	return "", false
}

// invalidIn is invalidString of the first of n values at(i) that has one.
func invalidIn(n int, at func(int) reflect.Value, depth int) (string, bool) {
	for i := range n {
		if bad, ok := invalidString(at(i), depth+1); ok {
			return bad, true
		}
	}
	return "", false
}

// recordNames refuses, before any statement, a collection and key no
// stream carries (not UTF-8), or with a byte the database's text cannot
// hold at all (a NUL, for PostgreSQL): a lookup would fail in the driver's
// words. A read finds no record so named (ErrNotFound), a write is
// ErrUnsupported. Anything else the database cannot hold (a key past
// PostgreSQL's index) is a write's to refuse, when its item is checked:
// such a key may be there all the same (another program's, compressed),
// and a read or a delete must find it.
func (s *Store) recordNames(collection, key string) error {
	if err := checkNames("collection", collection, "key", key); err != nil {
		return err
	}
	if !strings.ContainsRune(collection+key, 0) {
		return nil
	}
	return s.a.Check(s.name, &record.Item{Kind: record.KindRecord, Collection: collection, Key: key, Version: 1,
		UpdatedAt: probeTime, Value: []byte("null")})
}

// eventNames is recordNames for an event's stream and type.
func (s *Store) eventNames(stream, typ string) error {
	if err := checkNames("stream", stream, "event type", typ); err != nil {
		return err
	}
	if !strings.ContainsRune(stream+typ, 0) {
		return nil
	}
	return s.a.Check(s.name, &record.Item{Kind: record.KindEvent, Stream: stream, Seq: 1, Type: typ, At: probeTime, Data: []byte("null")})
}

// probeTime is a time every database holds, for the items recordNames asks
// about.
const probeTime = "2000-01-01T00:00:00.000000Z"

func checkNames(labelled ...string) error {
	for i := 0; i+1 < len(labelled); i += 2 {
		if n := labelled[i+1]; !utf8.ValidString(n) {
			return fmt.Errorf("%w: the %s %q is not valid UTF-8", adapters.ErrUnsupported, labelled[i], n)
		}
	}
	return nil
}

func decodeJSON(b []byte, v any) error {
	if b == nil {
		b = []byte("null")
	}
	return json.Unmarshal(b, v)
}

// checkItem refuses, before a write, an item the store cannot hold, or
// whose line no reader would take (record.CheckLine): its dump could not be
// loaded back.
func checkItem(a adapters.Adapter, store string, it *record.Item) error {
	if err := record.CheckLine(it); err != nil {
		return fmt.Errorf("%w: %w", adapters.ErrUnsupported, err)
	}
	return a.Check(store, it)
}
