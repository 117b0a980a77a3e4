package record

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
)

// Line is one parsed stream line.
type Line struct {
	Kind    Kind
	Item    Item
	Header  Header
	Trailer Trailer

	buf []byte // holds Item.Value or Item.Data when respelled; reused by the next ParseLine
	// inPlace: Item.Value or Item.Data lies in the parsed line, not in buf.
	inPlace bool
	// The last strings seen, reused while they repeat (they usually do:
	// a dump is sorted by collection and stream), to spare an allocation.
	lastCollection, lastStream, lastType string
}

// field identifies a member of a stream line.
type field uint32

const (
	fKind field = 1 << iota
	fFormat
	fStore
	fRecords
	fEvents
	fPatch
	fTargetSum
	fCollection
	fKey
	fVersion
	fUpdatedAt
	fDeleted
	fValue
	fStream
	fSeq
	fType
	fAt
	fData
	fSum
	fSince
	fCursor
	fResultSum
)

// fieldNames holds the member names in the order of the field bits.
var fieldNames = [...]string{"kind", "format", "store", "records", "events", "patch", "target_sum",
	"collection", "key", "version", "updated_at", "deleted", "value", "stream", "seq", "type", "at",
	"data", "sum", "since", "cursor", "result_sum"}

// lookupField finds a member name without allocating.
func lookupField(name []byte) (field, bool) {
	for i, n := range fieldNames {
		if string(name) == n {
			return 1 << i, true
		}
	}
	return 0, false
}

// allowed lists the fields each kind may have.
var allowed = map[Kind]field{
	KindHeader:  fKind | fFormat | fStore | fRecords | fEvents | fPatch | fTargetSum | fResultSum | fSince,
	KindRecord:  fKind | fCollection | fKey | fVersion | fUpdatedAt | fDeleted | fValue,
	KindEvent:   fKind | fStream | fSeq | fType | fAt | fData,
	KindRemove:  fKind | fCollection | fKey | fStream | fSeq,
	KindTrailer: fKind | fRecords | fEvents | fSum | fCursor,
}

func (f field) name() string { return fieldNames[bits.TrailingZeros32(uint32(f))] }

func fieldErr(name string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrField, name, fmt.Sprintf(format, args...))
}

// ParseLine parses one line (without its newline) strictly, canonicalising
// values and times. l is overwritten; l.Item.Value and l.Item.Data point
// into b when the value is canonical already, into l otherwise, and are
// valid until the next ParseLine on l while b is unchanged.
func ParseLine(b []byte, l *Line) error {
	buf := l.buf[:0]
	lc, ls, lt := l.lastCollection, l.lastStream, l.lastType
	*l = Line{buf: buf, lastCollection: lc, lastStream: ls, lastType: lt}
	p := getParser(b, nil)
	err := l.parse(p)
	putParser(p)
	return err
}

// decoded is what a line's members said, before they are checked against
// its kind; the item's own fields go straight into l.Item.
type decoded struct {
	seen                      field
	kind                      string // a kind this format does not have
	deleted                   bool
	records, events           int64
	format, store             string
	targetSum, resultSum, sum string
	since, cursor             string // a delta's start, a dump's cursor
}

// parse reads a line in two stages: its decoded (decode), then the rules
// of its kind (one validator each).
func (l *Line) parse(p *parser) error {
	m := decoded{records: -1, events: -1}
	if err := l.decode(p, &m); err != nil {
		return err
	}
	if m.seen&fKind == 0 {
		return fieldErr("kind", "missing field")
	}
	if l.Kind == 0 {
		return fmt.Errorf("%w: %q (want record, event, header, trailer or remove)", ErrKind, m.kind)
	}
	if extra := m.seen &^ allowed[l.Kind]; extra != 0 {
		return fieldErr(lowest(extra).name(), "not a field of a %s line", l.Kind)
	}
	if err := l.validate(&m); err != nil {
		return err
	}
	l.Item.Kind = l.Kind
	return nil
}

