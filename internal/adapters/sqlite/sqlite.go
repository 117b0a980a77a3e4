// Package sqlite is the SQLite adapter: a store in a file, the embedded default.
//
// An Adapter keeps two connection pools on the file. Writers use connections
// whose transactions start with BEGIN IMMEDIATE, so a writer takes the write
// lock up front and never deadlocks trying to upgrade a read lock. Readers
// (Stores, Snapshot) use connections opened with mode=ro, so SQLite itself
// guarantees they write nothing, and their deferred transactions read one WAL
// snapshot while writers carry on.
package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/durable"
	"github.com/cuitty/persist/internal/hint"
)

// ErrEncoding: the database file is not in UTF-8.
var ErrEncoding = errors.New("not a UTF-8 database")

// ErrReadOnly is returned by Begin on an adapter opened read-only.
var ErrReadOnly = errors.New("sqlite database opened read-only")

// busyTimeoutMS is how long a connection waits for a lock held by another
// connection before it gives up with SQLITE_BUSY (which Retryable accepts).
const busyTimeoutMS = 5000

// Options tune Open.
type Options struct {
	ReadOnly bool // open the file read-only; Begin fails
	// Scratch: path is a new file no other program knows of (see
	// adapters.OpenOptions). It is written with a rollback journal and no
	// fsync: a page is written once, straight into the file, where the
	// write-ahead log writes it twice (into the log, then into the file at
	// the checkpoint), and a failed transaction still rolls back. The
	// journal holds only pages that were there before the transaction,
	// few for a stream in key order, and is kept on disk, not in memory,
	// where a stream in another order would make it as large as a batch's
	// pages. Close switches the file to WAL, as every file this adapter
	// makes.
	Scratch bool
}

// Adapter is a SQLite database file.
type Adapter struct {
	path    string
	scratch bool    // Options.Scratch: Close switches the file to WAL
	r       *sql.DB // read-only connections: Stores, Snapshot
	w       *sql.DB // read-write connections: Begin; nil when read-only
	// unlocked: r reads the file without locks (openReader), as it was.
	unlocked *fileState

	mu       sync.Mutex
	schemaOK bool // the schema is known to exist at the current version
	// wrote: a transaction of this adapter's committed. Close checkpoints
	// only then: what the log holds is other writers' otherwise, and a
	// checkpoint behind another writer's lock would wait the busy timeout
	// (a store whose opening failed behind a lock, for one).
	wrote atomic.Bool
	// checked: readVersion's note of the schema it last checked.
	checked atomic.Int64
}

var _ adapters.Adapter = (*Adapter)(nil)

// Open opens (creating unless read-only) the SQLite file at path.
func Open(path string, opt Options) (*Adapter, error) {
	a := &Adapter{path: path}
	if opt.ReadOnly {
		r, unlocked, err := openReader(path)
		if err != nil {
			return nil, err
		}
		if err := checkEncoding(r, path); err != nil {
			r.Close()
			return nil, err
		}
		a.r, a.unlocked = r, unlocked
		return a, nil
	}
	w, err := openWriter(path, opt.Scratch)
	if err != nil {
		return nil, err
	}
	a.scratch = opt.Scratch
	if err := checkEncoding(w, path); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite3", fileURI(path, readerParams))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	a.w, a.r = w, r
	return a, nil
}

// checkEncoding refuses a database file in UTF-16. SQLite compares text
// by the bytes of the file's encoding, and UTF-16's order is not UTF-8's
// (a character above U+FFFF sorts before U+E000–U+FFFF there): the tables'
// order would not be dump order, and a store written there could not be
// dumped. A file that cannot be read is left to the statements after
// this, which say why as they always have.
func checkEncoding(db *sql.DB, path string) error {
	var enc string
	if err := db.QueryRow("PRAGMA encoding").Scan(&enc); err != nil || enc == "UTF-8" {
		return nil
	}
	return hint.With(fmt.Errorf("open sqlite %s: %w: it is encoded in %s, and a store needs UTF-8 (SQLite orders text by its encoding's bytes, and dump order is UTF-8's)", path, ErrEncoding, enc),
		"copy it into a new UTF-8 database and use that one: sqlite3 %s .dump | sqlite3 NEW.db", shellQuote(path))
}

