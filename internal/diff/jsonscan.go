package diff

import (
	"encoding/json"
	"errors"
)

// A small scanner over JSON text that is already valid (canonical values
// from the record package). It finds value boundaries without decoding, so
// numbers are compared as written — exactly — and nothing is allocated for
// the parts of two values that are equal.

var errScan = errors.New("malformed JSON value")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the value starting at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errScan
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				j, err := stringEnd(b, i)
				if err != nil {
					return 0, err
				}
				i = j
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errScan
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
			if j == i {
				return 0, errScan
			}
			return j, nil
		}
		j++
	}
	if j == i {
		return 0, errScan
	}
	return j, nil
}

func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errScan
}

// trim drops surrounding whitespace from a value.
func trim(v []byte) []byte {
	i := skipSpace(v, 0)
	j := len(v)
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t' || v[j-1] == '\n' || v[j-1] == '\r') {
		j--
	}
	return v[i:j]
}

// member is one object member: its key unescaped and its value's text.
type member struct {
	key string
	val []byte
}

// members lists an object's members in the order written (for canonical
// text, sorted by key bytes). A repeated key keeps the last value.
func members(v []byte) ([]member, error) {
	var ms []member
	i := skipSpace(v, 1)
	if i < len(v) && v[i] == '}' {
		return nil, nil
	}
	for i < len(v) {
		if v[i] != '"' {
			return nil, errScan
		}
		j, err := stringEnd(v, i)
		if err != nil {
			return nil, err
		}
		key, err := unquote(v[i:j])
		if err != nil {
			return nil, err
		}
		i = skipSpace(v, j)
		if i >= len(v) || v[i] != ':' {
			return nil, errScan
		}
		i = skipSpace(v, i+1)
		j, err = valueEnd(v, i)
		if err != nil {
			return nil, err
		}
		ms = append(ms, member{key: key, val: v[i:j]})
		i = skipSpace(v, j)
		if i >= len(v) {
			return nil, errScan
		}
		if v[i] == '}' {
			return ms, nil
		}
		if v[i] != ',' {
			return nil, errScan
		}
		i = skipSpace(v, i+1)
	}
	return nil, errScan
}

// elements calls f for each array element's text.
func elements(v []byte, f func(i int, e []byte)) error {
	i := skipSpace(v, 1)
	if i < len(v) && v[i] == ']' {
		return nil
	}
	for n := 0; i < len(v); n++ {
		j, err := valueEnd(v, i)
		if err != nil {
			return err
		}
		f(n, v[i:j])
		i = skipSpace(v, j)
		if i >= len(v) {
			return errScan
		}
		if v[i] == ']' {
			return nil
		}
		if v[i] != ',' {
			return errScan
		}
		i = skipSpace(v, i+1)
	}
	return errScan
}

func unquote(s []byte) (string, error) {
	plain := true
	for _, c := range s[1 : len(s)-1] {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(s[1 : len(s)-1]), nil
	}
	var out string
	if err := json.Unmarshal(s, &out); err != nil {
		return "", errScan
	}
	return out, nil
}

// jsonType is the first byte's class: '{', '[', '"', 'b' (bool), 'n', '0'.
func jsonType(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '{', '[', '"', 'n':
		return c
	case 't', 'f':
		return 'b'
	}
	return '0'
}
