package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Check reports, wrapping adapters.ErrUnsupported, what PostgreSQL cannot hold
// as it is (docs/format.md, "Limits"): a NUL byte or invalid UTF-8 in a name
// (text), a key too long for the primary key's index, the escape \u0000 in a
// value (jsonb), or a number beyond jsonb's numeric range.
func (a *Adapter) Check(store string, it *record.Item) error { return checkItem(store, it) }

func checkItem(store string, it *record.Item) error {
	if err := checkStoreName(store); err != nil {
		return err
	}
	if it.IsRecord() {
		if err := checkText("collection", it.Collection); err != nil {
			return err
		}
		if err := checkText("key", it.Key); err != nil {
			return err
		}
		if err := checkIndexRow(recordIndexRow(store, it.Collection, it.Key), "store, collection and key"); err != nil {
			return err
		}
		if err := checkTime("updated_at", it.UpdatedAt); err != nil {
			return err
		}
		return checkJSON("value", it.Value)
	}
	if err := checkText("stream", it.Stream); err != nil {
		return err
	}
	if err := checkText("type", it.Type); err != nil {
		return err
	}
	if err := checkIndexRow(eventIndexRow(store, it.Stream), "store and stream"); err != nil {
		return err
	}
	if err := checkTime("at", it.At); err != nil {
		return err
	}
	return checkJSON("data", it.Data)
}

// checkTime refuses the one canonical time Persist does not keep in
// PostgreSQL: year 0000. The stream's years are ISO 8601's (0000 is 1 BC);
// PostgreSQL's have no year zero, and spell 1 BC "0001 … BC", which Persist
// neither writes nor reads back (it keeps years 0001 to 9999 there): the
// server would refuse "0000" as out of range, failing the whole batch.
func checkTime(field, t string) error {
	if strings.HasPrefix(t, "0000-") {
		return fmt.Errorf("%s %s: year 0000 (1 BC) is outside the years Persist keeps in PostgreSQL (0001 to 9999): %w",
			field, t, adapters.ErrUnsupported)
	}
	return nil
}

// maxIndexRow is the largest entry a btree index (version 4) takes on 8 KiB
// pages, PostgreSQL's default: about a third of a page, BTMaxItemSize.
const maxIndexRow = 2704

// An index entry is an 8-byte header, then its columns in order: text of up
// to 126 bytes after a 1-byte length, longer text 4-aligned after a 4-byte
// length, a bigint 8-aligned; the whole rounded up to 8. PostgreSQL may
// compress text longer than 510 bytes in an index, but whether that saves
// enough depends on the text and on the server's settings: the size
// without it is the bound, exact for text that does not compress.
func recordIndexRow(store, collection, key string) int {
	return align(8+indexText(indexText(indexText(0, store), collection), key), 8)
}

func eventIndexRow(store, stream string) int {
	return align(8+align(indexText(indexText(0, store), stream), 8)+8, 8)
}

// indexText is the size of the entry's columns so far, n, with text s added.
func indexText(n int, s string) int {
	if len(s) <= 126 {
		return n + 1 + len(s)
	}
	return align(n, 4) + 4 + len(s)
}

func align(n, to int) int { return (n + to - 1) &^ (to - 1) }

// checkStoreName refuses a store name PostgreSQL cannot hold: text's
// limits, and persist_stores' primary key index, which holds the name
// alone (a longer one fails every line, and is said once, as the store's).
func checkStoreName(store string) error {
	if p := textProblem(store); p != "" {
		return fmt.Errorf("store name %q: %s: %w", store, p, adapters.ErrStoreName)
	}
	if size := align(8+indexText(0, store), 8); size > maxIndexRow {
		return fmt.Errorf("store name: %d bytes in PostgreSQL's index of store names, which holds at most %d: %w",
			size, maxIndexRow, adapters.ErrStoreName)
	}
	return nil
}

func checkIndexRow(size int, what string) error {
	if size > maxIndexRow {
		return fmt.Errorf("%s: %d bytes in PostgreSQL's primary key index, which holds at most %d (shorten the key): %w",
			what, size, maxIndexRow, adapters.ErrUnsupported)
	}
	return nil
}

func checkText(field, s string) error {
	if p := textProblem(s); p != "" {
		return fmt.Errorf("%s: %s: %w", field, p, adapters.ErrUnsupported)
	}
	return nil
}

// textProblem says why PostgreSQL text cannot hold s, or "".
func textProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "PostgreSQL text cannot hold a NUL byte"
	}
	if !utf8.ValidString(s) {
		return "PostgreSQL text cannot hold invalid UTF-8"
	}
	return ""
}

