package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cuitty/persist/internal/durable"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/scratch"
)

// Output is where a tool writes a file it was told to: stdout for "-". A
// regular file (or one that does not exist yet) is written as a new file in
// its directory and renamed into place by Commit, so that a failure never
// leaves a half-written file behind nor destroys the old one. On Linux the
// new file has no name until Commit (O_TMPFILE), so that even a process
// killed outright leaves nothing; elsewhere, or on a file system without
// such files, it has a temporary name from the start. Anything else a path
// can name — a FIFO, a device, /dev/stdout, /dev/fd/N, a process
// substitution — is opened and written directly: it
// cannot be replaced, and must never be (as root, replacing /dev/null
// would break the whole system). A .zst or .gz name compresses.
type Output struct {
	w      io.Writer
	comp   io.WriteCloser
	f      *os.File
	tmp    string // the temporary name, "" when writing in place or while anon
	anon   bool   // a file with no name yet (openAnon), named at Commit
	final  string
	closed bool
	moved  bool  // renamed into place by Commit
	werr   error // the first write that failed: Commit puts nothing in place
}

// CheckOutputName refuses, before anything is written, a file name the
// output cannot honour (a compression it does not write).
func CheckOutputName(path string) error {
	if path == "-" || path == "" {
		return nil
	}
	if base := filepath.Base(path); len(base) > nameMax {
		// Found before the run, not at its end, where the file written
		// without a name (O_TMPFILE) would take it.
		return hint.With(fmt.Errorf("%s: the name is %d bytes long: %w", hint.Printable(clipName(base)), len(base), syscall.ENAMETOOLONG),
			"a file's name takes at most %d bytes: give a shorter one", nameMax)
	}
	err := record.CheckName(path)
	if errors.Is(err, record.ErrArchive) {
		return hint.With(err, "name it %s, and tar that file afterwards if an archive is what you need", streamName(path))
	}
	// Said without a flag's name: the same check serves -o, --rejects and
	// --summary, and not every tool has all three.
	plain := path[:len(path)-len(record.CompressedName(path))]
	return hint.With(err, "name it .zst or .gz (%s), or write it plain (%s) and compress that file afterwards",
		hint.Quote(plain+".zst"), hint.Quote(plain))
}

// streamName is a tar archive's name made a stream's, for a hint.
func streamName(path string) string {
	lower := strings.ToLower(path)
	for _, ext := range []string{".tar.gz", ".tar.zst", ".tar.zstd", ".tgz", ".tzst", ".tar"} {
		if strings.HasSuffix(lower, ext) {
			base := path[:len(path)-len(ext)]
			if strings.Contains(ext, "z") && !strings.Contains(ext, "zst") {
				return base + ".jsonl.gz"
			}
			if strings.Contains(ext, "zst") {
				return base + ".jsonl.zst"
			}
			return base + ".jsonl"
		}
	}
	if i := strings.LastIndex(lower, ".tar."); i > 0 {
		return path[:i] + ".jsonl.zst" // .tar.xz, .tar.Z: compressed as this tool does
	}
	return path + ".jsonl.zst"
}

// descriptorOutput is where an output named as standard output or
// standard error goes: into it as the shell opened it, as > /dev/stderr
// writes (a log file there is appended to, never replaced, and keeps the
// messages written around it); ok is false for any other name. Such an
// output that cannot be written is refused (CheckStdOutput).
func descriptorOutput(path string, stdout io.Writer) (out *Output, ok bool, err error) {
	var w io.Writer
	switch {
	case path == "" || (stdout != nil && StdoutName(path)):
		w = stdout
	case location.NamesDescriptor(path, 2):
		w = os.Stderr
	default:
		return nil, false, nil
	}
	if err := CheckStdOutput(w); err != nil {
		return nil, true, err
	}
	return &Output{w: w}, true, nil
}

// CreateOutput opens path ("-" for stdout) for writing. A name of
// descriptor 1 (/dev/stdout) is stdout as well, written as the shell
// opened it (> f, >> f), never a file replaced: reopened, it would be.
func CreateOutput(path string, stdout io.Writer) (*Output, error) {
	if out, ok, err := descriptorOutput(path, stdout); ok {
		return out, err
	}
	if err := CheckOutputName(path); err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, "/") {
		// A folder's name, made or not: the hint to make it would lead
		// only to "is a directory".
		return nil, hint.With(fmt.Errorf("create %s: the name ends in /, a folder's, not a file's", path),
			"name a file in it: %s (make the folder first if need be: mkdir -p %s)",
			location.ShellQuote(path+"NAME"), hint.Quote(strings.TrimSuffix(path, "/")))
	}
	target, err := outputTarget(path)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(target)
	if err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, hint.With(fmt.Errorf("create %s: is a directory", path),
				"name a file, in it or elsewhere: %s", location.ShellQuote(filepath.Join(path, "NAME")))
		}
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return newOutput(f, "", path, false)
	}
	if err == nil {
		if err := checkWritable(path, target, st); err != nil {
			return nil, err
		}
		if err := notADatabase(path, target); err != nil {
			return nil, err
		}
	}
	f, tmp, anon, err := createNew(target, st)
	if err != nil {
		return nil, createError(path, target, err)
	}
	return newOutput(f, tmp, target, anon)
}

