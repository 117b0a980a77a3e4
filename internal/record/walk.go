package record

import "unicode/utf8"

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

// TokenKind is the kind of a token Walk hands on.
type TokenKind uint8

const (
	TokenBeginObject TokenKind = iota + 1
	TokenEndObject
	TokenBeginArray
	TokenEndArray
	TokenName    // a member's name; its value's tokens follow
	TokenString  // a string value
	TokenNumber  // a number, as written
	TokenLiteral // true, false or null
)

// Token is one token of a JSON value, as Walk reads it: its kind, its text
// as written (a name or a string with its quotes, a bracket alone), and for
// a name or a string its length unescaped, in bytes.
type Token struct {
	Kind TokenKind
	Text []byte
	Len  int
}

// Walk calls fn with each token of the JSON value v (space around it
// allowed), in the order written, for a package that lays a value out its
// own way without making it canonical: the PostgreSQL adapter spells it as
// jsonb prints it. The text is valid during the call only; fn's error ends
// the walk.
func Walk(v []byte, fn func(Token) error) error {
	var t tokenizer
	t.reset(v)
	t.skipSpace()
	if err := t.walk(fn); err != nil {
		return err
	}
	return t.end("end of input")
}

func (t *tokenizer) walk(fn func(Token) error) error {
	start := t.pos
	switch c := t.peek(); c {
	case '{', '[':
		return t.walkContainer(c, fn)
	case '"':
		return t.walkString(TokenString, fn)
	case 't', 'f', 'n':
		lit := "null"
		switch c {
		case 't':
			lit = "true"
		case 'f':
			lit = "false"
		}
		if err := t.literal(lit); err != nil {
			return err
		}
		return fn(Token{Kind: TokenLiteral, Text: t.src[start:t.pos]})
	}
	if c := t.peek(); c != '-' && (c < '0' || c > '9') {
		return t.unexpected("a value")
	}
	var n numberText
	if err := t.number(&n); err != nil {
		return err
	}
	return fn(Token{Kind: TokenNumber, Text: t.src[start:t.pos]})
}

func (t *tokenizer) walkContainer(c byte, fn func(Token) error) error {
	close, kind := byte(']'), TokenBeginArray
	if c == '{' {
		close, kind = '}', TokenBeginObject
	}
	if err := fn(Token{Kind: kind, Text: t.src[t.pos : t.pos+1]}); err != nil {
		return err
	}
	empty, err := t.open(close)
	for more := !empty; more && err == nil; {
		if c == '{' {
			if err = t.nameStart(); err == nil {
				err = t.walkString(TokenName, fn)
			}
			if err == nil {
				err = t.nameColon()
			}
		}
		if err == nil {
			err = t.walk(fn)
		}
		if err == nil {
			more, err = t.more(close)
		}
	}
	if err != nil {
		return err
	}
	return fn(Token{Kind: kind + 1, Text: t.src[t.pos-1 : t.pos]})
}

// walkString hands on the string at pos as a token of kind k.
func (t *tokenizer) walkString(k TokenKind, fn func(Token) error) error {
	start := t.pos
	end, escaped, err := t.str(nil)
	if err != nil {
		return err
	}
	tok := Token{Kind: k, Text: t.src[start:end], Len: end - start - 2}
	if escaped {
		tok.Len = unescapedLen(tok.Text[1 : len(tok.Text)-1])
	}
	return fn(tok)
}

// unescapedLen is the length in bytes of a string's content, which str has
// checked, with its escapes decoded.
func unescapedLen(s []byte) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			i++
			n++
			continue
		}
		r, size := decodeEscape(s, i)
		i += size
		n += utf8.RuneLen(r)
	}
	return n
}