// validate applies the rules of the line's kind, one validator each.
func (l *Line) validate(m *decoded) error {
	switch l.Kind {
	case KindHeader:
		return l.header(m)
	case KindRecord:
		return l.record(m)
	case KindEvent:
		return l.event(m)
	case KindRemove:
		return l.remove(m)
	}
	return l.trailer(m)
}

// decode reads the line's object, member by member.
func (l *Line) decode(p *parser, m *decoded) error {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return fmt.Errorf("%w: empty line", ErrSyntax)
	}
	if p.src[p.pos] != '{' {
		if _, err := p.skipValue(); err != nil {
			return err
		}
		return fmt.Errorf("%w: a line must be a JSON object", ErrField)
	}
	empty, err := p.open('}')
	p.depth = 0 // the line's own object is no level of its values
	for more := !empty; more && err == nil; {
		if err = l.member(p, m); err == nil {
			more, err = p.more('}')
		}
	}
	if err != nil {
		return err
	}
	return p.end("end of line")
}

// member reads one member: its name, and its value into l or m.
func (l *Line) member(p *parser, m *decoded) error {
	if err := p.nameStart(); err != nil {
		return err
	}
	name, buf, err := p.content(p.name)
	p.name = buf
	if err != nil {
		return err
	}
	if err := p.nameColon(); err != nil {
		return err
	}
	f, ok := lookupField(name)
	if !ok {
		quoted := strconv.Quote(string(name))
		if _, err := p.skipValue(); err != nil {
			return err
		}
		return fieldErr(quoted, "unknown field")
	}
	if m.seen&f != 0 {
		return fieldErr(f.name(), "duplicated field")
	}
	m.seen |= f
	return l.memberValue(p, f, m)
}

func (l *Line) memberValue(p *parser, f field, m *decoded) (err error) {
	it, fn := &l.Item, f.name()
	switch f {
	case fKind:
		return l.kindField(p, m)
	case fFormat, fStore, fTargetSum, fResultSum, fSum, fSince, fCursor:
		*m.text(f), err = p.stringField(fn, "")
	case fCollection:
		it.Collection, err = p.stringField(fn, l.lastCollection)
		l.lastCollection = it.Collection
	case fKey:
		it.Key, err = p.stringField(fn, "")
	case fStream:
		it.Stream, err = p.stringField(fn, l.lastStream)
		l.lastStream = it.Stream
	case fType:
		it.Type, err = p.stringField(fn, l.lastType)
		l.lastType = it.Type
	case fUpdatedAt:
		it.UpdatedAt, err = p.timeField(fn)
	case fAt:
		it.At, err = p.timeField(fn)
	case fVersion, fSeq, fRecords, fEvents:
		*m.integer(l, f), err = p.intField(fn, intMin(f))
	case fDeleted:
		m.deleted, err = p.boolField(fn)
	case fPatch:
		l.Header.Patch, err = p.boolField(fn)
	case fValue, fData:
		return l.valueField(p, f)
	}
	return err
}

// text is where a string member of a header or trailer goes.
func (m *decoded) text(f field) *string {
	switch f {
	case fFormat:
		return &m.format
	case fStore:
		return &m.store
	case fTargetSum:
		return &m.targetSum
	case fResultSum:
		return &m.resultSum
	case fSince:
		return &m.since
	case fCursor:
		return &m.cursor
	}
	return &m.sum
}

// integer is where an integer member goes.
func (m *decoded) integer(l *Line, f field) *int64 {
	switch f {
	case fVersion:
		return &l.Item.Version
	case fSeq:
		return &l.Item.Seq
	case fRecords:
		return &m.records
	}
	return &m.events
}

// intMin is the least value an integer member may have: counts may be 0,
// a version or seq given is at least 1.
func intMin(f field) int64 {
	if f == fRecords || f == fEvents {
		return 0
	}
	return 1
}