// createError says why the output path (target, links followed) could not
// be made, naming the folder that is missing or the file in its way.
func createError(path, target string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(target)
		return hint.With(fmt.Errorf("create %s: %w: no folder %s", path, fs.ErrNotExist, dir), "make it first: mkdir -p %s", hint.Quote(dir))
	case errors.Is(err, syscall.ENOTDIR):
		file := fileOnPath(filepath.Dir(target))
		return hint.With(fmt.Errorf("create %s: %s is a file, not a folder", path, file),
			"name a file in a folder: %s is not one", hint.Quote(file))
	case errors.Is(err, fs.ErrPermission):
		// The file may be writable, but it is replaced by a new one made
		// beside it, which its folder must let this user make and rename.
		dir, what := filepath.Dir(target), "the file"
		if _, serr := os.Lstat(target); serr == nil {
			what = "the new file that replaces it"
		}
		return hint.With(fmt.Errorf("create %s: the folder %s does not let this user make %s: %w", path, dir, what, err),
			"let this user write the folder %s (the new file is made there and renamed into place), or name a file in a folder this user may write", hint.Quote(dir))
	}
	return fmt.Errorf("create %s: %w", path, err)
}

// fileOnPath is the nearest of dir and the folders above it that is a
// file, where a path through it cannot be made (ENOTDIR); dir itself when
// none is.
func fileOnPath(dir string) string {
	for d := dir; d != "." && d != string(filepath.Separator); d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && !st.IsDir() {
			return d
		}
	}
	return dir
}

// dangling reports whether path is a symlink to nothing (yet). /dev/stdout
// and /proc/self/fd/N are links whose targets no path names, though they
// open: they are not dangling.
func dangling(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return false
	}
	_, err = os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// checkWritable refuses to replace a file the user may not write: the
// rename that puts the new file in place needs only the directory's
// permission, and would replace a read-only file that the shell's > (and
// every editor without a force) leaves alone. Access is asked with the
// process's effective ids, as open would check them; root may write any file.
func checkWritable(path, target string, st fs.FileInfo) error {
	err := accessW(target)
	switch {
	case err == nil:
	case errors.Is(err, syscall.EROFS):
		return hint.With(fmt.Errorf("write %s: the file system holding it is mounted read-only: %w", path, err),
			"name a file on a file system this machine may write, or remount that one read-write")
	default:
		return hint.With(fmt.Errorf("write %s: the file is not writable by this user (mode %04o): %w", path, st.Mode().Perm(), err),
			"%s", writableHint(path, st))
	}
	return nil
}

// writableHint says how a file this user may not write becomes writable:
// its own, by chmod u+w; another user's, by that user or root, for no
// chmod of this user's can change it.
func writableHint(path string, st fs.FileInfo) string {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || int(sys.Uid) == os.Geteuid() {
		return fmt.Sprintf("make it writable (chmod u+w %s), or name another file", hint.Quote(path))
	}
	owner := strconv.FormatUint(uint64(sys.Uid), 10)
	if u, err := user.LookupId(owner); err == nil {
		owner = u.Username
	}
	return fmt.Sprintf("the file belongs to %s: run the command as that user, have root make it this user's (chown), or name another file", owner)
}

// accessW reports whether the process may write path.
var accessW = func(path string) error {
	return unix.Faccessat(unix.AT_FDCWD, path, unix.W_OK, unix.AT_EACCESS)
}

func newOutput(f *os.File, tmp, final string, anon bool) (*Output, error) {
	comp, err := record.NewCompressor(f, final)
	if err != nil {
		f.Close()
		if tmp != "" {
			os.Remove(tmp)
			forgetTemp(tmp)
		}
		return nil, fmt.Errorf("create %s: %w", final, err)
	}
	return &Output{w: comp, comp: comp, f: f, tmp: tmp, anon: anon, final: final}, nil
}

