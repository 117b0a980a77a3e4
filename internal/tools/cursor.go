package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// since is where the dump starts: --since, else the cursor in --cursor-file
// when the file exists, else nowhere (a full dump).
func (o DumpOptions) since() (string, error) {
	switch {
	case o.NoCursor && o.CursorFile != "":
		return "", cli.Hint(errors.New("--no-cursor leaves out the cursor that --cursor-file keeps"), "give one of them")
	case o.Since != "" && o.CursorFile != "":
		return "", cli.Hint(errors.New("--since and --cursor-file both say where the dump starts"),
			"give one of them: --cursor-file FILE reads the cursor from FILE (a full dump when FILE does not exist yet)")
	case o.Live && (o.Since != "" || o.CursorFile != ""):
		// Refused for the chain's first, full dump too: its cursor would
		// serve only deltas with --live, which carry no deletes.
		return "", cli.Hint(fmt.Errorf("--live with %s: %w", cursorFlag(o), persist.ErrLiveDelta),
			"leave --live out of the dumps of a chain; to leave deleted records out of what a reader sees, dump a full dump's file again with --live: persist-dump --live FILE (not a delta's: a delta keeps its tombstones)")
	case o.Since != "":
		return o.Since, nil
	case o.CursorFile == "":
		return "", nil
	}
	b, err := readCursorFile(o.CursorFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	c := strings.TrimSpace(string(b))
	if c == "" {
		return "", cli.Hint(fmt.Errorf("cursor file %s is empty", o.CursorFile),
			"it holds the cursor of the last dump; to start again with a full dump, remove it: rm %s", location.ShellQuote(o.CursorFile))
	}
	return c, nil
}

// maxCursorFile is more than any cursor takes: the longest, PostgreSQL's,
// lists the transactions in progress, a few thousand at most.
const maxCursorFile = 1 << 20

// readCursorFile reads a cursor file that checkCursorFile took (holdCursor
// checks it before holding it); one an earlier release wrote compressed
// (it was named .zst or .gz) is read through its compression.
func readCursorFile(path string) ([]byte, error) {
	// Opened without waiting, and checked again once open: a FIFO put in
	// its place meanwhile would hold the open until a writer came.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read the cursor file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, notRegularCursor(path)
	}
	r, err := record.NewDecompressor(f)
	if err != nil {
		return nil, fmt.Errorf("read the cursor file %s: %w", path, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxCursorFile+1))
	if err != nil {
		return nil, fmt.Errorf("read the cursor file %s: %w", path, err)
	}
	if len(b) > maxCursorFile {
		return nil, tooLongCursor(path)
	}
	return b, nil
}

// checkCursorFile refuses, before the cursor file is opened, one that is
// not a regular file of at most maxCursorFile bytes: the cursor is kept
// from one run to the next, which a device or a FIFO does not do (and
// opening a FIFO would wait for a writer), and a dump named by mistake
// must not be read whole. A file not made yet is taken.
func checkCursorFile(path string) error {
	if err := checkCursorName(path); err != nil {
		return err
	}
	if cli.StdoutName(path) || location.StdinName(path) || location.NamesDescriptor(path, 2) {
		return notRegularCursor(path) // whatever the shell opened there, it is no file kept between runs
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return nil // none yet, or said by the open that follows
	case !st.Mode().IsRegular():
		return notRegularCursor(path)
	case st.Size() > maxCursorFile:
		return tooLongCursor(path)
	}
	return nil
}

func notRegularCursor(path string) error {
	return cli.Hint(fmt.Errorf("cursor file %s is not a regular file: a cursor is kept in a file from one run to the next", path),
		"name a file of its own for the cursor, e.g. --cursor-file app.cursor")
}

func tooLongCursor(path string) error {
	return cli.Hint(fmt.Errorf("cursor file %s holds more than %d bytes: not a cursor, which is one line", path, maxCursorFile),
		"make sure --cursor-file names the file the last dump's cursor went to, not the dump")
}

