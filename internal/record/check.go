package record

import "bytes"

// check is checkValue, the quick check first: it reads what checkValue
// reads, and leaves pos where checkValue would when the value is canonical.
func (p *parser) check() (ok bool, err error) {
	switch end, v := quickCheck(p.src, p.pos); v {
	case isCanonical:
		p.pos = end
		return true, nil
	case notCanonical:
		return false, nil
	}
	return p.checkValue()
}

// checkValue reads the value at pos as value does but writes nothing: ok
// reports whether it is its own canonical form. It stops at the first thing
// that is not (a space, a member out of order, an escape or a number spelt
// otherwise), leaving the rest unread.
func (p *parser) checkValue() (ok bool, err error) {
	switch c := p.peek(); {
	case c == '{':
		return p.checkObject()
	case c == '[':
		return p.checkArray()
	case c == '"':
		open := p.pos
		end, escaped, err := p.str(nil)
		return err == nil && (!escaped || canonicalEscapes(p.src[open+1:end-1])), err
	case c == '-' || (c >= '0' && c <= '9'):
		if p.plainNumber() {
			return true, nil
		}
		var n numberText
		if err := p.number(&n); err != nil {
			return false, err
		}
		ok, p.scratch = n.isCanonical(p.src, p.scratch)
		return ok, nil
	}
	_, err = p.skipValue() // a literal, or not a value
	return err == nil, err
}

// checkOpen reads an array's or object's opening, as canonical JSON
// spells it: inside reports something follows at once; ok is false for
// anything but that or an empty "[]" or "{}".
func (p *parser) checkOpen(close byte) (inside, ok bool, err error) {
	at := p.pos
	if !p.enter() {
		return false, false, p.deep()
	}
	if p.pos != at+1 {
		return false, false, nil // space
	}
	return !p.closeNow(close), true, nil
}

// checkNext reads what follows an element or member: more reports a comma
// and the next one right after it; ok is false for space anywhere.
func (p *parser) checkNext(close byte) (more, ok bool, err error) {
	at := p.pos
	if p.comma() {
		return true, p.pos == at+1, nil
	}
	if p.pos != at {
		return false, false, nil
	}
	err = p.closing(close)
	return false, err == nil, err
}

func (p *parser) checkArray() (bool, error) {
	inside, ok, err := p.checkOpen(']')
	for more := inside; more && ok && err == nil; {
		if ok, err = p.checkValue(); ok && err == nil {
			more, ok, err = p.checkNext(']')
		}
	}
	return ok && err == nil, err
}

func (p *parser) checkObject() (bool, error) {
	inside, ok, err := p.checkOpen('}')
	var prev []byte
	for more, first := inside, true; more && ok && err == nil; first = false {
		if err = p.nameStart(); err != nil {
			break
		}
		open := p.pos
		var end int
		var escaped bool
		if end, escaped, err = p.str(nil); err != nil {
			break
		}
		key, at := p.src[open+1:end-1], p.pos
		if escaped && !canonicalEscapes(key) || !first && compareKeys(prev, key) >= 0 || !p.colon() || p.pos != at+1 {
			return false, nil
		}
		prev = key
		if ok, err = p.checkValue(); ok && err == nil {
			more, ok, err = p.checkNext('}')
		}
	}
	return ok && err == nil, err
}

// canonicalEscapes reports whether every escape in the string content s
// (checked by str) is one canonical JSON writes: only for '"', '\\' and
// control characters, and spelt as appendEscaped spells them.
func canonicalEscapes(s []byte) bool {
	var buf [6]byte
	for i := bytes.IndexByte(s, '\\'); i >= 0; {
		r, n := decodeEscape(s, i)
		if r >= 0x20 && r != '"' && r != '\\' {
			return false
		}
		if string(appendEscaped(buf[:0], byte(r))) != string(s[i:i+n]) {
			return false
		}
		j := bytes.IndexByte(s[i+n:], '\\')
		if j < 0 {
			break
		}
		i += n + j
	}
	return true
}