// createNew makes the new file beside target: without a name when the
// system can (anon), else under a temporary one. It is created with mode
// 0666, which the kernel narrows by the umask, as the shell, pg_dump and
// sqlite3 create files (umask 077 gives 0600); a file being replaced lends
// it its own mode instead.
func createNew(target string, old fs.FileInfo) (f *os.File, tmp string, anon bool, err error) {
	dir, base := filepath.Split(target)
	if anonFiles {
		f, anon, err = openLinkable(dir, base, target)
		if err != nil {
			return nil, "", false, err
		}
	}
	if anon && old == nil && umaskAnon(f, dir) != nil {
		f.Close() // the umask unread: a named file has it from the kernel
		anon = false
	}
	if !anon {
		f, tmp, err = createNamed(dir, base)
		if err != nil {
			return nil, "", false, err
		}
	}
	if old != nil {
		if err := f.Chmod(old.Mode().Perm()); err != nil {
			f.Close()
			if tmp != "" {
				os.Remove(tmp)
				forgetTemp(tmp)
			}
			return nil, "", false, err
		}
		keepOwner(f, old)
	}
	return f, tmp, anon, nil
}

// anonFiles: try a file without a name first (tests turn it off to run the
// named path on a system that has both).
var anonFiles = true

// openLinkable opens a file without a name in dir, once a first one has
// been linked under a temporary name there and removed at once: a Commit
// must not find, after all the writing, that it cannot name its file (a
// /proc that hides the process's descriptors, a file system that refuses
// the link). A file once linked cannot be linked again, so the probe is a
// file of its own. It reports false where there is no such file, and an
// error only when the probe's name cannot be removed again.
func openLinkable(dir, base, target string) (*os.File, bool, error) {
	probe, err := openAnon(dir, target)
	if err != nil {
		return nil, false, nil
	}
	name, err := makeTemp(dir, base, func(tmp string) error { return linkAnon(probe, tmp) })
	probe.Close()
	if err != nil {
		return nil, false, nil
	}
	if err := os.Remove(name); err != nil {
		return nil, false, fmt.Errorf("remove %s, made to try the folder: %w", name, err)
	}
	forgetTemp(name)
	f, err := openAnon(dir, target)
	return f, err == nil, nil
}

// createNamed makes an empty file under a temporary name in dir.
func createNamed(dir, base string) (*os.File, string, error) {
	var f *os.File
	tmp, err := makeTemp(dir, base, func(tmp string) (err error) {
		f, err = os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		return err
	})
	return f, tmp, err
}

// makeTemp makes a file under a fresh temporary name for base in dir, with
// create, and notes it in scratch in the same step, so that a tool leaving
// on a signal removes it whenever it comes. It returns the name.
func makeTemp(dir, base string, create func(tmp string) error) (string, error) {
	for range 10 {
		tmp := tempName(dir, base)
		err := scratch.Make(tmp, func() error { return create(tmp) })
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return tmp, nil
	}
	return "", errors.New("no free temporary name")
}

// tempName is a fresh hidden name for base in dir, for a file to be renamed
// over it. base is cut short where the name would pass nameMax: a name
// the file system takes for the output must not fail for its temporary
// one.
func tempName(dir, base string) string {
	var r [6]byte
	rand.Read(r[:])
	suffix := ".tmp-" + hex.EncodeToString(r[:])
	if over := 1 + len(base) + len(suffix) - nameMax; over > 0 {
		base = strings.ToValidUTF8(base[:len(base)-over], "")
	}
	return filepath.Join(dir, "."+base+suffix)
}

// nameMax is the longest name of a file in a folder, in bytes, that the
// file systems in use take (NAME_MAX: ext4, xfs, btrfs, tmpfs).
const nameMax = 255

// clipName is a name too long to show whole: its start and its end.
func clipName(s string) string {
	if len(s) <= 80 {
		return s
	}
	return strings.ToValidUTF8(s[:40], "") + "…" + strings.ToValidUTF8(s[len(s)-30:], "")
}

// nameAnon links the file without a name under a temporary one beside its
// target, for the rename that puts it in place: a link cannot replace a
// file. The name is noted in scratch until the rename.
func (o *Output) nameAnon() error {
	dir, base := filepath.Split(o.final)
	tmp, err := makeTemp(dir, base, func(tmp string) error { return linkAnon(o.f, tmp) })
	if err != nil {
		return err
	}
	o.tmp = tmp
	return nil
}

// keepOwner gives the new file the old one's owner and group, where this
// process may (root may; others keep their own, as when they rewrite a file).
func keepOwner(f *os.File, old fs.FileInfo) {
	if st, ok := old.Sys().(*syscall.Stat_t); ok {
		if f.Chown(int(st.Uid), int(st.Gid)) != nil {
			// Not root: the owner is this user's now, as an editor's save
			// by rename makes it, but the group stays where this user is
			// one of it, so that a file shared by group stays writable by
			// the group.
			f.Chown(-1, int(st.Gid))
		}
	}
}