func checkJSON(field string, b []byte) error {
	if b == nil {
		return nil
	}
	if hasNULEscape(b) {
		return fmt.Errorf("%s: PostgreSQL jsonb cannot hold \\u0000 (a NUL character in a string): %w",
			field, adapters.ErrUnsupported)
	}
	if p := numberProblem(b); p != "" {
		return fmt.Errorf("%s: %s: %w", field, p, adapters.ErrUnsupported)
	}
	if len(b) > jsonbCheckFrom {
		if _, err := jsonbSize(b); err != nil {
			return fmt.Errorf("%s: %v: %w", field, err, adapters.ErrUnsupported)
		}
	}
	return nil
}

// hasNULEscape reports whether canonical JSON b holds the escape \u0000.
// Canonical JSON spells a NUL character only that way, but `\\u0000` is a
// backslash followed by the text u0000, so the backslashes before a match
// are counted: an odd run ending at it is an escape.
func hasNULEscape(b []byte) bool {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(`\u0000`))
		if i < 0 {
			return false
		}
		i += off
		n := 0
		for j := i; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		off = i + 1
	}
}

// jsonb numbers are PostgreSQL numerics: at most 131072 digits before the
// decimal point and 16383 after it.
const (
	maxNumericWeight = 131072
	maxNumericScale  = 16383
)

// numberProblem says why a number in canonical JSON b does not fit a jsonb
// numeric, or "". Canonical numbers are short unless they have an exponent
// or very many digits, so only those are looked at closely.
func numberProblem(b []byte) string {
	// Without an exponent a canonical number has at most 21 digits before
	// the point, and no more after it than b has bytes. With one, it is
	// e+N with N+1 digits before the point (too many from N = 131072), or
	// e-N with N plus the mantissa's fraction after it (too many past
	// 16383, the mantissa being shorter than b): in a value of at most
	// 6000 bytes only an exponent of five digits or more can be too big.
	// Only then does a value call for a closer look.
	switch {
	case len(b) > maxNumericScale:
	case len(b) <= 6000 && !signedExponent(b, 5):
		return ""
	case !signedExponent(b, 1) || !hasExponent(b):
		return ""
	}
	return eachNumberProblem(b)
}

// eachNumberProblem looks at every number of b, through record's one
// tokenizer.
func eachNumberProblem(b []byte) string {
	var problem string
	err := record.EachNumber(b, func(n record.Number) error {
		if n.Point > maxNumericWeight || n.Digits-n.Point > maxNumericScale {
			problem = "number " + abbrev(n.Text) + " is beyond PostgreSQL's numeric range"
			return errFound
		}
		return nil
	})
	switch {
	case errors.Is(err, record.ErrLimit):
		// Beyond what can be read exactly at all, so beyond numeric too.
		return "a number beyond PostgreSQL's numeric range (" + err.Error() + ")"
	case err != nil && !errors.Is(err, errFound):
		return err.Error()
	}
	return problem
}

// errFound stops a walk that found what it looked for.
var errFound = errors.New("found")

// signedExponent reports whether b may hold a number with an exponent of
// at least digits digits. Canonical JSON always writes an exponent's sign,
// right after the e and a digit, and signs are rare in text: looking for
// them is far quicker than walking strings, and a sign in a string that
// looks like one only costs the closer look of hasExponent.
func signedExponent(b []byte, digits int) bool {
	for _, sign := range [...]byte{'+', '-'} {
		for i := 0; ; i++ {
			j := bytes.IndexByte(b[i:], sign)
			if j < 0 {
				break
			}
			i += j
			if i >= 2 && b[i-1]|0x20 == 'e' && b[i-2] >= '0' && b[i-2] <= '9' && digitsAt(b, i+1) >= digits {
				return true
			}
		}
	}
	return false
}

// digitsAt counts the digits from b[i] on.
func digitsAt(b []byte, i int) int {
	n := 0
	for i+n < len(b) && b[i+n] >= '0' && b[i+n] <= '9' {
		n++
	}
	return n
}

// hasExponent reports whether a number in JSON b has an exponent: an e or
// E right after a digit, outside strings. Strings are skipped quote to
// quote, for text is full of e's.
func hasExponent(b []byte) bool {
	for i := 0; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		seg := b[i:]
		if q >= 0 {
			seg = seg[:q]
		}
		for j := 1; j < len(seg); j++ {
			if c := seg[j]; (c == 'e' || c == 'E') && seg[j-1] >= '0' && seg[j-1] <= '9' {
				return true
			}
		}
		if q < 0 {
			return false
		}
		i = stringEnd(b, i+q) + 1
	}
	return false
}

// stringEnd is the index of the quote that closes the string opened at b[open].
func stringEnd(b []byte, open int) int {
	for i := open + 1; ; {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return len(b)
		}
		i += q
		n := 0
		for j := i - 1; b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
		i++
	}
}

func abbrev(b []byte) string {
	if len(b) > 24 {
		return string(b[:20]) + "…"
	}
	return string(b)
}
