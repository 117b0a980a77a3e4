package persist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/durable"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
)

// newFiles reports whether l names a database kept in files, none of
// which exists yet, in a directory that does: one that a load or a copy
// may make aside (copyName) and put in place once whole (place).
func newFiles(l location.Location) bool {
	if l.Driver == nil || l.Driver.Files == nil {
		return false
	}
	for _, f := range l.Driver.Files(l.Target) {
		if _, err := os.Lstat(f); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	st, err := os.Stat(filepath.Dir(l.Target))
	return err == nil && st.IsDir()
}

// openAside opens a scratch database beside w's target, for a load that
// makes its database: no other program sees it before it is whole, so the
// adapter may write it the cheap way (adapters.OpenOptions.Scratch), and a
// load that fails leaves no part of a database behind.
func (w *writer) openAside(ctx context.Context) error {
	tmp := w.loc
	tmp.Target = copyName(w.loc.Target)
	tmp.Raw = tmp.Target
	a, err := location.OpenWith(ctx, tmp, adapters.OpenOptions{Scratch: true})
	if err != nil {
		removeFiles(w.loc.Driver, tmp.Target)
		return err
	}
	w.a, w.aside = a, tmp.Target
	return nil
}

// publishAside closes the scratch database and puts it in place, or
// removes it.
func (w *writer) publishAside() error {
	defer removeFiles(w.loc.Driver, w.aside)
	if err := w.a.Close(); err != nil {
		return fmt.Errorf("%s: %w; nothing was written", w.loc, err)
	}
	if err := place(w.loc.Driver, w.aside, w.loc.Target, "the loaded database"); err != nil {
		return fmt.Errorf("%s: %w", w.loc, err)
	}
	return nil
}

// place puts the finished database tmp (what it is, for messages) in place
// under target's name, made durable first: a hard link, which fails
// rather than replace a file that appeared meanwhile, and the target must
// have no files of its own by now (a write-ahead log left there would be
// taken for tmp's).
func place(d *adapters.Driver, tmp, target, what string) error {
	for _, f := range d.Files(target) {
		if _, err := os.Lstat(f); !errors.Is(err, fs.ErrNotExist) {
			return appeared(f, what, fs.ErrExist)
		}
	}
	if err := durable.Sync(tmp); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	// Never a rename: it would replace a file that appeared since the
	// last look.
	err := os.Link(tmp, target)
	if errors.Is(err, fs.ErrExist) {
		return appeared(target, what, err)
	}
	if err != nil {
		return hint.With(fmt.Errorf("put %s in place: %w; nothing was written", what, err),
			"where files cannot be linked, create the target empty first (touch %s): into a database that exists the items are loaded as a stream", target)
	}
	if err := durable.Sync(filepath.Dir(target)); err != nil {
		return fmt.Errorf("%s is in place as %s, but flushing its directory to disk failed: %w", what, target, err)
	}
	return nil
}

// appeared says that path, which what was to take, was made by another
// meanwhile.
func appeared(path, what string, err error) error {
	return hint.With(fmt.Errorf("%s was created while %s was made, and was left as it is; nothing was written: %w", path, what, err),
		"run the same command again: into a database that exists it merges the items")
}
