package tools

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/hint"
)

// A full disk says what to do, and what the store holds meanwhile: the
// batches committed before, or, in one transaction, nothing.
func TestLoadHintFullDisk(t *testing.T) {
	full := fmt.Errorf("batch of lines 8001-10000: %w: %w", persist.ErrFull, syscall.ENOSPC)
	for _, tc := range []struct {
		f    LoadFlags
		made bool
		want string
	}{
		{LoadFlags{}, false, "the batches committed before stay, and count as unchanged"},
		{LoadFlags{Atomic: true}, false, "nothing was written (one transaction)"},
		{LoadFlags{Mode: "replace"}, false, "nothing was written (one transaction)"},
		{LoadFlags{}, true, "nothing was written (a database the load makes is put in place once loaded whole)"},
	} {
		h := hint.All(loadHint(full, tc.f, persist.LoadResult{Made: tc.made}))
		if len(h) != 1 || !strings.Contains(h[0], "free space on that disk") || !strings.Contains(h[0], tc.want) {
			t.Errorf("%+v: hints %q, want one saying %q", tc.f, h, tc.want)
		}
	}
	// Another file's full disk (the rejects file's) is not the store's.
	rejects := fmt.Errorf("writing rejects: write /dev/full: %w", syscall.ENOSPC)
	if h := hint.All(loadHint(rejects, LoadFlags{Rejects: "/dev/full"}, persist.LoadResult{})); len(h) != 0 {
		t.Errorf("the rejects file's full disk got the store's hint: %q", h)
	}
}
