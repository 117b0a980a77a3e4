package diff

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/record"
)

// sliceIter yields items through one reused Item, as stream readers do, so
// that code keeping an item past the next call is caught.
type sliceIter struct {
	items []*record.Item
	i     int
	cur   record.Item
}

func (s *sliceIter) Next() (*record.Item, error) {
	if s.i == len(s.items) {
		return nil, io.EOF
	}
	s.cur = *s.items[s.i].Clone()
	s.i++
	return &s.cur, nil
}

func iter(items []*record.Item) *sliceIter { return &sliceIter{items: items} }

// parseLines parses JSONL text (one item a line, any spelling) into items.
func parseLines(t testing.TB, text string) []*record.Item {
	t.Helper()
	var items []*record.Item
	var l record.Line
	for n, line := range strings.Split(strings.TrimSpace(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if err := record.ParseLine([]byte(line), &l); err != nil {
			t.Fatalf("line %d %q: %v", n+1, line, err)
		}
		items = append(items, l.Item.Clone())
	}
	return items
}

func sortItems(items []*record.Item) {
	slices.SortFunc(items, func(x, y *record.Item) int { return record.Compare(x, y) })
}