// checkCursorName refuses a cursor file named as a compressed stream or an
// archive is: a cursor is written plain, one line of text.
func checkCursorName(path string) error {
	ext := record.CompressedName(path)
	if ext == "" {
		return nil
	}
	plain := path[:len(path)-len(ext)]
	err := fmt.Errorf("--cursor-file %s: a cursor is one line of plain text, and a name ending in %s says otherwise", path, ext)
	if _, serr := os.Lstat(path); serr == nil {
		return cli.Hint(err, "give the file a name without %s, which this release reads as it is (compressed or not): mv %s %s, then --cursor-file %s",
			ext, location.ShellQuote(path), location.ShellQuote(plain), location.ShellQuote(plain))
	}
	return cli.Hint(err, "name it without %s: --cursor-file %s", ext, location.ShellQuote(plain))
}

// checkCursor returns the cursor the dump's trailer will carry, and
// refuses, before anything is written, a delta or a --cursor-file that the
// source cannot serve.
func (o DumpOptions) checkCursor(ctx context.Context, src *persist.Source) (string, error) {
	wanted := o.Since != "" || o.CursorFile != ""
	if !src.IsStore() {
		if wanted {
			return "", cli.Hint(fmt.Errorf("%s is a stream, not a store: --since and --cursor-file dump what changed in a store", src.Location()),
				"dump the store the stream came from (sqlite:PATH or postgres://…)")
		}
		return "", nil
	}
	c, err := src.Cursor(ctx)
	if errors.Is(err, persist.ErrNoCursor) && !wanted {
		return "", nil // a full dump, whose trailer has no cursor
	}
	if err != nil {
		return "", o.cursorHint(err, src)
	}
	return c, nil
}

// cursorHint says what to do about a since or cursor the store refused.
func (o DumpOptions) cursorHint(err error, src *persist.Source) error {
	switch {
	case errors.Is(err, persist.ErrCursorAccess) && len(hint.All(err)) > 0:
		return err // the store names the role and the grant
	case errors.Is(err, persist.ErrCursorAccess):
		return cli.Hint(err, "let the role read them: GRANT SELECT ON persist_meta, persist_history TO the role (as the owner of the tables)")
	case errors.Is(err, persist.ErrNoCursor) && len(hint.All(err)) > 0:
		// The store says what to do; an upgrade would not do it.
		return cli.Hint(err, replaceCopies)
	case errors.Is(err, persist.ErrNoCursor):
		// The last hint given is said first.
		return cli.Hint(cli.Hint(err, replaceCopies),
			"upgrade the store's schema in place, as the owner of its tables (one transaction, the rows are not rewritten), then take a full dump: %s",
			upgradeCommand(src.Store(), o.Location))
	case errors.Is(err, persist.ErrCursor), errors.Is(err, persist.ErrRemoved):
		if o.CursorFile != "" {
			err = cli.Hint(cli.Hint(err, replaceCopies),
				"start again from a full dump: remove the cursor file (rm %s) and run the same command, which then writes a full dump and a new cursor",
				location.ShellQuote(o.CursorFile))
			if strings.Contains(err.Error(), "comes from another store") {
				// A mistyped store or file finds another store's cursor,
				// whose chain the rm would end.
				err = cli.Hint(err, "first make sure %s is this store's cursor file, not another store's (a store name or file name mistyped)", location.ShellQuote(o.CursorFile))
			}
			return err
		}
		return cli.Hint(cli.Hint(err, replaceCopies), "take a full dump instead (the same command without --since); its trailer carries a new cursor")
	}
	return err
}

// replaceCopies is how a copy kept by deltas takes a new full dump: what
// the chain missed (a delete above all) is in no delta, and a merge keeps
// what the copy holds.
const replaceCopies = "load that full dump into each copy with persist-load --mode replace: a merge would keep what the missed changes deleted"

