// Package record owns the persist.v1 stream: its lines, canonical JSON, the
// persist1 checksum, the reader and writer, and compression.
//
// Everything that must be byte-identical whichever adapter a store lives in is
// decided here, so adapters only move rows and never format lines themselves.
package record

// Kind is the kind of a stream line.
type Kind uint8

const (
	KindHeader Kind = iota + 1
	KindRecord
	KindEvent
	KindRemove // only in patch streams
	KindTrailer
)

func (k Kind) String() string {
	switch k {
	case KindHeader:
		return "header"
	case KindRecord:
		return "record"
	case KindEvent:
		return "event"
	case KindRemove:
		return "remove"
	case KindTrailer:
		return "trailer"
	}
	return "unknown"
}

// Format is the only stream format this package reads and writes.
const Format = "persist.v1"

// Item is one record, event or (in a patch stream) remove line.
//
// Absent optional fields are zero: Version 0 and Seq 0 mean "not given"
// (a hand-made line: the loader assigns them), UpdatedAt/At "" mean "not given"
// (the loader uses the load time). Times, when set, are always canonical:
// UTC, six fractional digits, "Z" (see FormatTime).
//
// Value and Data hold canonical JSON (see Canonical); nil means absent, which
// readers treat as null. A tombstone has Deleted set and a nil Value.
type Item struct {
	Kind Kind

	// Records, and remove lines that name a record.
	Collection string
	Key        string
	Version    int64
	UpdatedAt  string
	Deleted    bool
	Value      []byte

	// Events, and remove lines that name an event.
	Stream string
	Seq    int64
	Type   string
	At     string
	Data   []byte
}

// IsRecord reports whether the item addresses a record (a record line, or a
// remove line naming collection and key). A remove line names an event when
// it has a Seq (always ≥ 1 there), so that an empty name is not ambiguous.
// Size is the bytes its strings and values hold: what keeping it costs
// beyond the struct.
func (it *Item) Size() int {
	return len(it.Collection) + len(it.Key) + len(it.UpdatedAt) + len(it.Value) +
		len(it.Stream) + len(it.Type) + len(it.At) + len(it.Data)
}

func (it *Item) IsRecord() bool {
	return it.Kind == KindRecord || (it.Kind == KindRemove && it.Seq == 0)
}

// Clone returns a deep copy, for callers that keep an item past the next read.
func (it *Item) Clone() *Item {
	c := *it
	if it.Value != nil {
		c.Value = append([]byte(nil), it.Value...)
	}
	if it.Data != nil {
		c.Data = append([]byte(nil), it.Data...)
	}
	return &c
}

// Canonicalize makes the item's value (a record's Value, an event's Data)
// canonical and returns buf for the next item once this one is done with
// it (nil makes a new one). It is for values read as stored: Persist writes
// them canonical, but a SQLite file edited by hand may spell them
// otherwise. A value already canonical is left where it is; another is
// written into buf[:0]. On error the item is left as it was.
func (it *Item) Canonicalize(buf []byte) ([]byte, error) {
	v := &it.Value
	if !it.IsRecord() {
		v = &it.Data
	}
	if *v == nil {
		return buf, nil
	}
	if ok, err := IsCanonical(*v); ok || err != nil {
		return buf, err
	}
	out, err := Canonical(buf[:0], *v)
	if err != nil {
		return buf, err
	}
	*v = out
	return out, nil
}

// Header is the optional first line of a stream.
type Header struct {
	Format  string
	Store   string // may be empty
	Records int64  // expected counts; -1 when unknown
	Events  int64
	// Patch streams (persist-diff --patch) only.
	Patch     bool
	TargetSum string // the sum the target must have before the patch applies
	ResultSum string // the sum it has after: a target holding it already has the patch
	// Since is the cursor a delta started from (persist-dump --since): the
	// stream holds what changed in its store after the dump whose trailer
	// carried that cursor. Empty for a full dump.
	Since string
}

// Trailer is the last line of a stream: what was actually written.
type Trailer struct {
	Records int64
	Events  int64
	Sum     string
	// Cursor is where the dump stood in its store's history, for the next
	// delta's since; empty when the store cannot tell (schema version 1).
	Cursor string
}