// shellQuote is path as a shell word.
func shellQuote(path string) string {
	if q := hint.Quote(path); strings.HasPrefix(q, "$'") {
		return q // control characters, which a hint shows spelled out
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// Writers is 1: SQLite has one writer at a time.
func (a *Adapter) Writers() int { return 1 }

// Retryable reports SQLITE_BUSY and SQLITE_LOCKED: another connection held a
// lock longer than the busy timeout, so the transaction may succeed later.
func (a *Adapter) Retryable(err error) bool { return busy(err) }

// busy reports SQLITE_BUSY and SQLITE_LOCKED.
func busy(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked
	}
	return false
}

// Explain says what SQLITE_BUSY, SQLITE_LOCKED and SQLITE_FULL mean for a
// load; a full disk wraps adapters.ErrFull and syscall.ENOSPC.
func (a *Adapter) Explain(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrBusy:
		return &explained{why: fmt.Sprintf("the database is busy: another connection held its lock for as long as this one waited "+
			"(up to %d s, or the call's own deadline where sooner) (%v)", busyTimeoutMS/1000, se), err: err}
	case sqlite3.ErrLocked:
		return &explained{why: fmt.Sprintf("a table is locked by another statement of this process (%v)", se), err: err}
	case sqlite3.ErrFull:
		return &explained{why: fmt.Sprintf("the disk holding %s, or SQLite's temporary files, is full (%v)", a.path, se),
			err: fmt.Errorf("%w: %w: %w", adapters.ErrFull, syscall.ENOSPC, err)}
	}
	return err
}

// explained is an error said in plain words; it wraps the driver's.
type explained struct {
	why string
	err error
}

func (e *explained) Error() string { return e.why }
func (e *explained) Unwrap() error { return e.err }

// Close releases both connection pools. A writer leaves the database file
// complete on its own: what the write-ahead log holds is checkpointed into
// it, so that `cp app.db backup/` right after a load copies every batch.
// The readers close first: SQLite removes the -wal file when the last
// connection to the database closes, and a read-only one cannot.
func (a *Adapter) Close() error {
	errs := []error{a.r.Close()}
	switch {
	case a.scratch:
		// Switched, the log is empty: nothing to checkpoint, and no other
		// statement, which a new pooled connection would run with the
		// scratch file's journal mode.
		errs = append(errs, toWAL(a.w), a.w.Close())
	case a.w != nil && a.wrote.Load():
		errs = append(errs, checkpoint(a.w, a.path), a.w.Close())
	case a.w != nil:
		errs = append(errs, a.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite %s: %w", a.path, err)
	}
	return nil
}

// checkpoint copies what the write-ahead log of the database at path
// holds into the database file and empties the log, so that the file is
// whole on its own (cp app.db copies every commit). A reader of the file
// holds back the part of it its snapshot needs: the checkpoint waits for
// it as for any lock, up to the busy timeout, then copies what it can and
// leaves the rest in the log. A log left so is synced here: with
// synchronous=NORMAL only a checkpoint syncs it, and what committed must
// not wait for the next one to be on disk. (A migration between two
// stores of one file lets its snapshot go before its load ends, so as not
// to wait for itself.)
func checkpoint(w *sql.DB, path string) error {
	var mode string
	if err := w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		return nil
	}
	var blocked, logged, done int
	if err := w.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&blocked, &logged, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if blocked == 0 && logged == done {
		return nil
	}
	// SQLite keeps the log beside the file a link leads to.
	return syncLog(absolute(path) + "-wal")
}

// syncLog flushes the write-ahead log a checkpoint left, which the open
// writer keeps there: a log not found is an error, not nothing to flush.
var syncLog = func(wal string) error {
	if err := durable.Sync(wal); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// openWriter opens the read-write pool, creating the file when missing. A
// database it creates is switched to WAL, so that snapshots never block
// writers; one that exists keeps the journal mode its owner chose.
func openWriter(path string, scratch bool) (*sql.DB, error) {
	if dir := filepath.Dir(path); !isDir(dir) {
		// SQLite would say "unable to open database file"; sqlite3 does
		// not make directories either.
		return nil, fmt.Errorf("open sqlite %s: the directory %s does not exist (mkdir -p it first)", path, dir)
	}
	if to, err := os.Readlink(path); err == nil {
		if !filepath.IsAbs(to) {
			to = filepath.Join(filepath.Dir(path), to)
		}
		if dir := filepath.Dir(to); !isDir(dir) {
			return nil, fmt.Errorf("open sqlite %s: it is a link to %s, whose directory %s does not exist (mkdir -p it first)", path, to, dir)
		}
	}
	if scratch {
		return openScratch(path)
	}
	fresh := isFresh(path)
	w, err := sql.Open("sqlite3", fileURI(path, writerParams))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if !fresh {
		if err := w.Ping(); err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, notWritable(path, err, copyElsewhere))
		}
		return w, nil
	}
	// journal_mode=WAL is persistent in the file, so it is set once here
	// rather than on every pooled connection (where a busy database would
	// make each new connection fail).
	mode, err := setWAL(w)
	if err != nil {
		w.Close()
		if why := notWritable(path, err, "make the database in a directory this user may write to"); why != err {
			return nil, fmt.Errorf("open sqlite %s: %w", path, why)
		}
		if _, serr := os.Stat(path); serr != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, serr)
		}
		return nil, fmt.Errorf("open sqlite %s: set WAL journal mode: %w", path, err)
	}
	if mode != "wal" {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: journal mode is %q, want wal (is the file on a filesystem without shared memory?)", path, mode)
	}
	return w, nil
}

