package persist

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
	tmp := copyName(w.loc.Target)
	scratch.Add(w.loc.Driver.Files(tmp)...)
	// Opened by the driver, so that the error names the location given
	// once, and the scratch file once.
	a, err := w.loc.Driver.Open(ctx, tmp, adapters.OpenOptions{Scratch: true})
	if err != nil {
		removeFiles(w.loc.Driver, tmp)
		return false, fmt.Errorf("%s: %w", w.loc, location.ScrubError(err, w.loc.Raw))
	}
	if !canLink(tmp) {
		a.Close()
		removeFiles(w.loc.Driver, tmp)
		return false, nil
	}
	w.a, w.aside = a, tmp
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
// removes it.
func (w *writer) publishAside() error {
	if err := w.a.Close(); err != nil {
		return w.dropAside(fmt.Errorf("%s: %w; nothing was written", w.loc, err), false)
	}
	if err := place(w.loc.Driver, w.aside, w.loc.Target, "the loaded database"); err != nil {
		return w.dropAside(fmt.Errorf("%s: %w", w.loc, err), true)
	}
	return nil
}

// dropAside removes the scratch database after err; what cannot be removed
// (its directory no longer writable) is named in a hint, with how to put
// it in place where it is whole (closed, only its link failed) or else how
// to remove it.
func (w *writer) dropAside(err error, whole bool) error {
	removeFiles(w.loc.Driver, w.aside)
	var left []string
	for _, f := range w.loc.Driver.Files(w.aside) {
		if _, serr := os.Lstat(f); serr == nil {
			left = append(left, hint.Quote(f))
		}
	}
	switch {
	case len(left) == 0:
		return err
	case whole:
		return hint.With(err, "the loaded database is left as %[1]s, which could not be removed: once its directory is writable, put it in place (ln -- %[1]s %[2]s && rm -- %[1]s), or remove it (rm -- %[3]s)",
			left[0], hint.Quote(w.loc.Target), strings.Join(left, " "))
	}
	return hint.With(err, "the load's scratch files are left (%s), which could not be removed: once their directory is writable, remove them (rm -- %[1]s)",
		strings.Join(left, " "))
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
