package location

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// ErrScheme is wrapped when a location starts with a scheme no adapter has.
var ErrScheme = fmt.Errorf("%w: unknown scheme", ErrLocation)

// looksLikeScheme reports whether a location that is no file was meant to
// start with a scheme: it has "://", or its prefix is a near miss of one.
func looksLikeScheme(s, scheme string) bool {
	return strings.HasPrefix(s[len(scheme)+1:], "//") || nearest(scheme) != ""
}

func unknownScheme(l Location, scheme string) error {
	err := fmt.Errorf("%w %q in %s (and no such file)", ErrScheme, scheme+":", l)
	if n := nearest(scheme); n != "" {
		return hint.With(err, "did you mean %s:? Known schemes: %s", n, schemeList())
	}
	return hint.With(err, "known schemes: %s; a new SQLite file whose name has a colon is ./%s", schemeList(), l.Raw)
}

// schemeList names the location forms of every adapter.
func schemeList() string {
	var forms []string
	for _, s := range adapters.Schemes() {
		forms = append(forms, s+":…")
	}
	return strings.Join(forms, ", ")
}

// nearest returns the known scheme within two edits of s, or "".
func nearest(s string) string {
	best, bestD := "", 3
	for _, k := range adapters.Schemes() {
		if d := distance(s, k); d < bestD && d > 0 {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// meantScheme reports the scheme a location that is no file was meant to
// start with: one like a known one, or with "://"; for a new file, any
// word before a colon (pg:app, file:app.db) that is not a directory's: no
// file is made of it, as the user meant a database elsewhere.
func meantScheme(s string, create bool) (string, bool) {
	scheme, _, ok := splitScheme(s)
	if !ok {
		return "", false
	}
	return scheme, looksLikeScheme(s, scheme) || create && schemeWord(scheme) && !inDir(s)
}

// schemeWord reports whether a prefix before ':' reads as a scheme, letters
// only (pg, file, mysql): a name with digits before its colon is a file's
// (backup-2026-12-05T10:00.db).
func schemeWord(scheme string) bool {
	return strings.Trim(scheme, "abcdefghijklmnopqrstuvwxyz") == ""
}

// inDir reports whether path names a file in a directory that exists, its
// first part included: dir:x/app.db with dir:x there is a path.
func inDir(path string) bool {
	dir := filepath.Dir(path)
	if dir == "." {
		return false
	}
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}

// meantOther refuses a location naming no file that reads as a database's
// location written wrong: a scheme no adapter has, or a connection string
// without its scheme.
func meantOther(l Location, rest string, create bool) error {
	if scheme, ok := meantScheme(rest, create); ok {
		return unknownScheme(l, scheme)
	}
	return bareConnection(l, create)
}

// bareConnection refuses a location with no scheme, naming no file, that an
// adapter reads as its connection string with the scheme left out: a
// writer would have made a file of that name beside the database meant.
func bareConnection(l Location, create bool) error {
	for _, d := range adapters.Drivers() {
		if d.Bare == nil || !d.Bare(l.Raw) {
			continue
		}
		err := fmt.Errorf("%w: %s names no file, and reads as a %s connection string without its scheme", ErrLocation, l, d.Name)
		if HasPassword(l.Raw) { // a hint never shows it
			return hint.With(err, "put %s: in front of it", d.Schemes[0])
		}
		if f := newFileDriver(); create && f != nil {
			err = hint.With(err, "a new file of that name is %s", ShellQuote(f.Schemes[0]+":"+l.Raw))
		}
		return hint.With(err, "put %s: in front of it: %s", d.Schemes[0], ShellQuote(d.Schemes[0]+":"+l.Raw))
	}
	return nil
}
