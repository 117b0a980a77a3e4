package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
// regular file (or one that does not exist yet) is written under a
// temporary name in its directory and renamed into place by Commit, so that
// a failure never leaves a half-written file behind nor destroys the old
// one. Anything else a path can name — a FIFO, a device, /dev/stdout,
// /dev/fd/N, a process substitution — is opened and written directly: it
// cannot be replaced, and must never be (as root, replacing /dev/null
// would break the whole system). A .zst or .gz name compresses.
type Output struct {
	w      io.Writer
	comp   io.WriteCloser
	f      *os.File
	tmp    string // "" when writing in place
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
	err := record.CheckName(path)
	if errors.Is(err, record.ErrArchive) {
		return hint.With(err, "name it %s, and tar that file afterwards if an archive is what you need", streamName(path))
	}
	return hint.With(err, "name it .zst or .gz, or compress in a pipe: … -o - | xz > %s", path)
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
	return path + ".jsonl.zst"
}

// CreateOutput opens path ("-" for stdout) for writing.
func CreateOutput(path string, stdout io.Writer) (*Output, error) {
	if path == "-" || path == "" {
		return &Output{w: stdout}, nil
	}
	if err := CheckOutputName(path); err != nil {
		return nil, err
	}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		// A symlink is followed, and what it points to replaced: the link
		// stays, as sed -i --follow-symlinks and editors do.
		target = resolved
	} else if dangling(path) {
		// A dangling one too: the file is made where it points, as the
		// shell's > makes it, and the link stays.
		target = resolve(path)
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
		return newOutput(f, "", path)
	}
	if err == nil {
		if err := checkWritable(path, target, st); err != nil {
			return nil, err
		}
	}
	f, tmp, err := createTemp(target, st)
	if errors.Is(err, fs.ErrNotExist) {
		dir := filepath.Dir(target)
		return nil, hint.With(fmt.Errorf("create %s: %w: no folder %s", path, fs.ErrNotExist, dir), "make it first: mkdir -p %s", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return newOutput(f, tmp, target)
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
			"make it writable (as its owner: chmod u+w %s), or name another file", path)
	}
	return nil
}

// accessW reports whether the process may write path.
var accessW = func(path string) error {
	return unix.Faccessat(unix.AT_FDCWD, path, unix.W_OK, unix.AT_EACCESS)
}

func newOutput(f *os.File, tmp, final string) (*Output, error) {
	comp, err := record.NewCompressor(f, final)
	if err != nil {
		f.Close()
		if tmp != "" {
			os.Remove(tmp)
			forgetTemp(tmp)
		}
		return nil, fmt.Errorf("create %s: %w", final, err)
	}
	return &Output{w: comp, comp: comp, f: f, tmp: tmp, final: final}, nil
}

// createTemp makes the temporary file beside target. It is created with
// mode 0666, which the kernel narrows by the umask, as the shell, pg_dump
// and sqlite3 create files (umask 077 gives 0600); a file being replaced
// lends it its own mode instead.
func createTemp(target string, old fs.FileInfo) (*os.File, string, error) {
	dir, base := filepath.Split(target)
	for range 10 {
		var r [6]byte
		rand.Read(r[:])
		tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(r[:]))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		rememberTemp(tmp)
		if old != nil {
			if err := f.Chmod(old.Mode().Perm()); err != nil {
				f.Close()
				os.Remove(tmp)
				forgetTemp(tmp)
				return nil, "", err
			}
			keepOwner(f, old)
		}
		return f, tmp, nil
	}
	return nil, "", errors.New("no free temporary name")
}

// keepOwner gives the new file the old one's owner and group, where this
// process may (root may; others keep their own, as when they rewrite a file).
func keepOwner(f *os.File, old fs.FileInfo) {
	if st, ok := old.Sys().(*syscall.Stat_t); ok {
		f.Chown(int(st.Uid), int(st.Gid))
	}
}

func (o *Output) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil && o.werr == nil {
		o.werr = err
	}
	return n, err
}

// Commit finishes the output: flushes compression, and for a file written
// under a temporary name syncs it, renames it into place and syncs the
// directory, so that the new file survives a crash right after.
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
	err := o.comp.Close()
	if err == nil && o.tmp != "" {
		err = o.f.Sync()
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	if o.tmp == "" {
		if err != nil {
			return fmt.Errorf("write %s: %w", o.final, err)
		}
		return nil
	}
	if err == nil {
		err = os.Rename(o.tmp, o.final)
	}
	forgetTemp(o.tmp)
	if err != nil {
		os.Remove(o.tmp)
		return fmt.Errorf("write %s: %w", o.final, err)
	}
	o.moved = true
	return durable.Sync(filepath.Dir(o.final))
}

// Remove takes back a Commit of a file written under a temporary name, as
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

func rememberTemp(p string) { scratch.Add(p) }

func forgetTemp(p string) { scratch.Drop(p) }

// removeTemps removes the temporary files not yet renamed or removed,
// and the other files made under names of their own (a load's scratch
// database): a tool that must leave at once on a signal does so first (see
// Main).
func removeTemps() { scratch.RemoveAll() }
