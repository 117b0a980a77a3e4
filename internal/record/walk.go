package record

// The value walkers hand on what the tokenizer reads, for packages that
// look into values without making them canonical: persist-diff finds the
// paths at which two values differ, an adapter checks the numbers it can
// hold. Each validates the whole value, as Canonical does, and returns its
// errors.

// EachMember calls fn with each member of the JSON object v (space around
// it allowed), in the order written: its name with escapes decoded, and its
// value's text. Both are valid during the call only.
func EachMember(v []byte, fn func(name, value []byte) error) error {
	var t tokenizer
	t.reset(v)
	t.skipSpace()
	if t.peek() != '{' {
		return t.unexpected("an object")
	}
	var buf []byte
	empty, err := t.open('}')
	for more := !empty; more && err == nil; {
		var name []byte
		if err = t.nameStart(); err != nil {
			break
		}
		if name, buf, err = t.content(buf); err != nil {
			break
		}
		if err = t.nameColon(); err != nil {
			break
		}
		start := t.pos
		if _, err = t.skipValue(); err != nil {
			break
		}
		if err = fn(name, v[start:t.pos]); err == nil {
			more, err = t.more('}')
		}
	}
	if err != nil {
		return err
	}
	return t.end("end of input")
}

// EachElement calls fn with each element of the JSON array v (space around
// it allowed): its index and its text.
func EachElement(v []byte, fn func(i int, elem []byte) error) error {
	var t tokenizer
	t.reset(v)
	t.skipSpace()
	if t.peek() != '[' {
		return t.unexpected("an array")
	}
	empty, err := t.open(']')
	for i, more := 0, !empty; more && err == nil; i++ {
		start := t.pos
		if _, err = t.skipValue(); err != nil {
			break
		}
		if err = fn(i, v[start:t.pos]); err == nil {
			more, err = t.more(']')
		}
	}
	if err != nil {
		return err
	}
	return t.end("end of input")
}

// EachNumber calls fn with each number in the JSON value v, in the order
// written, as an exact decimal (see Number): what a store must hold of it.
func EachNumber(v []byte, fn func(n Number) error) error {
	var t tokenizer
	t.reset(v)
	t.skipSpace()
	if err := t.numbers(fn); err != nil {
		return err
	}
	return t.end("end of input")
}

func (t *tokenizer) numbers(fn func(n Number) error) error {
	switch c := t.peek(); {
	case c == '{' || c == '[':
		close := byte(']')
		if c == '{' {
			close = '}'
		}
		empty, err := t.open(close)
		for more := !empty; more && err == nil; {
			if c == '{' {
				err = t.skipName()
			}
			if err == nil {
				err = t.numbers(fn)
			}
			if err == nil {
				more, err = t.more(close)
			}
		}
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		var n numberText
		if err := t.number(&n); err != nil {
			return err
		}
		return fn(n.exported(t.src))
	}
	_, err := t.skipValue()
	return err
}