func (l *Line) kindField(p *parser, m *decoded) error {
	b, err := p.rawStringField("kind")
	if err != nil {
		return err
	}
	switch string(b) {
	case "header":
		l.Kind = KindHeader
	case "record":
		l.Kind = KindRecord
	case "event":
		l.Kind = KindEvent
	case "remove":
		l.Kind = KindRemove
	case "trailer":
		l.Kind = KindTrailer
	default:
		m.kind = string(b)
	}
	return nil
}

// bigValue is the size from which a value to be respelled gets room for
// its whole spelling at once.
const bigValue = 64 << 10

// valueField reads a record's value or an event's data, canonically.
func (l *Line) valueField(p *parser, f field) error {
	v, err := l.readValue(p)
	if err != nil {
		return named(f.name(), err)
	}
	if f == fValue {
		l.Item.Value = v
	} else {
		l.Item.Data = v
	}
	return nil
}

// readValue reads a value, and leaves it where it lies when it is canonical
// already, as a dump's values are: checking writes nothing, and stops at
// the first thing that is not canonical, from where the value is read
// again and written out canonical (as is one that is not JSON, for the
// error the writing gives).
func (l *Line) readValue(p *parser) ([]byte, error) {
	start, depth := p.pos, p.depth
	if ok, err := p.check(); ok && err == nil {
		l.inPlace = true
		return p.src[start:p.pos:p.pos], nil
	}
	p.pos, p.depth = start, depth
	if len(p.src)-start >= bigValue {
		// Room for the value as spelt, in one allocation rather than the
		// steps of append, which would leave as much again as garbage: its
		// canonical form is seldom longer, and pages it does not fill are
		// never touched.
		l.buf = slices.Grow(l.buf, len(p.src)-start)
	}
	p.dst = l.buf
	n := len(p.dst)
	err := p.value()
	l.buf = p.dst
	if err != nil {
		return nil, err
	}
	return l.buf[n:], nil
}

// require reports the first of fs missing from a line of kind k.
func (m *decoded) require(k Kind, fs ...field) error {
	for _, f := range fs {
		if m.seen&f == 0 {
			return fieldErr(f.name(), "missing field in a %s line", k)
		}
	}
	return nil
}

func (l *Line) header(m *decoded) error {
	if err := m.require(l.Kind, fFormat); err != nil {
		return err
	}
	if m.format != Format {
		return fmt.Errorf("%w: %q (this version reads %s)", ErrFormat, m.format, Format)
	}
	for _, f := range [...]struct {
		bit  field
		text *string
	}{{fTargetSum, &m.targetSum}, {fResultSum, &m.resultSum}} {
		if m.seen&f.bit == 0 {
			continue
		}
		s, err := ParseSum(*f.text)
		if err != nil {
			return fieldErr(f.bit.name(), "%v", err)
		}
		*f.text = s.String()
	}
	if m.seen&fSince != 0 && m.since == "" {
		return fieldErr("since", "empty (leave the field out of a stream that is not a delta)")
	}
	l.Header = Header{Format: m.format, Store: m.store, Records: m.records, Events: m.events,
		Patch: l.Header.Patch, TargetSum: m.targetSum, ResultSum: m.resultSum, Since: m.since}
	return nil
}

func (l *Line) trailer(m *decoded) error {
	if err := m.require(l.Kind, fRecords, fEvents, fSum); err != nil {
		return err
	}
	s, err := ParseSum(m.sum)
	if err != nil {
		return fieldErr("sum", "%v", err)
	}
	if m.seen&fCursor != 0 && m.cursor == "" {
		return fieldErr("cursor", "empty (leave the field out when there is no cursor)")
	}
	l.Trailer = Trailer{Records: m.records, Events: m.events, Sum: s.String(), Cursor: m.cursor}
	return nil
}

func (l *Line) record(m *decoded) error {
	if err := m.require(l.Kind, fCollection, fKey); err != nil {
		return err
	}
	if m.deleted && m.seen&fValue != 0 {
		return fieldErr("value", "a record with \"deleted\":true has no value")
	}
	l.Item.Deleted = m.deleted
	return nil
}

func (l *Line) event(m *decoded) error {
	return m.require(l.Kind, fStream, fType)
}

