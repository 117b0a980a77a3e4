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

// A load the database stopped (a statement timeout, a refused write) says
// that the batches committed before stay, and that the same command
// finishes the job; not where nothing was kept, nor where the batches
// appended events without seq, which a rerun appends again.
func TestLoadHintKeptBatches(t *testing.T) {
	stopped := fmt.Errorf("batch of lines 5-6: writing: put records: %w", fmt.Errorf("canceling statement due to statement timeout"))
	const kept = "the 2 batches committed before it stay (1 record and 3 events written): once what failed is mended, the same command"
	for _, tc := range []struct {
		name string
		f    LoadFlags
		res  persist.LoadResult
		want string // "" for no such hint
	}{
		{"batches kept", LoadFlags{}, persist.LoadResult{Batches: 2, Written: 1, Events: 3}, kept},
		{"none committed", LoadFlags{}, persist.LoadResult{}, ""},
		{"one transaction", LoadFlags{Atomic: true}, persist.LoadResult{Batches: 2, Written: 1, Events: 3}, ""},
		{"events appended", LoadFlags{}, persist.LoadResult{Batches: 2, Written: 1, Events: 3, Appended: 1, AppendedFirst: 2, AppendedLast: 2}, ""},
	} {
		h := strings.Join(hint.All(appendedHint(loadHint(stopped, tc.f, tc.res), tc.res)), "\n")
		if got := strings.Contains(h, "committed before it stay"); got != (tc.want != "") || !strings.Contains(h, tc.want) {
			t.Errorf("%s: hints %q, want %q", tc.name, h, tc.want)
		}
	}
}
