package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/cuitty/persist/internal/record"
)

// rejectLine is one line of a rejects file. The raw line goes in "raw" when
// it is valid UTF-8 and in "raw_base64" otherwise, so that nothing is lost
// (encoding/json would replace invalid bytes with U+FFFD). Of a line over
// record.MaxLine, which is not kept, only its length and first bytes are.
type rejectLine struct {
	Line            int64   `json:"line"`
	Reason          string  `json:"reason"`
	Raw             *string `json:"raw,omitempty"`
	RawBase64       []byte  `json:"raw_base64,omitempty"`
	Length          int64   `json:"length,omitempty"`
	RawPrefix       *string `json:"raw_prefix,omitempty"`
	RawPrefixBase64 []byte  `json:"raw_prefix_base64,omitempty"`
}

// reject sets a line the target cannot take aside in b, to go to the
// rejects with the batch's conflicts, in line order, once the batch is
// written. Without a rejects writer the load stops: the returned error names
// the line and the reason.
func (l *loader) reject(b *batch, line int64, raw []byte, cause error) error {
	if l.rejects == nil {
		b.stopped++
		return fmt.Errorf("%w: %w", ErrRejected, &record.LineError{Line: line, Err: cause})
	}
	start := len(b.raw)
	b.raw = append(b.raw, raw...)
	b.bad = append(b.bad, badLine{line: line, raw: [2]int{start, len(b.raw)}, cause: cause})
	return nil
}

// writeRejects sends b's rejected lines and conflicts to the rejects, in
// line order.
func (l *loader) writeRejects(b *batch) error {
	bad := b.bad
	for _, e := range b.ents {
		if e.out != outConflict {
			continue
		}
		for len(bad) > 0 && bad[0].line < e.line {
			if err := l.writeReject(bad[0].line, b.raw[bad[0].raw[0]:bad[0].raw[1]], bad[0].cause); err != nil {
				return err
			}
			bad = bad[1:]
		}
		if err := l.writeReject(e.line, b.rawOf(e), fmt.Errorf("%w: %s", ErrConflict, e.reason)); err != nil {
			return err
		}
	}
	for _, r := range bad {
		if err := l.writeReject(r.line, b.raw[r.raw[0]:r.raw[1]], r.cause); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) writeReject(line int64, raw []byte, cause error) error {
	l.stats.Rejects++
	r := rejectLine{Line: line, Reason: cause.Error()}
	var tl *record.TooLongError
	switch {
	case errors.As(cause, &tl) && utf8.Valid(tl.Prefix):
		s := string(tl.Prefix)
		r.Length, r.RawPrefix = tl.Length, &s
	case tl != nil:
		r.Length, r.RawPrefixBase64 = tl.Length, tl.Prefix
	case utf8.Valid(raw):
		s := string(raw)
		r.Raw = &s
	default:
		r.RawBase64 = raw
	}
	if l.rejEnc == nil {
		l.rejEnc = json.NewEncoder(l.rejects)
		l.rejEnc.SetEscapeHTML(false)
	}
	if err := l.rejEnc.Encode(&r); err != nil {
		return fmt.Errorf("writing rejects: %w", err)
	}
	return nil
}

// frameError is the error of a line that failed to parse and is the
// stream's header or trailer by its kind, nil for any other line. What a
// header says (a delta's since, a patch) decides how the rest loads, and a
// trailer is what shows the stream whole: one that cannot be read may not
// be set aside and the rest loaded without it. (One out of place parses,
// and is set aside: the stream has its own, and the trailer counts no
// such line.)
func frameError(le *record.LineError, raw []byte) error {
	if errors.Is(le.Err, record.ErrPlacement) || !record.FrameLine(raw) {
		return nil
	}
	return fmt.Errorf("%w (%w, which is never set aside: fix it, docs/format.md)", le, ErrFrame)
}
