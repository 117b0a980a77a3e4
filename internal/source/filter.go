package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// ErrNoMatch is wrapped when a filter names a collection or stream the
// source does not hold: pg_dump -t nosuch fails, and so does a typo here,
// rather than make an empty backup that passes for a good one.
var ErrNoMatch = errors.New("no such collection or stream")

// ErrNoInput is wrapped when a stream is no bytes at all: an upstream that
// died must not pass for an empty stream, which has a header and a trailer.
var ErrNoInput = errors.New("no input")

// Started is nil once r has read a line. Before that it is the error that
// kept the first line from being read (a compressed stream cut short), or
// ErrNoInput when there was not a byte to read.
func Started(r *record.Reader) error {
	if r.Line() > 0 {
		return nil
	}
	if err := r.HeadErr(); err != nil {
		return err
	}
	return fmt.Errorf("%w: not a single byte was read (not even a header)", ErrNoInput)
}

// Missing is what the filter named and the source does not hold, with
// Options.Unmatched: for a store known once it is open, for a stream once
// it was read to its end. Each is `collection "c"` or `stream "s"`.
func (s *Source) Missing() []string { return s.missing }

// checkFilter makes sure every collection and stream the filter names
// exists in the store (tombstones count: a deleted record still exists).
func (s *Source) checkFilter(ctx context.Context) error {
	f := s.opt.Filter
	if f.Keys != nil {
		return nil // a point read: a key missing is not there, no typo
	}
	var missing []string
	for _, c := range f.Collections {
		n, _, err := s.snap.Count(ctx, adapters.Filter{Collections: []string{c}, NoEvents: true})
		if err != nil {
			return s.wrap(err)
		}
		if n == 0 {
			missing = append(missing, fmt.Sprintf("collection %q", c))
		}
	}
	for _, st := range f.Streams {
		_, n, err := s.snap.Count(ctx, adapters.Filter{Streams: []string{st}, NoRecords: true})
		if err != nil {
			return s.wrap(err)
		}
		if n == 0 {
			missing = append(missing, fmt.Sprintf("stream %q", st))
		}
	}
	if len(missing) == 0 || s.opt.Unmatched {
		s.missing = missing
		return nil
	}
	cols, streams, err := s.snap.Names(ctx)
	if err != nil {
		return s.wrap(err)
	}
	return s.noMatch(missing, countedNames(cols), countedNames(streams))
}

// countedNames lists names with their counts, a name's commas written \,
// as --collection and --stream take them (a list is comma-separated).
func countedNames(ns []adapters.NameCount) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("%s (%d)", strings.ReplaceAll(n.Name, ",", `\,`), n.Count)
	}
	return out
}

// noMatch names what the filter asked for and the source lacks, and lists
// what it has of that kind instead (at most maxListed names).
func (s *Source) noMatch(missing []string, cols, streams []string) error {
	where := s.Loc.String()
	if s.Store != "" && s.IsStore() {
		where += " (store " + s.Store + ")"
	}
	var has []string
	if strings.Contains(strings.Join(missing, " "), "collection ") {
		has = append(has, listed("collections", cols))
	}
	if strings.Contains(strings.Join(missing, " "), "stream ") {
		has = append(has, listed("streams", streams))
	}
	return fmt.Errorf("%w: %s has no %s; it has %s", ErrNoMatch, where, strings.Join(missing, " and no "), strings.Join(has, "; and "))
}

const maxListed = 20

func listed(what string, names []string) string {
	switch {
	case len(names) == 0:
		return "no " + what
	case len(names) > maxListed:
		return fmt.Sprintf("%s %s, … (%d in all)", what, strings.Join(names[:maxListed], ", "), len(names))
	}
	return what + " " + strings.Join(names, ", ")
}

// keep applies the filter to an item of a stream and notes which names
// were seen, for unmatched.
func (s *Source) keep(it *record.Item) bool {
	f := &s.opt.Filter
	if f.Collections != nil || f.Streams != nil {
		name := "s\x00" + it.Stream
		if it.IsRecord() {
			name = "c\x00" + it.Collection
		}
		if name != s.lastSeen {
			if s.seen == nil {
				s.seen = map[string]bool{}
			}
			s.seen[name], s.lastSeen = true, name
		}
	}
	return Keep(f, it)
}

// unmatched is the end of a stream: an error when the filter named a
// collection or stream it never held.
func (s *Source) unmatched() error {
	var missing, cols, streams []string
	for _, c := range s.opt.Filter.Collections {
		if !s.seen["c\x00"+c] {
			missing = append(missing, fmt.Sprintf("collection %q", c))
		}
	}
	for _, st := range s.opt.Filter.Streams {
		if !s.seen["s\x00"+st] {
			missing = append(missing, fmt.Sprintf("stream %q", st))
		}
	}
	if h := s.Header(); len(missing) == 0 || s.opt.Unmatched || h != nil && h.Since != "" {
		// A delta holds what changed: a collection or stream in which
		// nothing did is not there, and no typo is told by its absence.
		s.missing = missing
		return nil
	}
	for k := range s.seen {
		if name, ok := strings.CutPrefix(k, "c\x00"); ok {
			cols = append(cols, name)
		} else {
			streams = append(streams, strings.TrimPrefix(k, "s\x00"))
		}
	}
	slices.Sort(cols)
	slices.Sort(streams)
	return s.noMatch(missing, cols, streams)
}