// openScratch opens the pool that writes a scratch file (Options.Scratch).
func openScratch(path string) (*sql.DB, error) {
	w, err := sql.Open("sqlite3", fileURI(path, scratchParams))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, notWritable(path, err, "make the database in a directory this user may write to"))
	}
	return w, nil
}

// toWAL switches a scratch file to the write-ahead log, for Close.
func toWAL(w *sql.DB) error {
	mode, err := setWAL(w)
	if err != nil {
		return fmt.Errorf("set WAL journal mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal (is the file on a filesystem without shared memory?)", mode)
	}
	return nil
}

// setWAL switches the file to the write-ahead log and returns the journal
// mode it is in. The switch needs the file to itself, and SQLite refuses it
// at once, without the busy wait, while another connection reads it (as
// another writer making the same new file does: two targets of persist-tee,
// two loads started together). So it is tried again, for as long as the busy
// timeout lets any other lock be waited for.
func setWAL(w *sql.DB) (string, error) {
	deadline := time.Now().Add(busyTimeoutMS * time.Millisecond)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		var mode string
		err := w.QueryRow("PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil || !busy(err) || time.Now().After(deadline) {
			return mode, err
		}
		// At random within the pause: two writers that collided once
		// must not wake together again.
		time.Sleep(pause/2 + rand.N(pause))
	}
}

// isFresh reports whether path is a database yet to be made: missing, or
// an empty file.
func isFresh(path string) bool {
	st, err := os.Stat(path)
	return err != nil || st.Size() == 0
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// copyElsewhere is what a writer can do instead of writing a file it may
// not write.
const copyElsewhere = "copy the database, and its -wal file if it has one, to a directory this user may write to, and write to the copy"

// notWritable explains err, SQLite's failure to open or write the file at
// path, where this process may not write the file or its directory: SQLite
// says "unable to open database file" (with a wrong reason: "no such file
// or directory") or "attempt to write a readonly database". elsewhere is
// what to do instead of writing there.
func notWritable(path string, err error, elsewhere string) error {
	denied, why := unwritable(path)
	if why == nil {
		return err
	}
	err = fmt.Errorf("%w (SQLite: %w)", why, err)
	if errors.Is(why, syscall.EROFS) {
		return hint.With(err, "the file system holding %s is mounted read-only: %s, or remount that file system read-write",
			hint.Quote(filepath.Dir(path)), elsewhere)
	}
	owner, files, rest := othersFiles(denied)
	var fix []string
	if len(files) > 0 {
		// A reader that may write the directory makes the -wal and -shm
		// files as itself, and SQLite keeps them; the writer is then
		// refused them by a mode that is right for their owner.
		me := strconv.Itoa(os.Geteuid())
		if u, err := user.Current(); err == nil {
			me = u.Username
		}
		quoted := quoteAll(files)
		fix = append(fix, fmt.Sprintf("%s belong to %s, not to this user (%s): as root, give them the database's owner and group "+
			"(chown --reference=%s %s)", quoted, owner, me, hint.Quote(path), quoted))
	}
	if len(rest) > 0 {
		fix = append(fix, "a writer needs write access to the database, its directory (where SQLite writes its journal) and "+
			"its -wal and -shm files: give it (as their owner: chmod u+w "+quoteAll(rest)+")")
	}
	return hint.With(err, "%s, or %s", strings.Join(fix, "; "), elsewhere)
}

// quoteAll is paths quoted for a shell, one after another.
func quoteAll(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = hint.Quote(p)
	}
	return strings.Join(q, " ")
}

// writeError explains a write SQLite refused for want of access to the
// file (a file opened read-write on a read-only mount opens read-only).
func (a *Adapter) writeError(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrReadonly || se.Code == sqlite3.ErrCantOpen) {
		return notWritable(a.path, err, copyElsewhere)
	}
	return err
}