// createCursorFile starts the new cursor file: written as every output
// file is (a new file, synced, renamed into place, the directory synced;
// with the umask's mode), so that until finish renames it the old cursor
// stays.
func createCursorFile(path string) (*cli.Output, error) {
	out, err := cli.CreateOutput(path, nil)
	if err != nil {
		return nil, cli.Hint(fmt.Errorf("the cursor file: %w", err),
			"--cursor-file names the file that keeps the cursor between runs: a file in a directory this user may write")
	}
	return out, nil
}

// finish completes a dump in the order that never lets the cursor file run
// ahead of the dump: the cursor written (still a new file, not in place),
// the dump's file synced and renamed into place, then the cursor renamed.
// If the cursor cannot be put in place after all, the dump's file is
// removed again: left there, it would look complete while the next run
// starts from the old cursor, and a restore of the chain would stop at the
// delta after it. A dump to stdout that is a regular file is synced before
// the cursor moves, so that a crash cannot lose a dump the cursor has
// passed.
func finish(out, next *cli.Output, cursor string, stdout io.Writer, o DumpOptions) error {
	file, err := regularStdout(stdout, o)
	if err != nil {
		return err
	}
	if next == nil {
		return out.Commit()
	}
	if _, err := io.WriteString(next, cursor+"\n"); err != nil {
		return fmt.Errorf("write the cursor file %s: %w", o.CursorFile, err)
	}
	if file != nil {
		if err := file.Sync(); err != nil {
			return fmt.Errorf("sync the dump before writing the cursor: %w", err)
		}
	}
	if err := out.Commit(); err != nil {
		return err
	}
	if err := next.Commit(); err != nil {
		err = fmt.Errorf("the cursor file was not replaced, so the next dump starts from the old cursor: %w", err)
		if removed, rerr := out.Remove(); removed && rerr == nil {
			err = fmt.Errorf("%w; %s was removed, as this dump had not happened", err, o.Output)
		}
		return err
	}
	return nil
}

// regularStdout is the dump's output when it is standard output and a
// regular file, nil otherwise, or an error when that file is not whole.
func regularStdout(stdout io.Writer, o DumpOptions) (*os.File, error) {
	f, ok := stdout.(*os.File)
	if !ok || o.Output != "" && o.Output != "-" {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil
	}
	return f, cli.StdoutGoesOn(f)
}

// UpgradeOptions are `persist upgrade`'s flags.
type UpgradeOptions struct {
	cli.Common
	Name, Location string
}

// Upgrade brings the Persist schema of the database holding store name to
// this release's version, in place.
func Upgrade(ctx context.Context, st Stdio, o UpgradeOptions) error {
	loc := o.Location
	if loc == "" {
		var err error
		again := func(store string) string { return command("upgrade", nil, store) }
		if loc, err = storeLocation(ctx, o.Name, again, makeStore); err != nil {
			return err
		}
	}
	if err := sameName(o.Name, loc, "--location"); err != nil {
		return err
	}
	if err := guard(ctx, []string{loc}); err != nil {
		return err
	}
	u, err := persist.Upgrade(ctx, withName(loc, o.Name))
	if err != nil {
		return upgradeError(err, loc)
	}
	shown := location.Redact(loc)
	if u.From == 0 {
		return fmt.Errorf("%s holds no Persist store: nothing to upgrade", shown)
	}
	// Off a terminal success is silent, as every tool's (cli.ShowSummary).
	if cli.ShowSummary(o.Common, st.Stderr) {
		fmt.Fprintf(st.Stderr, "persist: upgrade: %s\n", hint.Printable(upgraded(shown, u)))
	}
	return nil
}

// upgradeError is err with, for a store the database does not hold, the
// command that lists those it holds.
func upgradeError(err error, loc string) error {
	if !errors.Is(err, persist.ErrNoStore) {
		return err
	}
	db := databaseOf(loc)
	return cli.Hint(err, "name a store it holds, or another database: persist stores %s lists what it holds%s", location.ForShell(db), passwordNote(db))
}

