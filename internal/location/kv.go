package location

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cuitty/persist/internal/hint"
)

// A keyword/value connection string (libpq's: key = value pairs, a value
// quoted with ' or running to the next space, a backslash escaping the
// character after it) may hold '#' in any value. The store's name begins at
// the last '#' outside quotes that no '=' follows: in "password=ab#cd user=u"
// the '#' is the password's. Where such a '#' lies in a password's unquoted
// value ("password=ab#cd"), it may as well be the password's own, and the
// string is refused: read as a store's name, a load would write to a store
// named "cd" wherever the server does not check the password.

// hashAt is a '#' of a keyword/value string, outside quotes, and the key
// whose unquoted value it lies in ("" for none).
type hashAt struct {
	i   int
	key string
}

// kvHashes lists the '#'s of s outside quoted values, in order.
func kvHashes(s string) []hashAt {
	var out []hashAt
	i := 0
	for i < len(s) {
		i = skipSpace(s, i)
		start := i
		for i < len(s) && s[i] != '=' && spaceAt(s, i) == 0 {
			if s[i] == '#' {
				out = append(out, hashAt{i: i})
			}
			i++
		}
		key := s[start:i]
		if i = skipSpace(s, i); i >= len(s) || s[i] != '=' {
			continue // not key=value: libpq says what is wrong with it
		}
		if i = skipSpace(s, i+1); i < len(s) && s[i] == '\'' {
			i = skipQuoted(s, i+1)
			continue
		}
		i, out = valueHashes(s, i, key, out)
	}
	return out
}

// valueHashes adds the '#'s of the unquoted value of key beginning at i,
// and returns the index after the value.
func valueHashes(s string, i int, key string, out []hashAt) (int, []hashAt) {
	for i < len(s) && spaceAt(s, i) == 0 {
		switch s[i] {
		case '\\':
			i++
		case '#':
			out = append(out, hashAt{i: i, key: key})
		}
		i++
	}
	return i, out
}

// skipQuoted returns the index after the quote that closes a value
// beginning at i, or len(s).
func skipQuoted(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '\'':
			return i + 1
		}
		i++
	}
	return len(s)
}

// spaceAt is the length of the space at s[i], 0 for none: lib/pq parts
// pairs at any Unicode space.
func spaceAt(s string, i int) int {
	r, n := utf8.DecodeRuneInString(s[i:])
	if unicode.IsSpace(r) {
		return n
	}
	return 0
}

func skipSpace(s string, i int) int {
	for i < len(s) {
		n := spaceAt(s, i)
		if n == 0 {
			break
		}
		i += n
	}
	return i
}

// kvStore splits a trailing #NAME off the keyword/value string s (the text
// after "SCHEME:"), and refuses a '#' that may as well be a password's.
// where is the location, as messages show it.
func kvStore(s, where string) (rest, store string, err error) {
	hs := kvHashes(s)
	for k := len(hs) - 1; k >= 0; k-- {
		h := hs[k]
		if strings.Contains(s[h.i+1:], "=") {
			continue
		}
		if h.i == len(s)-1 && !isPasswordKey(h.key) {
			// What "$LOC#$STORE" gives with STORE unset.
			return "", "", hint.With(fmt.Errorf("%w: %s: no store name after #", ErrLocation, where),
				"name the store after # (LOCATION#NAME), or leave the # out for the only store there")
		}
		if isPasswordKey(h.key) {
			key := strings.ToLower(h.key)
			return "", "", hint.With(fmt.Errorf("%w: %s: the # in the %s's value may begin a store's name or be part of the %[3]s",
				ErrLocation, where, key), "%s", kvPasswordHint(key))
		}
		return s[:h.i], s[h.i+1:], nil
	}
	return s, "", nil
}

// urlPasswordHash refuses a URL whose store '#' (at i) ends the value of a
// password given as a query parameter (…?password=ab#cd): libpq reads the
// '#' as the password's, and Persist would read a store's name.
func urlPasswordHash(s string, i int, where string) error {
	q := strings.IndexByte(s[:i], '?')
	if q < 0 {
		return nil
	}
	last := s[q+1 : i]
	if a := strings.LastIndexByte(last, '&'); a >= 0 {
		last = last[a+1:]
	}
	key, _, ok := strings.Cut(last, "=")
	if k, err := url.QueryUnescape(key); err == nil {
		key = k
	}
	if !ok || !isPasswordKey(key) {
		return nil
	}
	return hint.With(fmt.Errorf("%w: %s: the # after the %s parameter may begin a store's name or be part of the %[3]s",
		ErrLocation, where, strings.ToLower(key)),
		"%s", urlPasswordHint(strings.ToLower(key)))
}

// kvPasswordHint says how to write a keyword/value string's password key
// so that a store's name can follow.
func kvPasswordHint(key string) string {
	h := "quote the " + key + ", and put #NAME after it for a store: " + key + "='…'#NAME"
	if key == "password" {
		h += "; or give the password in PGPASSWORD or ~/.pgpass"
	}
	return h
}

// urlPasswordHint says how to write a URL's password parameter key so that
// a store's name can follow.
func urlPasswordHint(key string) string {
	h := "write a # in the " + key + " as %23 and put another parameter after it (?" + key + "=p%23w&application_name=persist#NAME)"
	if key == "password" {
		h += "; or give the password in the URL's user-info (postgres://USER:PASSWORD@HOST/DB#NAME), in PGPASSWORD or in ~/.pgpass"
	}
	return h
}

// urlStore splits #NAME off a URL location. In a URL a '#' can only begin
// the fragment, which lib/pq drops: the last '#' after the user-info begins
// the store's name, '/' and all (a name such as team/app); a '#' left before
// it, in the path or the query, would have lib/pq drop what follows it (a
// dbname=, an sslmode=) and is refused, as is one right after a password.
func urlStore(s string) (rest, store string, err error) {
	rest, store = s, ""
	if i := strings.LastIndexByte(s, '#'); i >= 0 && !inUserinfo(s, i) {
		rest, store = s[:i], s[i+1:]
	}
	if k := strings.LastIndexByte(rest, '#'); k >= 0 && !inUserinfo(rest, k) {
		return "", "", hint.With(fmt.Errorf("%w: %s: a # in a URL's path or query ends what the server is told there",
			ErrLocation, Redact(rest[:k])),
			"write a # that belongs to the path or a parameter's value as %%23; the store's name goes after the last #")
	}
	if store != "" {
		err = urlPasswordHash(s, len(rest), Redact(rest))
	}
	return rest, store, err
}

// inUserinfo reports whether the '#' at i of a URL is in its user-info (a
// password's, postgres://u:p#w@h): no '/' before it after "://", and an '@'
// after it.
func inUserinfo(s string, i int) bool {
	j := strings.Index(s[:i], "://")
	return j >= 0 && !strings.ContainsRune(s[j+3:i], '/') && strings.ContainsRune(s[i+1:], '@')
}
