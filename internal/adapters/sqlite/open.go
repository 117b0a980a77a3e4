package sqlite

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cuitty/persist/internal/hint"
)

// Connection parameters. The _-prefixed ones are go-sqlite3's; mode and
// immutable are SQLite's own URI parameters. Writers get an 8 MiB page
// cache (allocated as it fills), four times SQLite's default: a load in dump
// order touches each page once, and measured no faster with 64 MiB, while a
// load's whole memory budget is 64 MiB. (Loads of shuffled keys into a large
// store do gain from a bigger cache; PRAGMA cache_size on a connection of
// one's own is the way to get it.)
//
// _mutex=no opens connections without SQLite's per-connection mutex, which
// every call into SQLite took and released (a twentieth of a dump's CPU):
// database/sql hands a connection to one goroutine at a time, and the
// sqlite3_interrupt that a cancelled context sends from another is safe
// without it.
var (
	busyParam    = "_busy_timeout=" + strconv.Itoa(busyTimeoutMS)
	writerParams = "mode=rwc&_txlock=immediate&_synchronous=NORMAL&_cache_size=-8192&_mutex=no&" + busyParam
	// scratchParams: Options.Scratch.
	scratchParams = "mode=rwc&_txlock=immediate&_synchronous=OFF&_journal_mode=TRUNCATE&_cache_size=-8192&_mutex=no&" + busyParam
	readerParams  = "mode=ro&_txlock=deferred&_mutex=no&" + busyParam
	// immutableParams is the last resort of openReader; see there.
	immutableParams = readerParams + "&immutable=1"
)

// fileURI makes a SQLite URI of path, so that mode= and immutable= apply.
// The path is made absolute (a relative "//x" would otherwise read as a URI
// authority) and the characters a URI gives meaning to are escaped, so any
// file name works.
func fileURI(path, params string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	path = filepath.ToSlash(path)
	if !strings.HasPrefix(path, "/") { // a Windows drive letter
		path = "/" + path
	}
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path) + "?" + params
}

// openReader opens the read-only pool on an existing file.
//
// mode=ro alone covers a database in rollback-journal mode, even in a
// read-only directory, and a database in WAL mode wherever its -wal and -shm
// files exist or can be created (a WAL reader must share the -shm index with
// writers to read a consistent snapshot).
//
// What it cannot open is a WAL database in a directory we cannot write to and
// without a -shm file: typically a database that a writer closed cleanly (the
// last connection removes -wal and -shm) and that was then archived or
// mounted read-only. Only then, we fall back to immutable=1, which reads the
// main file without any locking. That is exact only when the main file holds
// every committed transaction, so the fallback also requires that no -wal
// file with content exists: immutable mode ignores the -wal file, and reading
// without it would silently lose the transactions it holds. Another user
// who may write the directory (the file's owner, an application) can still
// write the file under the read, which no lock keeps out: unlocked, the
// file as it was before it was opened, is how each read tells (changed).
func openReader(path string) (db *sql.DB, unlocked *fileState, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite %s read-only: %w", path, err)
	}
	db, err = openProbed(path, readerParams)
	if err == nil {
		return db, nil, nil
	}
	if busy(err) {
		// A journal with content is a live writer's as long as its lock
		// is held: nothing to roll back, only to wait for.
		return nil, nil, hint.With(fmt.Errorf("open sqlite %s read-only: %w (another connection holds the file's write lock, "+
			"in a transaction that did not end within %d seconds)", path, err, busyTimeoutMS/1000),
			"run it again once that program's transaction ends")
	}
	if hotJournal(path) {
		return nil, nil, hint.With(fmt.Errorf("open sqlite %s read-only: %w (a write that did not finish left %s-journal: "+
			"SQLite rolls it back before anything is read, which a read-only reader cannot)", path, err, path),
			"roll it back by opening the database once read-write, as a user who can write the file and its directory: "+
				"sqlite3 %s 'PRAGMA quick_check'", shellQuote(path))
	}
	if !isWAL(path) || dirWritable(filepath.Dir(path)) {
		return nil, nil, fmt.Errorf("open sqlite %s read-only: %w", path, err)
	}
	if fi, werr := os.Stat(path + "-wal"); werr == nil && fi.Size() > 0 {
		return nil, nil, fmt.Errorf("open sqlite %s read-only: %w (its -wal file holds transactions "+
			"not yet in the main file, and without write access to the directory SQLite cannot "+
			"read them consistently; open it once read-write, or run "+
			"sqlite3 %s 'PRAGMA wal_checkpoint(TRUNCATE)', as a user who can write there)", path, err, shellQuote(path))
	}
	db, ierr := openProbed(path, immutableParams)
	if ierr != nil {
		return nil, nil, fmt.Errorf("open sqlite %s read-only: %w", path, errors.Join(err, ierr))
	}
	return db, &fileState{path: path, fi: fi}, nil
}

// ErrChangedUnderRead: a file read without locks (see openReader) was
// written while it was read, and what was read may mix two states of it.
var ErrChangedUnderRead = errors.New("the file was written while it was read without locks")

// fileState is a file as an unlocked reader found it before it opened it.
type fileState struct {
	path string
	fi   os.FileInfo
}

// first is changed's error where the file was written under the read,
// whatever else went wrong (a file written under a read can read as a
// damaged one), else err.
func (f *fileState) first(err error) error {
	if changed := f.changed(); changed != nil {
		return changed
	}
	return err
}

// changed is ErrChangedUnderRead where the file is no longer as f found it
// (another file at the path, another size, time of modification or time
// of change, which a writer cannot set back as it can the other); nil for
// a nil f, a locked reader.
func (f *fileState) changed() error {
	if f == nil {
		return nil
	}
	now, err := os.Stat(f.path)
	if err == nil && os.SameFile(f.fi, now) && now.Size() == f.fi.Size() && now.ModTime().Equal(f.fi.ModTime()) {
		s0, n0 := changeTime(f.fi)
		if s1, n1 := changeTime(now); s0 == s1 && n0 == n1 {
			return nil
		}
	}
	return hint.With(fmt.Errorf("sqlite %s: %w: another user or program wrote it, and it was read without locks because its directory "+
		"may not be written by this user (SQLite keeps a WAL database's shared lock there)", f.path, ErrChangedUnderRead),
		"run it again when nothing writes the file, or as a user that may write its directory (%s), whose read a writer cannot change",
		filepath.Dir(f.path))
}

// hotJournal reports whether path has a rollback journal with content:
// what a writer that stopped mid-transaction leaves behind.
func hotJournal(path string) bool {
	fi, err := os.Stat(path + "-journal")
	return err == nil && fi.Size() > 0
}

// openProbed opens a pool and reads the schema, since sql.Open itself
// connects to nothing: an unreadable or non-SQLite file fails here.
func openProbed(path, params string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", fileURI(path, params))
	if err != nil {
		return nil, err
	}
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// isWAL reports whether the database header says WAL mode: file format
// write and read versions (bytes 18 and 19) are 2.
func isWAL(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	hdr := make([]byte, 20)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return false
	}
	return bytes.HasPrefix(hdr, []byte(magic)) && hdr[18] == 2 && hdr[19] == 2
}
