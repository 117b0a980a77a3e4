package adapterstest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// T0 is a canonical time most items use; times themselves get their own test.
const T0 = "2026-11-25T12:00:00.000000Z"

func rec(collection, key string, version int64, at, value string) *record.Item {
	return &record.Item{Kind: record.KindRecord, Collection: collection, Key: key,
		Version: version, UpdatedAt: at, Value: []byte(value)}
}

func tomb(collection, key string, version int64, at string) *record.Item {
	return &record.Item{Kind: record.KindRecord, Collection: collection, Key: key,
		Version: version, UpdatedAt: at, Deleted: true}
}

func ev(stream string, seq int64, typ, at, data string) *record.Item {
	return &record.Item{Kind: record.KindEvent, Stream: stream, Seq: seq, Type: typ, At: at, Data: []byte(data)}
}

// removeKey is the remove line naming it, as a patch stream carries it.
func removeKey(it *record.Item) *record.Item {
	if it.Kind == record.KindRecord {
		return &record.Item{Kind: record.KindRemove, Collection: it.Collection, Key: it.Key}
	}
	return &record.Item{Kind: record.KindRemove, Stream: it.Stream, Seq: it.Seq}
}

// line is the canonical stream line of it: what a dump of it prints, so two
// items compare equal exactly when a dump cannot tell them apart.
func line(it *record.Item) string { return string(record.AppendItem(nil, it)) }

// dumpOrder orders items as Scan must: records by (collection, key), then
// events by (stream, seq), strings as bytes. It is written out here rather
// than taken from the record package, so the suite checks adapters against
// an order of its own.
func dumpOrder(a, b *record.Item) int {
	ar, br := a.Kind == record.KindRecord, b.Kind == record.KindRecord
	if ar != br {
		if ar {
			return -1
		}
		return 1
	}
	if ar {
		return cmp.Or(bytes.Compare([]byte(a.Collection), []byte(b.Collection)),
			bytes.Compare([]byte(a.Key), []byte(b.Key)))
	}
	return cmp.Or(bytes.Compare([]byte(a.Stream), []byte(b.Stream)), cmp.Compare(a.Seq, b.Seq))
}

// lines are the lines of items in dump order.
func lines(items ...*record.Item) []string {
	s := slices.Clone(items)
	slices.SortStableFunc(s, dumpOrder)
	out := make([]string, 0, len(s))
	for _, it := range s {
		out = append(out, line(it))
	}
	return out
}

// filtered is what a scan with f yields of items, by the Filter's contract.
func filtered(f adapters.Filter, items ...*record.Item) []*record.Item {
	var out []*record.Item
	for _, it := range items {
		if it.Kind == record.KindRecord {
			if f.NoRecords || (f.Collections != nil && !slices.Contains(f.Collections, it.Collection)) ||
				(f.Live && it.Deleted) || (f.Keys != nil && !slices.Contains(f.Keys, it.Key)) {
				continue
			}
		} else if f.NoEvents || (f.Streams != nil && !slices.Contains(f.Streams, it.Stream)) || it.Seq < f.FromSeq {
			continue
		}
		out = append(out, it)
	}
	return out
}

// storable drops the items the adapter says it cannot hold (Check) in the
// store "app", after checking that it says so with ErrUnsupported.
func storable(t *testing.T, a adapters.Adapter, items ...*record.Item) []*record.Item {
	t.Helper()
	var out []*record.Item
	for _, it := range items {
		if err := a.Check("app", it); err != nil {
			if !errors.Is(err, adapters.ErrUnsupported) {
				t.Fatalf("Check(%s) = %v, want nil or an error wrapping ErrUnsupported", line(it), err)
			}
			continue
		}
		out = append(out, it)
	}
	return out
}

// retry runs fn again while it fails with an error the adapter calls
// transient, as the loader does.
func retry(t *testing.T, a adapters.Adapter, fn func() error) error {
	t.Helper()
	var err error
	for i := range 100 {
		if err = fn(); err == nil || !a.Retryable(err) {
			return err
		}
		time.Sleep(time.Duration(5+i) * time.Millisecond)
	}
	return err
}

// write puts items into store in one committed transaction.
func write(t *testing.T, a adapters.Adapter, store string, mode adapters.PutMode, items ...*record.Item) {
	t.Helper()
	if err := tryWrite(t.Context(), t, a, store, mode, items...); err != nil {
		t.Fatalf("write %d items to store %q: %v", len(items), store, err)
	}
}