func (l *Line) remove(m *decoded) error {
	rec, ev := m.seen&(fCollection|fKey), m.seen&(fStream|fSeq)
	switch {
	case rec != 0 && ev != 0:
		return fieldErr(lowest(ev).name(), "a remove line names either collection and key or stream and seq")
	case ev != 0:
		return m.require(l.Kind, fStream, fSeq)
	}
	return m.require(l.Kind, fCollection, fKey)
}

func lowest(f field) field { return f & -f }

// named puts a member's name before a limit met in its value, as field
// errors have it; syntax errors name a byte of the line instead.
func named(name string, err error) error {
	if errors.Is(err, ErrLimit) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return err
}

func jsonType(c byte) string {
	switch c {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// stringField reads a string member. When it equals reuse, reuse is
// returned and nothing is allocated.
func (p *parser) stringField(name, reuse string) (string, error) {
	b, err := p.rawStringField(name)
	if err != nil {
		return "", err
	}
	if string(b) == reuse {
		return reuse, nil
	}
	return string(b), nil
}

// rawStringField reads a string member and returns the bytes it stands
// for, valid until the next read.
func (p *parser) rawStringField(name string) ([]byte, error) {
	if c := p.peek(); c != '"' {
		return nil, p.wrongType(name, "a string")
	}
	b, buf, err := p.content(p.scratch)
	p.scratch = buf
	return b, err
}

// wrongType reports a member whose value is not of the type it must be,
// unless that value is not even valid JSON: a syntax error is reported as
// such rather than as the field error it happens to follow.
func (p *parser) wrongType(name, want string) error {
	c := p.peek()
	if _, err := p.skipValue(); err != nil {
		return err
	}
	return fieldErr(name, "must be %s, not %s", want, jsonType(c))
}

func (p *parser) timeField(name string) (string, error) {
	s, err := p.stringField(name, "")
	if err != nil {
		return "", err
	}
	if s, err = ParseTime(s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// intField reads an integer member ≥ min. Any spelling of an integral
// value is accepted (2, 2.0, 2e0): jq and friends may write either.
func (p *parser) intField(name string, min int64) (int64, error) {
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, p.wrongType(name, fmt.Sprintf("an integer ≥ %d", min))
	}
	var n numberText
	if err := p.number(&n); err != nil {
		return 0, named(name, err)
	}
	p.scratch = n.appendCanonical(p.scratch[:0], p.src)
	v, err := strconv.ParseInt(string(p.scratch), 10, 64)
	switch {
	case err != nil && !integral(p.scratch):
		return 0, fieldErr(name, "%s is not an integer", abbrev(p.scratch))
	case err != nil && !n.neg:
		return 0, named(name, limitf("%s is more than %d (the limit)", abbrev(p.scratch), int64(math.MaxInt64)))
	case err != nil:
		return 0, fieldErr(name, "%s is less than %d", abbrev(p.scratch), min)
	case v < min:
		return 0, fieldErr(name, "%d is less than %d", v, min)
	}
	return v, nil
}

// integral reports whether a number in canonical form is a whole number.
func integral(c []byte) bool {
	return bytes.IndexByte(c, '.') < 0 && !bytes.Contains(c, []byte("e-"))
}

func (p *parser) boolField(name string) (bool, error) {
	switch p.peek() {
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	}
	return false, p.wrongType(name, "a boolean")
}

// AppendItem appends the canonical line for it (no newline) to dst.
//
// Absent optional fields are left out; a record that is not deleted always
// has a value (null when absent), an event always has data.
func AppendItem(dst []byte, it *Item) []byte {
	dst = slices.Grow(dst, len(it.Value)+len(it.Data)+len(it.Collection)+len(it.Key)+len(it.Stream)+len(it.Type)+160)
	dst, v := appendHead(dst, it)
	dst = append(dst, v...)
	return append(dst, '}')
}

// appendHead appends it's canonical line up to its value (a record's value
// or an event's data), and returns that value: the line is the head, the
// value and a closing brace. A line without a value (a tombstone, a remove
// line) is all head. A line around a big value is hashed and written in
// these parts rather than built whole, which would copy the value once more.
func appendHead(dst []byte, it *Item) (head, value []byte) {
	switch it.Kind {
	case KindRecord:
		dst = append(dst, `{"kind":"record","collection":`...)
		dst = AppendString(dst, it.Collection)
		dst = append(dst, `,"key":`...)
		dst = AppendString(dst, it.Key)
		if it.Version != 0 {
			dst = append(dst, `,"version":`...)
			dst = strconv.AppendInt(dst, it.Version, 10)
		}
		if it.UpdatedAt != "" {
			dst = append(dst, `,"updated_at":`...)
			dst = AppendString(dst, it.UpdatedAt)
		}
		if it.Deleted {
			return append(dst, `,"deleted":true`...), nil
		}
		return append(dst, `,"value":`...), orNull(it.Value)
	case KindEvent:
		dst = append(dst, `{"kind":"event","stream":`...)
		dst = AppendString(dst, it.Stream)
		if it.Seq != 0 {
			dst = append(dst, `,"seq":`...)
			dst = strconv.AppendInt(dst, it.Seq, 10)
		}
		dst = append(dst, `,"type":`...)
		dst = AppendString(dst, it.Type)
		if it.At != "" {
			dst = append(dst, `,"at":`...)
			dst = AppendString(dst, it.At)
		}
		return append(dst, `,"data":`...), orNull(it.Data)
	case KindRemove:
		dst = append(dst, `{"kind":"remove",`...)
		if !it.IsRecord() {
			dst = append(dst, `"stream":`...)
			dst = AppendString(dst, it.Stream)
			dst = append(dst, `,"seq":`...)
			return strconv.AppendInt(dst, it.Seq, 10), nil
		}
		dst = append(dst, `"collection":`...)
		dst = AppendString(dst, it.Collection)
		dst = append(dst, `,"key":`...)
		return AppendString(dst, it.Key), nil
	}
	panic(fmt.Sprintf("record: AppendItem of a %s item", it.Kind))
}

var jsonNull = []byte("null")

func orNull(v []byte) []byte {
	if v == nil {
		return jsonNull
	}
	return v
}

// AppendHeader appends the canonical header line (no newline) to dst.
// Negative counts mean unknown and are left out.
func AppendHeader(dst []byte, h *Header) []byte {
	dst = append(dst, `{"kind":"header","format":"`+Format+`"`...)
	if h.Store != "" {
		dst = append(dst, `,"store":`...)
		dst = AppendString(dst, h.Store)
	}
	if h.Records >= 0 {
		dst = append(dst, `,"records":`...)
		dst = strconv.AppendInt(dst, h.Records, 10)
	}
	if h.Events >= 0 {
		dst = append(dst, `,"events":`...)
		dst = strconv.AppendInt(dst, h.Events, 10)
	}
	if h.Patch {
		dst = append(dst, `,"patch":true`...)
	}
	if h.TargetSum != "" {
		dst = append(dst, `,"target_sum":`...)
		dst = AppendString(dst, h.TargetSum)
	}
	if h.ResultSum != "" {
		dst = append(dst, `,"result_sum":`...)
		dst = AppendString(dst, h.ResultSum)
	}
	if h.Since != "" {
		dst = append(dst, `,"since":`...)
		dst = AppendString(dst, h.Since)
	}
	return append(dst, '}')
}

// AppendTrailer appends the canonical trailer line (no newline) to dst.
func AppendTrailer(dst []byte, t *Trailer) []byte {
	dst = append(dst, `{"kind":"trailer","records":`...)
	dst = strconv.AppendInt(dst, t.Records, 10)
	dst = append(dst, `,"events":`...)
	dst = strconv.AppendInt(dst, t.Events, 10)
	dst = append(dst, `,"sum":`...)
	dst = AppendString(dst, t.Sum)
	if t.Cursor != "" {
		dst = append(dst, `,"cursor":`...)
		dst = AppendString(dst, t.Cursor)
	}
	return append(dst, '}')
}
