package record

import (
	"errors"
	"fmt"
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

	buf []byte // holds Item.Value or Item.Data; reused by the next ParseLine
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
)

// fieldNames holds the member names in the order of the field bits.
var fieldNames = [...]string{"kind", "format", "store", "records", "events", "patch", "target_sum",
	"collection", "key", "version", "updated_at", "deleted", "value", "stream", "seq", "type", "at",
	"data", "sum"}

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
	KindHeader:  fKind | fFormat | fStore | fRecords | fEvents | fPatch | fTargetSum,
	KindRecord:  fKind | fCollection | fKey | fVersion | fUpdatedAt | fDeleted | fValue,
	KindEvent:   fKind | fStream | fSeq | fType | fAt | fData,
	KindRemove:  fKind | fCollection | fKey | fStream | fSeq,
	KindTrailer: fKind | fRecords | fEvents | fSum,
}

func (f field) name() string { return fieldNames[bits.TrailingZeros32(uint32(f))] }

func fieldErr(name string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrField, name, fmt.Sprintf(format, args...))
}

// ParseLine parses one line (without its newline) strictly, canonicalising
// values and times. l is overwritten; l.Item.Value and l.Item.Data point into
// l and are valid until the next ParseLine on l.
func ParseLine(b []byte, l *Line) error {
	buf := l.buf[:0]
	lc, ls, lt := l.lastCollection, l.lastStream, l.lastType
	*l = Line{buf: buf, lastCollection: lc, lastStream: ls, lastType: lt}
	p := getParser(b, nil)
	err := l.parse(p)
	putParser(p)
	return err
}

func (l *Line) parse(p *parser) error {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return fmt.Errorf("%w: empty line", ErrSyntax)
	}
	if p.src[p.pos] != '{' {
		if err := p.value(); err != nil {
			return err
		}
		return fmt.Errorf("%w: a line must be a JSON object", ErrField)
	}
	p.pos++
	var seen field
	var kind string
	var deleted bool
	var records, events int64 = -1, -1
	var store, targetSum, format, sum string
	it := &l.Item
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
	} else {
		for {
			if p.pos >= len(p.src) || p.src[p.pos] != '"' {
				return p.unexpected("a member name")
			}
			p.dst = p.name[:0]
			err := p.str(false)
			p.name = p.dst
			if err != nil {
				return err
			}
			name := p.name
			p.skipSpace()
			if p.pos >= len(p.src) || p.src[p.pos] != ':' {
				return p.unexpected("':'")
			}
			p.pos++
			p.skipSpace()
			f, ok := lookupField(name)
			if !ok {
				if err := p.skipValue(); err != nil {
					return err
				}
				return fieldErr(strconv.Quote(string(name)), "unknown field")
			}
			fn := f.name()
			if seen&f != 0 {
				return fieldErr(fn, "duplicated field")
			}
			seen |= f
			switch f {
			case fKind:
				var b []byte
				if b, err = p.rawStringField(fn); err == nil {
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
						kind = string(b)
					}
				}
			case fFormat:
				format, err = p.stringField(fn, "")
			case fStore:
				store, err = p.stringField(fn, "")
			case fTargetSum:
				targetSum, err = p.stringField(fn, "")
			case fSum:
				sum, err = p.stringField(fn, "")
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
			case fUpdatedAt, fAt:
				var s string
				if s, err = p.stringField(fn, ""); err == nil {
					if s, err = ParseTime(s); err != nil {
						err = fmt.Errorf("%s: %w", fn, err)
					}
				}
				if f == fAt {
					it.At = s
				} else {
					it.UpdatedAt = s
				}
			case fVersion:
				it.Version, err = p.intField(fn, 1)
			case fSeq:
				it.Seq, err = p.intField(fn, 1)
			case fRecords:
				records, err = p.intField(fn, 0)
			case fEvents:
				events, err = p.intField(fn, 0)
			case fDeleted:
				deleted, err = p.boolField(fn)
			case fPatch:
				l.Header.Patch, err = p.boolField(fn)
			case fValue, fData:
				p.dst = l.buf
				start := len(p.dst)
				err = p.value()
				l.buf = p.dst
				if err == nil {
					if f == fValue {
						it.Value = l.buf[start:]
					} else {
						it.Data = l.buf[start:]
					}
				}
			}
			if err != nil {
				return err
			}
			p.skipSpace()
			if p.pos >= len(p.src) {
				return p.unexpected("',' or '}'")
			}
			c := p.src[p.pos]
			if c == '}' {
				p.pos++
				break
			}
			if c != ',' {
				return p.unexpected("',' or '}'")
			}
			p.pos++
			p.skipSpace()
		}
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return p.unexpected("end of line")
	}

	if seen&fKind == 0 {
		return fieldErr("kind", "missing field")
	}
	if l.Kind == 0 {
		return fmt.Errorf("%w: %q (want record, event, header, trailer or remove)", ErrKind, kind)
	}
	if extra := seen &^ allowed[l.Kind]; extra != 0 {
		return fieldErr(lowest(extra).name(), "not a field of a %s line", l.Kind)
	}
	missing := func(fs ...field) error {
		for _, f := range fs {
			if seen&f == 0 {
				return fieldErr(f.name(), "missing field in a %s line", l.Kind)
			}
		}
		return nil
	}
	switch l.Kind {
	case KindHeader:
		if err := missing(fFormat); err != nil {
			return err
		}
		if format != Format {
			return fmt.Errorf("%w: %q (this version reads %s)", ErrFormat, format, Format)
		}
		if seen&fTargetSum != 0 {
			s, err := ParseSum(targetSum)
			if err != nil {
				return fieldErr("target_sum", "%v", err)
			}
			targetSum = s.String()
		}
		l.Header = Header{Format: format, Store: store, Records: records, Events: events,
			Patch: l.Header.Patch, TargetSum: targetSum}
	case KindTrailer:
		if err := missing(fRecords, fEvents, fSum); err != nil {
			return err
		}
		s, err := ParseSum(sum)
		if err != nil {
			return fieldErr("sum", "%v", err)
		}
		l.Trailer = Trailer{Records: records, Events: events, Sum: s.String()}
	case KindRecord:
		if err := missing(fCollection, fKey); err != nil {
			return err
		}
		if deleted && seen&fValue != 0 {
			return fieldErr("value", "a record with \"deleted\":true has no value")
		}
		it.Deleted = deleted
	case KindEvent:
		if err := missing(fStream, fType); err != nil {
			return err
		}
	case KindRemove:
		rec, ev := seen&(fCollection|fKey), seen&(fStream|fSeq)
		switch {
		case rec != 0 && ev != 0:
			return fieldErr(lowest(ev).name(), "a remove line names either collection and key or stream and seq")
		case ev != 0:
			if err := missing(fStream, fSeq); err != nil {
				return err
			}
		default:
			if err := missing(fCollection, fKey); err != nil {
				return err
			}
		}
	}
	it.Kind = l.Kind
	return nil
}

