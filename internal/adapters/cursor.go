package adapters

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cuitty/persist/internal/hint"
)

// Errors of Snapshot.Cursor and of a Filter's Since. Each means that a delta
// from that cursor cannot be trusted to hold every change, so the caller's
// way on is a full dump.
var (
	// ErrNoCursor: the store's schema (version 1, or another
	// implementation's tables) does not track changes; a writer of this
	// release upgrades it (Adapter.Upgrade).
	ErrNoCursor = errors.New("the store's schema does not track changes")
	// ErrCursorAccess is wrapped with ErrNoCursor when the store tracks
	// changes but the connected role may not read its identity or history.
	ErrCursorAccess = errors.New("this role may not read persist_meta and persist_history, where the store's identity and history are")
	// ErrCursor: the cursor cannot be used on this store: it is not one
	// this release reads, it comes from another store or another kind of
	// database, or the store is behind it (restored from an older backup).
	ErrCursor = errors.New("cursor cannot be used")
	// ErrUpgradeRights: the schema needs the upgrade to version 2, which
	// the connected role may not make (it does not own the tables).
	ErrUpgradeRights = errors.New("upgrading the Persist schema needs the owner of its tables")
	// ErrRemoved: since the cursor, records or events were deleted
	// outright (not tombstoned): a merge stream cannot carry that.
	ErrRemoved = errors.New("records or events were deleted outright (not tombstoned) since the cursor, which a delta cannot carry")
)

// ErrCommitUnknown: the connection was lost while a COMMIT was under way,
// and the database could not be asked whether it took effect. Nothing may
// redo the write blindly: it may be there already.
var ErrCommitUnknown = errors.New("the commit's outcome is unknown")

// cursorPrefix starts every cursor this release writes; the digit is the
// cursor format's version, so that a later release can tell old cursors
// from its own.
const cursorPrefix = "c1."

// Cursor is what a cursor string holds: which database kind made it, which
// store it belongs to, and the adapter's own position in that store's
// history. Users handle cursors as opaque strings; only adapters read Pos.
type Cursor struct {
	Adapter string // "sqlite" or "postgres"
	Store   string // StoreID of the store
	Pos     string // the adapter's position; never empty
	// Mark names the newest entry of the store's history that the
	// snapshot saw (see Mark); empty in cursors of stores without one
	// and of releases before it, which are read as they were.
	Mark Mark
	// Filter is the FilterTag of the dump that made the cursor: "" for a
	// dump of the whole store.
	Filter string
	// Sealed: the cursor is of a stream edited on its way (through
	// persist-seal after a jq filter, say, or filtered twice otherwise by
	// persist-dump), so it may lack items that its store's dump held. A
	// delta loaded after it must have been edited the same way, and a
	// sealed delta must follow a sealed stream; the loader tells the two
	// chains apart by this mark.
	Sealed bool
	// Partial: the cursor holds no store and no position, only Filter
	// (and Sealed): the mark of a filtered dump written without a cursor
	// (--no-cursor, or a store that does not track changes), by which a
	// replace or a patch still tells it from a whole dump. No delta starts
	// from it.
	Partial bool
}

// Mark is an entry of a store's history: a change counter or transaction
// id, and the random token its writer drew for it. A store restored from an
// older copy (or another copy written to) either lacks the entry or has
// drawn another token for it, where its counter alone would pass.
type Mark struct {
	N     int64
	Token string // 16 hex digits; "" for no mark
}

// String is the cursor as users see it: c1.ADAPTER.STORE.POS[.N-TOKEN], made
// of letters, digits and . : , - only, so it needs no quoting in a shell.
func (c Cursor) String() string {
	s := cursorPrefix + c.Adapter + "." + c.Store + "." + c.Pos
	if c.Partial {
		s = cursorPrefix + partialName
	}
	if c.Mark.Token != "" {
		s += "." + strconv.FormatInt(c.Mark.N, 10) + "-" + c.Mark.Token
	}
	if c.Filter != "" {
		s += filterMark + c.Filter
	}
	if c.Sealed {
		s += sealMark
	}
	return s
}

// partialName is what a partial cursor (Cursor.Partial) holds in place of
// the adapter, the store and the position.
const partialName = "partial"