// upgraded says what an upgrade of the database at shown did.
func upgraded(shown string, u persist.UpgradeResult) string {
	switch {
	case u.Repaired:
		return fmt.Sprintf("%s: change tracking repaired (it had been turned off by hand) at schema version %d; "+
			"a new history starts, so cursors from before are refused: take a full dump of each store in it", shown, u.To)
	case u.Refreshed:
		return fmt.Sprintf("%s: change tracking brought up to this release's (an earlier release made it, or a check of it was missing) at schema version %d; "+
			"cursors from before are refused: take a full dump of each store in it", shown, u.To)
	case u.From == u.To:
		return fmt.Sprintf("%s is at schema version %d already", shown, u.To)
	}
	return fmt.Sprintf("%s: schema version %d → %d (in one transaction; no row rewritten)", shown, u.From, u.To)
}

// holdCursorFile holds the cursor file for this dump, from reading it to
// renaming the next one into place: two dumps of one chain at once (a cron
// run that overran the next) would read the same cursor, write two deltas
// from it, and leave whichever cursor is renamed last, perhaps the older.
// The lock (flock) is on the file the path names when it is taken; finish
// renames another into place, so a dump that opened the old one before
// that finds it replaced, and opens the new one. A cursor file that does
// not exist yet is not held: the dump is a full one, whole by itself.
func holdCursorFile(path string) (release func(), err error) {
	for range 10 {
		f, err := lockCursorFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return func() {}, nil
		}
		var lerr *lockError
		if err != nil && !errors.As(err, &lerr) {
			return nil, fmt.Errorf("read the cursor file: %w", err)
		}
		if err != nil {
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, cli.Hint(fmt.Errorf("cursor file %s is held by another dump that has not finished: two dumps from one cursor would write the same delta twice", path),
					"let that one finish (or stop it), then run this one again; a cron job that overruns its interval can wait its turn with: flock %s COMMAND", location.ShellQuote(path+".lock"))
			}
			return nil, cli.Hint(fmt.Errorf("lock the cursor file %s: %w (the file system it is on may not lock files)", path, err),
				"keep the cursor file, writable by this user, on a file system that locks files (a local disk, or NFS with its lock service), and copy it beside the dumps if they go elsewhere")
		}
		var held, named unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &named) == nil && held.Dev == named.Dev && held.Ino == named.Ino {
			return func() { f.Close() }, nil
		}
		f.Close() // replaced meanwhile by the dump that held it: hold the new one
	}
	return nil, fmt.Errorf("cursor file %s: replaced again and again while this dump tried to hold it", path)
}

// lockCursorFile opens the cursor file and locks it. Read-only first: a
// file opened for writing tells inotify it was written when it is closed,
// which would wake a watcher of the cursor at every dump. Over NFS an
// exclusive flock needs a file open for writing (EBADF otherwise): then
// it is opened so, where it may be.
func lockCursorFile(path string) (*os.File, error) {
	// Without waiting, as readCursorFile opens it: a FIFO put there after
	// checkCursorFile would hold the open until a writer came; it is
	// refused once read.
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EBADF) {
		f.Close()
		if f, err = os.OpenFile(path, os.O_RDWR|unix.O_NONBLOCK, 0); err != nil {
			return nil, &lockError{fmt.Errorf("its file system locks only a file open for writing: %w", err)}
		}
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		f.Close()
		return nil, &lockError{err}
	}
	return f, nil
}

// lockError is a flock that failed, as against an open that did.
type lockError struct{ err error }

func (e *lockError) Error() string { return e.err.Error() }
func (e *lockError) Unwrap() error { return e.err }

// cursorFlag names the flag that made a dump part of a chain.
func cursorFlag(o DumpOptions) string {
	if o.Since != "" {
		return "--since"
	}
	return "--cursor-file"
}