func lowest(f field) field { return f & -f }

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

// rawStringField reads a string member into p.scratch and returns its bytes.
func (p *parser) rawStringField(name string) ([]byte, error) {
	if p.pos >= len(p.src) {
		return nil, p.unexpected("a value")
	}
	if c := p.src[p.pos]; c != '"' {
		if err := p.skipValue(); err != nil {
			return nil, err
		}
		return nil, fieldErr(name, "must be a string, not %s", jsonType(c))
	}
	p.dst = p.scratch[:0]
	err := p.str(false)
	p.scratch = p.dst
	return p.dst, err
}

// intField reads an integer member ≥ min. Any spelling of an integral
// value is accepted (2, 2.0, 2e0): jq and friends may write either.
func (p *parser) intField(name string, min int64) (int64, error) {
	if p.pos >= len(p.src) {
		return 0, p.unexpected("a value")
	}
	c := p.src[p.pos]
	if c != '-' && (c < '0' || c > '9') {
		if err := p.skipValue(); err != nil {
			return 0, err
		}
		return 0, fieldErr(name, "must be an integer ≥ %d, not %s", min, jsonType(c))
	}
	p.dst = p.scratch[:0]
	err := p.number()
	p.scratch = p.dst
	if err != nil {
		return 0, err
	}
	n, perr := strconv.ParseInt(string(p.dst), 10, 64)
	if perr != nil {
		if errors.Is(perr, strconv.ErrRange) {
			return 0, fieldErr(name, "%s is out of range", p.dst)
		}
		return 0, fieldErr(name, "%s is not an integer", p.dst)
	}
	if n < min {
		return 0, fieldErr(name, "%d is less than %d", n, min)
	}
	return n, nil
}

func (p *parser) boolField(name string) (bool, error) {
	if p.pos >= len(p.src) {
		return false, p.unexpected("a value")
	}
	c := p.src[p.pos]
	if c != 't' && c != 'f' {
		if err := p.skipValue(); err != nil {
			return false, err
		}
		return false, fieldErr(name, "must be a boolean, not %s", jsonType(c))
	}
	p.dst = p.scratch[:0]
	err := p.value()
	p.scratch = p.dst
	return c == 't', err
}

// skipValue validates the value at p.pos, so that a syntax error is
// reported as such rather than as the field error it happens to follow.
func (p *parser) skipValue() error {
	p.dst = p.scratch[:0]
	err := p.value()
	p.scratch = p.dst
	return err
}

// AppendItem appends the canonical line for it (no newline) to dst.
//
// Absent optional fields are left out; a record that is not deleted always
// has a value (null when absent), an event always has data.
func AppendItem(dst []byte, it *Item) []byte {
	dst = slices.Grow(dst, len(it.Value)+len(it.Data)+len(it.Collection)+len(it.Key)+len(it.Stream)+len(it.Type)+160)
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
			dst = append(dst, `,"deleted":true}`...)
			return dst
		}
		dst = append(dst, `,"value":`...)
		dst = appendJSON(dst, it.Value)
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
		dst = append(dst, `,"data":`...)
		dst = appendJSON(dst, it.Data)
	case KindRemove:
		dst = append(dst, `{"kind":"remove",`...)
		if !it.IsRecord() {
			dst = append(dst, `"stream":`...)
			dst = AppendString(dst, it.Stream)
			dst = append(dst, `,"seq":`...)
			dst = strconv.AppendInt(dst, it.Seq, 10)
		} else {
			dst = append(dst, `"collection":`...)
			dst = AppendString(dst, it.Collection)
			dst = append(dst, `,"key":`...)
			dst = AppendString(dst, it.Key)
		}
	default:
		panic(fmt.Sprintf("record: AppendItem of a %s item", it.Kind))
	}
	return append(dst, '}')
}

func appendJSON(dst, v []byte) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	return append(dst, v...)
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
	return append(dst, '}')
}