// PartialCursor is what the trailer of a stream written without its
// cursor carries instead, given the cursor c it would have carried ("" for
// none) and the tag of the filter that wrote it: nothing for a whole
// stream, and for one that holds part of its store (c's filter mark, or
// tag), only that mark, the same whatever the store. A cursor that does
// not read is kept as it is: nothing says what it stood for.
func PartialCursor(c, tag string) string {
	p := Cursor{Partial: true, Filter: tag}
	if c != "" {
		parsed, err := ParseCursor(c)
		if err != nil {
			return c
		}
		if parsed.Filter != "" {
			p.Filter = parsed.Filter
		}
		p.Sealed = parsed.Sealed && p.Filter != ""
	}
	if p.Filter == "" {
		return ""
	}
	return p.String()
}

// sealMark ends a sealed cursor; it comes after the filter tag, whose hex
// digits never hold an 's'.
const sealMark = ",s"

// SealCursor is s marked sealed ("" stays ""): the cursor or since of a
// stream persist-seal wrote.
func SealCursor(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	c, err := ParseCursor(s)
	if err != nil {
		return "", err
	}
	c.Sealed = true
	return c.String(), nil
}

// Unsealed is s without its seal mark: where a dump starts reading is the
// same whether or not the stream it follows was edited afterwards, and the
// delta it writes is not edited until persist-seal says so.
func Unsealed(s string) string {
	rest, _ := strings.CutSuffix(s, sealMark)
	return rest
}

// filterMark begins a cursor's filter tag: a position holds digits, ':' and
// ',' only, never ",f".
const filterMark = ",f"

// cutFilter splits a cursor's filter tag off.
func cutFilter(s string) (rest, tag string) {
	i := strings.LastIndex(s, filterMark)
	if i < 0 || len(s)-i-len(filterMark) != TokenLen || strings.Trim(s[i+len(filterMark):], "0123456789abcdef") != "" {
		return s, ""
	}
	return s[:i], s[i+len(filterMark):]
}

// ErrCursorFilter is wrapped (with ErrCursor) when a cursor made by a dump
// with one filter is given to a dump with another, or none: a delta from
// it would lack what the first dump's filter left out, changes made before
// its snapshot that no later delta would carry.
var ErrCursorFilter = errors.New("the cursor is of a dump with another filter")

// FilterTag is a digest of what f selects, "" when it selects the whole
// store (Since aside). A cursor of a filtered dump carries it, so that a
// delta with another filter, or none, is refused from it.
func FilterTag(f Filter) string {
	if f.Collections == nil && f.Streams == nil && !f.NoRecords && !f.NoEvents && !f.Live && f.Keys == nil && f.FromSeq == 0 {
		return ""
	}
	// What selects nothing more is left out: two filters that select the
	// same items (--events, --events --live) have one tag.
	c, k, live := nameSet(f.Collections), nameSet(f.Keys), f.Live
	if f.NoRecords || none(c) || none(k) {
		c, k, live = []string{}, nil, false
	}
	st, from := nameSet(f.Streams), f.FromSeq
	if f.NoEvents || none(st) {
		st, from = []string{}, 0
	}
	b, _ := json.Marshal(struct {
		C, S, K []string
		Live    bool
		From    int64
	}{c, st, k, live, from})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:TokenLen/2])
}