// tryWrite is write for goroutines other than the test's, which must not
// call t.Fatal.
func tryWrite(ctx context.Context, t *testing.T, a adapters.Adapter, store string, mode adapters.PutMode, items ...*record.Item) error {
	return retry(t, a, func() error {
		tx, err := a.Begin(ctx, store)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := tx.Put(ctx, items, mode); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// inTx runs fn in a transaction on store and commits it.
func inTx(t *testing.T, a adapters.Adapter, store string, fn func(ctx context.Context, tx adapters.Tx)) {
	t.Helper()
	ctx := t.Context()
	tx, err := a.Begin(ctx, store)
	if err != nil {
		t.Fatalf("Begin(%q): %v", store, err)
	}
	defer tx.Rollback()
	fn(ctx, tx)
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit on store %q: %v", store, err)
	}
}

// scanner is what Snapshot and Tx share.
type scanner interface {
	Scan(ctx context.Context, f adapters.Filter, fn func(*record.Item) error) error
}

// scanLines scans s with f and checks what every yielded item must be: the
// right kind, canonical JSON, no value on a tombstone.
func scanLines(t *testing.T, s scanner, f adapters.Filter) (out []string, records, events int64) {
	t.Helper()
	var last *record.Item
	err := s.Scan(t.Context(), f, func(it *record.Item) error {
		checkItem(t, it)
		if last != nil && dumpOrder(last, it) >= 0 {
			t.Errorf("Scan order: %s came after %s", line(it), line(last))
		}
		last = it.Clone()
		if it.Kind == record.KindRecord {
			records++
		} else {
			events++
		}
		out = append(out, line(it))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%+v): %v", f, err)
	}
	return out, records, events
}

// checkItem checks the shape of an item an adapter yields.
func checkItem(t *testing.T, it *record.Item) {
	t.Helper()
	switch it.Kind {
	case record.KindRecord:
		if it.Stream != "" || it.Seq != 0 || it.Type != "" || it.At != "" || it.Data != nil {
			t.Errorf("record %s has event fields set: %+v", line(it), it)
		}
		if it.Version < 1 || it.UpdatedAt == "" {
			t.Errorf("record %s lacks version or updated_at", line(it))
		}
		if it.Deleted && it.Value != nil {
			t.Errorf("tombstone %s has a value %q", line(it), it.Value)
		}
		if !it.Deleted {
			checkCanonical(t, it.Value)
		}
	case record.KindEvent:
		if it.Collection != "" || it.Key != "" || it.Version != 0 || it.UpdatedAt != "" || it.Deleted || it.Value != nil {
			t.Errorf("event %s has record fields set: %+v", line(it), it)
		}
		if it.Seq < 1 || it.At == "" {
			t.Errorf("event %s lacks seq or at", line(it))
		}
		checkCanonical(t, it.Data)
	default:
		t.Errorf("adapter yielded an item of kind %s", it.Kind)
	}
}

func checkCanonical(t *testing.T, v []byte) {
	t.Helper()
	if v == nil {
		t.Errorf("value is nil, want canonical JSON (null is %q)", "null")
		return
	}
	c, err := record.Canonical(nil, v)
	if err != nil || !bytes.Equal(c, v) {
		t.Errorf("value %q is not canonical JSON (canonical %q, err %v)", v, c, err)
	}
}

// dump reads store through a fresh snapshot with f, checking that Count
// agrees with Scan.
func dump(t *testing.T, a adapters.Adapter, store string, f adapters.Filter) []string {
	t.Helper()
	ctx := t.Context()
	s, err := a.Snapshot(ctx, store)
	if err != nil {
		t.Fatalf("Snapshot(%q): %v", store, err)
	}
	defer closeSnapshot(t, s)
	out, records, events := scanLines(t, s, f)
	r, e, err := s.Count(ctx, f)
	if err != nil {
		t.Fatalf("Count(%+v): %v", f, err)
	}
	if r != records || e != events {
		t.Errorf("Count(%+v) = %d records, %d events; Scan yielded %d, %d", f, r, e, records, events)
	}
	return out
}

func closeSnapshot(t *testing.T, s adapters.Snapshot) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Snapshot.Close: %v", err)
	}
}

// lookup returns, in dump order, the lines of what tx's Lock finds for keys.
func lookup(t *testing.T, tx adapters.Tx, keys ...*record.Item) []string {
	t.Helper()
	var got []*record.Item
	err := tx.Lock(t.Context(), keys, func(it *record.Item) error {
		checkItem(t, it)
		got = append(got, it.Clone())
		return nil
	})
	if err != nil {
		t.Fatalf("Lock of %d keys: %v", len(keys), err)
	}
	return lines(got...)
}

// lookupCommitted looks keys up in a transaction of its own.
func lookupCommitted(t *testing.T, a adapters.Adapter, store string, keys ...*record.Item) []string {
	t.Helper()
	var out []string
	inTx(t, a, store, func(ctx context.Context, tx adapters.Tx) { out = lookup(t, tx, keys...) })
	return out
}

// same reports a difference between want and got lines, compactly.
func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			b.WriteString("\n  missing: " + clip(l))
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			b.WriteString("\n  extra:   " + clip(l))
		}
	}
	if b.Len() == 0 {
		b.WriteString("\n  same lines in another order:")
		for _, l := range got {
			b.WriteString("\n    " + clip(l))
		}
	}
	t.Errorf("%s: got %d lines, want %d:%s", what, len(got), len(want), b.String())
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
