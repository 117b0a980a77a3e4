package diff

import (
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/record"
)

type summarySink struct{ w io.Writer }

func (summarySink) onlyA(*record.Item) error        { return nil }
func (summarySink) onlyB(*record.Item) error        { return nil }
func (summarySink) changed(_, _ *record.Item) error { return nil }

func (s *summarySink) finish(st Stats, _, _ record.Sum) error {
	if _, err := fmt.Fprintln(s.w, st.String()); err != nil {
		return fmt.Errorf("write diff summary: %w", err)
	}
	return nil
}

// String is the one-line summary: "only in A: 3, only in B: 2, changed: 5, same: 99990".
func (s Stats) String() string {
	return fmt.Sprintf("only in A: %d, only in B: %d, changed: %d, same: %d", s.OnlyA, s.OnlyB, s.Changed, s.Same)
}