// nameSet is names sorted, each once; nil stays nil (all).
func nameSet(names []string) []string {
	if names == nil {
		return nil
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// none reports a list that selects nothing: empty, not nil.
func none(names []string) bool { return names != nil && len(names) == 0 }

// SameFilter refuses since, a cursor, when the dump that made it had
// another filter than f: a cursor of the whole store serves any filter.
func SameFilter(since string, f Filter) error {
	_, tag := cutFilter(since)
	if tag == "" || tag == FilterTag(f) {
		return nil
	}
	what := "none"
	if FilterTag(f) != "" {
		what = "another"
	}
	return hint.With(fmt.Errorf("%w: %w: this dump has %s; a delta from it would lack what that dump left out", ErrCursor, ErrCursorFilter, what),
		"give the same --collection, --stream, --records, --events and --live as the dump that made the cursor; for this filter, start its own chain with a full dump (another --cursor-file)")
}

// WithFilter is cursor (or a since) as what filter f left of its dump or
// stream stands for: a store's dump, or a whole stream, filtered carries
// f's tag; one of that filter already stays as it is; one of another
// filter, filtered again (a stream: a store refuses that since,
// SameFilter), holds what neither tag says, and is tagged and sealed.
func WithFilter(cursor string, f Filter) (string, error) {
	tag := FilterTag(f)
	if tag == "" || cursor == "" {
		return cursor, nil
	}
	c, err := ParseCursor(cursor)
	if err != nil {
		return "", err
	}
	switch c.Filter {
	case tag:
	case "":
		c.Filter = tag
	default:
		c.Filter, c.Sealed = tag, true
	}
	return c.String(), nil
}

// TokenLen is the length of a history token, in hex digits.
const TokenLen = 16

func parseMark(s string) (Mark, bool) {
	n, tok, ok := strings.Cut(s, "-")
	if !ok || len(tok) != TokenLen || strings.Trim(tok, "0123456789abcdef") != "" {
		return Mark{}, false
	}
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil || v < 0 || strconv.FormatInt(v, 10) != n {
		return Mark{}, false
	}
	return Mark{N: v, Token: tok}, true
}

// HistoryError is the error of a cursor whose mark the store's history does
// not hold as the cursor saw it.
func HistoryError(m Mark, found string) error {
	what := "has no entry " + strconv.FormatInt(m.N, 10)
	if found != "" {
		what = "has another entry " + strconv.FormatInt(m.N, 10)
	}
	return fmt.Errorf("%w: the store's history %s where the cursor saw one: the store was restored from an older backup or copy, "+
		"another copy of it was written to, or its change tracking was repaired since", ErrCursor, what)
}

// Source names the store a cursor belongs to, without the position: the
// same for every cursor of one store.
func (c Cursor) Source() string { return c.Adapter + "." + c.Store }

// ParseCursor reads a cursor string; the error wraps ErrCursor.
func ParseCursor(s string) (Cursor, error) {
	s, sealed := strings.CutSuffix(s, sealMark)
	s, tag := cutFilter(s)
	rest, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok {
		return Cursor{}, fmt.Errorf("%w: %q is not a cursor this release reads (they start with %q)", ErrCursor, clip(s), cursorPrefix)
	}
	if rest == partialName && tag != "" {
		return Cursor{Partial: true, Filter: tag, Sealed: sealed}, nil
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != storeIDLen || parts[2] == "" || !cursorChars(s) {
		return Cursor{}, fmt.Errorf("%w: %q is not a well-formed cursor", ErrCursor, clip(s))
	}
	c := Cursor{Adapter: parts[0], Store: parts[1], Pos: parts[2]}
	if pos, mark, ok := strings.Cut(parts[2], "."); ok {
		m, ok := parseMark(mark)
		if !ok || pos == "" {
			return Cursor{}, fmt.Errorf("%w: %q is not a well-formed cursor", ErrCursor, clip(s))
		}
		c.Pos, c.Mark = pos, m
	}
	c.Filter, c.Sealed = tag, sealed
	return c, nil
}

// CheckCursor parses s and checks that it was made by adapter for the
// store whose StoreID is id.
func CheckCursor(s, adapter, id string) (Cursor, error) {
	c, err := ParseCursor(s)
	if err != nil {
		return c, err
	}
	if c.Partial {
		return c, hint.With(fmt.Errorf("%w: %q is the mark of a filtered dump written without its cursor (asked to leave it out, or of a store that does not track changes): "+
			"it holds no position for a delta to start from", ErrCursor, clip(s)),
			"a dump written with --no-cursor carries no cursor: start from the cursor of a dump made without --no-cursor "+
				"(a store that does not track changes gives one once persist upgrade has run on it)")
	}
	if c.Adapter != adapter {
		return c, fmt.Errorf("%w: the cursor comes from a %s store, this is %s", ErrCursor, c.Adapter, adapter)
	}
	if c.Store != id {
		return c, fmt.Errorf("%w: the cursor comes from another store (or from this one before it was copied or restored elsewhere)", ErrCursor)
	}
	if c.Sealed {
		// A reader is given the cursor without its seal (Unsealed): one
		// left is a second mark, which no stream carries.
		return c, fmt.Errorf("%w: %q is not a well-formed cursor (marked sealed twice)", ErrCursor, clip(s))
	}
	return c, nil
}

const storeIDLen = 16

// StoreID is the identity of a store in cursors: a digest of the adapter,
// of the database's own identity (Persist keeps a random one in
// persist_meta; an adapter may add the server's) and of the store's name.
func StoreID(adapter string, database []string, store string) string {
	h := sha256.New()
	h.Write([]byte(adapter))
	for _, d := range database {
		h.Write([]byte{0})
		h.Write([]byte(d))
	}
	h.Write([]byte{0, 0})
	h.Write([]byte(store))
	return hex.EncodeToString(h.Sum(nil))[:storeIDLen]
}

func cursorChars(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == ':' || c == ',' || c == '-') {
			return false
		}
	}
	return true
}

// clip keeps an error about a bad cursor readable whatever was passed.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
