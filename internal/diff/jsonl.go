package diff

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/cuitty/persist/internal/record"
)

// jsonlSink writes one object per difference:
//
//	{"op":"changed","kind":"record","collection":"users","key":"u3",
//	 "a":{…A's line…},"b":{…B's line…},"fields":["version","value"],"paths":[".address.city"]}
//
// "a" and "b" are the canonical lines embedded as they are; "fields" names
// the line fields that differ and "paths" the JSON paths inside value/data.
type jsonlSink struct {
	w   *bufio.Writer
	buf []byte
}

func newJSONLSink(w io.Writer) *jsonlSink {
	return &jsonlSink{w: bufio.NewWriterSize(w, 64<<10)}
}

func (j *jsonlSink) begin(op string, it *record.Item) {
	j.buf = append(j.buf[:0], `{"op":"`...)
	j.buf = append(j.buf, op...)
	j.buf = append(j.buf, `","kind":"`...)
	if it.IsRecord() {
		j.buf = append(j.buf, `record","collection":`...)
		j.buf = appendJSONString(j.buf, it.Collection)
		j.buf = append(j.buf, `,"key":`...)
		j.buf = appendJSONString(j.buf, it.Key)
	} else {
		j.buf = append(j.buf, `event","stream":`...)
		j.buf = appendJSONString(j.buf, it.Stream)
		j.buf = append(j.buf, `,"seq":`...)
		j.buf = strconv.AppendInt(j.buf, it.Seq, 10)
	}
}

func (j *jsonlSink) end() error {
	j.buf = append(j.buf, "}\n"...)
	if _, err := j.w.Write(j.buf); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}

func (j *jsonlSink) onlyA(a *record.Item) error {
	j.begin("only_a", a)
	j.buf = append(j.buf, `,"a":`...)
	j.buf = record.AppendItem(j.buf, a)
	return j.end()
}

func (j *jsonlSink) onlyB(b *record.Item) error {
	j.begin("only_b", b)
	j.buf = append(j.buf, `,"b":`...)
	j.buf = record.AppendItem(j.buf, b)
	return j.end()
}

func (j *jsonlSink) changed(a, b *record.Item) error {
	j.begin("changed", a)
	j.buf = append(j.buf, `,"a":`...)
	j.buf = record.AppendItem(j.buf, a)
	j.buf = append(j.buf, `,"b":`...)
	j.buf = record.AppendItem(j.buf, b)
	j.buf = append(j.buf, `,"fields":[`...)
	n := 0
	field := func(name string, differ bool) {
		if !differ {
			return
		}
		if n > 0 {
			j.buf = append(j.buf, ',')
		}
		n++
		j.buf = append(j.buf, '"')
		j.buf = append(j.buf, name...)
		j.buf = append(j.buf, '"')
	}
	var va, vb []byte
	if a.IsRecord() {
		va, vb = recordValue(a), recordValue(b)
		field("version", a.Version != b.Version)
		field("updated_at", a.UpdatedAt != b.UpdatedAt)
		field("deleted", a.Deleted != b.Deleted)
		field("value", !sameValue(va, vb))
	} else {
		va, vb = orNull(a.Data), orNull(b.Data)
		field("type", a.Type != b.Type)
		field("at", a.At != b.At)
		field("data", !sameValue(va, vb))
	}
	j.buf = append(j.buf, `],"paths":[`...)
	n = 0
	walkValues(va, vb, func(path string, _, _ []byte) {
		if n > 0 {
			j.buf = append(j.buf, ',')
		}
		n++
		j.buf = appendJSONString(j.buf, path)
	})
	j.buf = append(j.buf, ']')
	return j.end()
}

func sameValue(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

func (j *jsonlSink) finish(Stats, record.Sum, record.Sum) error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	return nil
}

// appendJSONString writes s as a JSON string the way canonical JSON does:
// only '"', '\' and control characters escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20:
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, `\b`...)
		case c == '\f':
			dst = append(dst, `\f`...)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
	}
	return append(dst, '"')
}
