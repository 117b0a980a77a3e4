package adapters

import (
	"errors"
	"fmt"
	"math"

	"github.com/cuitty/persist/internal/record"
)

// ErrNoNext is wrapped when a write asks for the version after a record's
// (the seq after a stream's last) and that is the limit already: one more
// wraps around to math.MinInt64, which is what such a write arrives with.
var ErrNoNext = errors.New("at the largest possible value, 9223372036854775807 (the limit), and cannot be incremented")

// NoNext says why it cannot be put when its version or seq is the one
// after the limit, wrapped around; nil otherwise.
func NoNext(it *record.Item) error {
	switch {
	case it.IsRecord() && it.Version == math.MinInt64:
		return fmt.Errorf("put record %q/%q: version: the record's version is %w, as a write without a version needs",
			it.Collection, it.Key, ErrNoNext)
	case !it.IsRecord() && it.Seq == math.MinInt64:
		return fmt.Errorf("put event in stream %q: seq: the stream's last seq is %w, as an event without a seq needs", it.Stream, ErrNoNext)
	}
	return nil
}
