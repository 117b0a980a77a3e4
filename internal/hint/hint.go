// Package hint attaches to an error what a person can do about it. The
// commands print each hint on its own "hint:" line (internal/cli.Report);
// a hint names a step that works when followed, never a guess.
package hint

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// With attaches a hint to err; nil stays nil.
func With(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: fmt.Sprintf(format, args...)}
}

// All returns the hints attached to err and to what it wraps, outermost
// first, each once. Every branch of a joined error is followed: two
// targets that failed each keep their hint.
func All(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			if h, ok := e.(*hinted); ok && !seen[h.hint] {
				seen[h.hint] = true
				out = append(out, h.hint)
			}
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, each := range u.Unwrap() {
					walk(each)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return out
}

// Quote quotes s for a POSIX shell when it needs it, so that a path or a
// location in a hint can be pasted as it is.
//
// A control character (an escape, a carriage return, a line break) would
// act on the terminal the hint is shown on, and a pasted line lose it: such
// a string is quoted as $'…', which bash and zsh read back (not dash), each
// control byte as \xHH. A NUL, which no argument can hold, reads back as
// the end of the string.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-#") == "" && s[0] != '#' {
		return s
	}
	if strings.IndexFunc(s, control) < 0 && !loneC1(s) {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteByte(s[i])
		case control(r), isLoneC1(r, n, s[i]):
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "\\x%02x", c)
			}
		default:
			b.WriteString(s[i : i+n]) // as it is, a byte that is not UTF-8 too
		}
		i += n
	}
	b.WriteByte('\'')
	return b.String()
}

// loneC1 reports whether s holds a byte 0x80–0x9f that is not part of a
// UTF-8 character, which a terminal may take as a C1 control.
func loneC1(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if isLoneC1(r, n, s[i]) {
			return true
		}
		i += n
	}
	return false
}

// isLoneC1 reports whether the rune r of n bytes, its first b, is such a
// byte.
func isLoneC1(r rune, n int, b byte) bool {
	return r == utf8.RuneError && n == 1 && b >= 0x80 && b < 0xa0
}

// control reports whether r is a control character: C0, DEL or C1.
func control(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// Printable is s with each control character spelled \xHH (\u00HH for
// C1), for a message on a terminal: a name holding an escape must not
// recolour, move or clear what is shown.
func Printable(s string) string {
	if strings.IndexFunc(s, control) < 0 && !loneC1(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r < 0x20 || r == 0x7f, isLoneC1(r, n, s[i]):
			fmt.Fprintf(&b, "\\x%02x", s[i]) // a lone C1 byte too, which some terminals take
		case control(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteString(s[i : i+n]) // a byte that is not UTF-8 as it is
		}
		i += n
	}
	return b.String()
}
