package persist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/durable"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/scratch"
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
// load that fails leaves no part of a database behind. It reports false,
// having opened nothing, where the file system cannot link the scratch
// file into place: the load then makes the database in place, as before.
func (w *writer) openAside(ctx context.Context) (bool, error) {
	tmp := w.loc
	tmp.Target = copyName(w.loc.Target)
	tmp.Raw = tmp.Target
	scratch.Add(w.loc.Driver.Files(tmp.Target)...)
	a, err := location.OpenWith(ctx, tmp, adapters.OpenOptions{Scratch: true})
	if err != nil {
		removeFiles(w.loc.Driver, tmp.Target)
		return false, err
	}
	if !canLink(tmp.Target) {
		a.Close()
		removeFiles(w.loc.Driver, tmp.Target)
		return false, nil
	}
	w.a, w.aside = a, tmp.Target
	return true, nil
}

// canLink reports whether a second name can be given to path (file systems
// such as FAT have no hard links), without leaving it.
func canLink(path string) bool {
	probe := path + "-link"
	scratch.Add(probe)
	defer scratch.Drop(probe)
	if err := os.Link(path, probe); err != nil {
		return false
	}
	os.Remove(probe)
	return true
}

// publishAside closes the scratch database and puts it in place, or
// removes it; one that cannot be removed is named, with what to do.
func (w *writer) publishAside() error {
	err := w.a.Close()
	if err != nil {
		err = fmt.Errorf("%w; nothing was written", err)
	} else {
		err = place(w.loc.Driver, w.aside, w.loc.Target, "the loaded database")
	}
	if err == nil {
		return nil
	}
	removeFiles(w.loc.Driver, w.aside)
	if _, serr := os.Lstat(w.aside); serr == nil {
		err = hint.With(err, "the loaded database is left as %s, which could not be removed: put it in place yourself (ln %[1]s %s && rm %[1]s), or remove it",
			location.ShellQuote(w.aside), location.ShellQuote(w.loc.Target))
	}
	return fmt.Errorf("%s: %w", w.loc, err)
}

// place puts the finished database tmp (what it is, for messages) in place
// under target's name, made durable first: a hard link, which fails
// rather than replace a file that appeared meanwhile, and the target must
// have no files of its own by now (a write-ahead log left there would be
// taken for tmp's). tmp's name is removed before the directory is flushed,
// so that no crash leaves a second name of the database behind (opened
// under that name, it would take another write-ahead log).
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
	if err != nil {
		return linkError(err, target, what)
	}
	removeFiles(d, tmp)
	if err := durable.Sync(filepath.Dir(target)); err != nil {
		return fmt.Errorf("%s is in place as %s, but flushing its directory to disk failed: %w", what, target, err)
	}
	return nil
}

// linkError says why what could not be put in place as target, and what to do.
func linkError(err error, target, what string) error {
	if errors.Is(err, fs.ErrExist) {
		return appeared(target, what, err)
	}
	err = fmt.Errorf("put %s in place: %w; nothing was written", what, err)
	if errors.Is(err, syscall.EACCES) {
		return hint.With(err, "this user may not write the directory %s: make it writable (as its owner: chmod u+w %[1]s), then run the same command again",
			location.ShellQuote(filepath.Dir(target)))
	}
	return hint.With(err, "where files cannot be linked, create the target empty first (touch %s): into a database that exists the items are loaded as a stream",
		location.ShellQuote(target))
}

// appeared says that path, which what was to take, was made by another
// meanwhile.
func appeared(path, what string, err error) error {
	return hint.With(fmt.Errorf("%s was created while %s was made, and was left as it is; nothing was written: %w", path, what, err),
		"run the same command again (the whole pipeline, for a stream on standard input): into a database that exists it merges the items")
}