func (o *Output) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil && o.werr == nil {
		o.werr = err
	}
	return n, err
}

// Commit finishes the output: flushes compression, and for a new file syncs
// it, renames it into place and syncs the directory, so that the new file
// survives a crash right after.
func (o *Output) Commit() error {
	if o.f == nil || o.closed {
		return nil
	}
	if o.werr != nil {
		// A write failed (a full disk): what is there is not what was
		// meant, and must not take the name (an empty rejects file reads
		// as no rejects).
		o.Abort()
		return fmt.Errorf("write %s: %w", o.final, o.werr)
	}
	o.closed = true
	err := o.finish()
	if !o.replacing() {
		if err != nil {
			return fmt.Errorf("write %s: %w", o.final, err)
		}
		return nil
	}
	if err == nil {
		err = os.Rename(o.tmp, o.final)
	}
	if o.tmp != "" {
		if err != nil {
			os.Remove(o.tmp)
		}
		forgetTemp(o.tmp)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", o.final, err)
	}
	o.moved = true
	return syncDir(filepath.Dir(o.final))
}

// finish flushes the compression and closes the file. A new file is synced
// first, and one without a name given a temporary one, for the rename.
func (o *Output) finish() error {
	err := o.comp.Close()
	if err == nil && o.replacing() {
		err = syncFile(o.f)
	}
	if err == nil && o.anon {
		err = o.nameAnon()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncFile and syncDir make the new file's bytes, then its name, durable
// (tests watch the order).
var (
	syncFile = (*os.File).Sync
	syncDir  = durable.Sync
)

// replacing reports whether the output is a new file to be renamed over
// its target, as opposed to stdout or a file written in place.
func (o *Output) replacing() bool { return o.tmp != "" || o.anon }

// Remove takes back a Commit of a new file renamed into place, as
// when a step that had to follow it failed: the file is removed (a file it
// replaced stays replaced). It reports whether there was such a file; for
// stdout and a file written in place it does nothing.
func (o *Output) Remove() (bool, error) {
	if !o.moved {
		return false, nil
	}
	if err := os.Remove(o.final); err != nil {
		return true, fmt.Errorf("remove %s: %w", o.final, err)
	}
	return true, durable.Sync(filepath.Dir(o.final))
}

// Abort discards a file output; it is a no-op after Commit and for stdout.
// What was written into a pipe or device stays written.
func (o *Output) Abort() {
	if o.f == nil || o.closed {
		return
	}
	o.closed = true
	o.comp.Close()
	o.f.Close()
	if o.tmp != "" {
		os.Remove(o.tmp)
		forgetTemp(o.tmp)
	}
}

func forgetTemp(p string) { scratch.Drop(p) }

// removeTemps removes the temporary files not yet renamed or removed,
// and the other files made under names of their own (a load's scratch
// database): a tool that must leave at once on a signal does so first (see
// Main).
func removeTemps() { scratch.RemoveAll() }

// outputTarget is the file an output named path is written to: where
// symlinks lead, for the link stays, as sed -i --follow-symlinks and
// editors keep it; where a dangling one points, as the shell's > makes the
// file. Links that lead round in a loop lead nowhere: the shell's > says
// so, and neither is replaced by a file.
func outputTarget(path string) (string, error) {
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		return resolved, nil
	}
	if _, err := os.Stat(path); errors.Is(err, syscall.ELOOP) {
		err = fmt.Errorf("create %s: %w", path, err)
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return "", hint.With(err, "its links lead round in a loop: remove the link (rm %s), or name another file", hint.Quote(path))
		}
		return "", hint.With(err, "a folder on the way is a link that leads round in a loop (ls -l shows each link): name a file elsewhere")
	}
	if dangling(path) {
		return Resolve(path), nil
	}
	return path, nil
}

// sqliteMagic is how every SQLite database file begins.
const sqliteMagic = "SQLite format 3\x00"

// notADatabase refuses an output that would replace a SQLite database (a
// store's file named where a stream or a note was meant to go): no output
// of Persist's is one, and the store would be lost.
func notADatabase(path, target string) error {
	f, err := os.Open(target)
	if err != nil {
		return nil // checkWritable has said what matters of it
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	if n, _ := io.ReadFull(f, head); n < len(head) || string(head) != sqliteMagic {
		return nil
	}
	return hint.With(fmt.Errorf("%s is a SQLite database: this output would replace it", path),
		"name another file; to replace the database, remove it first: rm %s", location.ShellQuote(path))
}
