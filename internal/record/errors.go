package record

import (
	"errors"
	"fmt"
)

// Sentinels a caller can tell apart with errors.Is.
var (
	ErrSyntax    = errors.New("invalid JSON")       // malformed JSON, bad UTF-8, lone surrogate
	ErrField     = errors.New("invalid field")      // unknown, missing, duplicated or ill-typed field
	ErrTime      = errors.New("invalid time")       // not RFC 3339, or sub-microsecond digits
	ErrKind      = errors.New("unknown kind")       // a kind this format does not have
	ErrFormat    = errors.New("unsupported format") // header format other than persist.v1
	ErrPlacement = errors.New("line out of place")  // header not first, line after trailer, remove outside a patch
	ErrTrailer   = errors.New("stream does not match its trailer")
	ErrTruncated = errors.New("stream truncated") // header but no trailer
	// ErrRead: the bytes of the stream could not be read past a line: a
	// compressed stream cut short or damaged, a file that failed.
	ErrRead = errors.New("the input could not be read")
	// ErrHeader is wrapped with ErrTrailer when the header's counts are
	// not the trailer's, which the items match.
	ErrHeader  = errors.New("the header's counts are not the trailer's")
	ErrTooLong = errors.New("line too long")
	// ErrPatch: a patch stream given to a reader that reads content.
	ErrPatch = errors.New("a patch stream")
	// ErrSkipped ends a stream whose trailer does not match only because
	// lines returned as *LineError were set aside: everything else is there.
	ErrSkipped = errors.New("stream had lines set aside")
)

// MaxLine is the longest line a reader accepts.
const MaxLine = 256 << 20

// LineError is an error about one input line; Line counts from 1.
//
// A Reader returns a *LineError only for a line it skipped: the next call to
// Next goes on with the following line. Every other error from Next is final.
type LineError struct {
	Line int64
	Err  error
	// Last is set by a reader that went on to find nothing after the
	// line (no item, no trailer): a stream's last line, where its
	// trailer belongs.
	Last bool
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ErrLimit marks legal input beyond one of the format's limits (MaxLine,
// MaxDepth, MaxExponent, an int64 version or seq): refused, and named as
// such rather than as invalid.
var ErrLimit = errors.New("over a limit")

// limitError is a limit met; its message names the limit and its value.
type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == ErrLimit }

func limitf(format string, args ...any) error {
	return &limitError{fmt.Sprintf(format, args...)}
}
