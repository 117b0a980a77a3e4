// Package hint attaches to an error what a person can do about it. The
// commands print each hint on its own "hint:" line (internal/cli.Report);
// a hint names a step that works when followed, never a guess.
package hint

import (
	"fmt"
	"strings"
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
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-#") == "" && s[0] != '#' {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
