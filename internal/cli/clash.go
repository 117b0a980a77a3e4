package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
)

// ErrClash is wrapped when an output file names a file the command reads or
// writes otherwise (a database, its -wal, an input stream), or another
// output: writing it would destroy the other.
var ErrClash = errors.New("names a file the command also uses")

// Named is a file and what the command calls it: a flag ("-o") for an
// output, a phrase ("the database sqlite:app.db") for anything else.
type Named struct {
	What string
	Path string
}

// CheckClash refuses, before anything is written, an output that is the
// same file as one of used or as another output, however the two are
// spelled: through a symlink, a relative or absolute path, another hard
// link. "-" (stdout) and "" (none) are skipped, and so is anything that is
// not a regular file or a name yet to be made (a device, a FIFO: written in
// place, never replaced).
func CheckClash(outputs, used []Named) error {
	var outs []Named
	for _, o := range outputs {
		if o.Path != "" && o.Path != "-" && replaceable(o.Path) {
			outs = append(outs, o)
		}
	}
	for i, o := range outs {
		for _, u := range used {
			if u.Path != "" && u.Path != "-" && SameFile(o.Path, u.Path) {
				return hint.With(fmt.Errorf("%s %s: %w: %s (%s)", o.What, o.Path, ErrClash, u.What, u.Path),
					"write %s to a file of its own, e.g. %s %s", o.What, o.What, hint.Quote(freeName(o.Path)))
			}
		}
		for _, p := range outs[:i] {
			if SameFile(o.Path, p.Path) {
				return hint.With(fmt.Errorf("%s %s: %w: %s %s", o.What, o.Path, ErrClash, p.What, p.Path),
					"give %s and %s different files", p.What, o.What)
			}
		}
	}
	return nil
}

// CheckStdout refuses a standard output that is one of the files used: a
// database, its -wal, an input. The shell opened it before the command ran
// (`>> app.db`), so writing anything there would go into that file; the
// output files' checks (CheckClash) cannot see it, having no name for it.
func CheckStdout(stdout io.Writer, used []Named) error {
	f, ok := stdout.(*os.File)
	if !ok || f == nil {
		return nil
	}
	if u, ok := sameAs(f, used); ok {
		return hint.With(fmt.Errorf("standard output %w: %s (%s)", ErrClash, u.What, u.Path),
			"send standard output to a file of its own (> %s) or through a pipe", hint.Quote(freeName(u.Path)))
	}
	return nil
}

// StdoutName reports whether path is "-" or one of the names of the
// process's descriptor 1 (/dev/stdout, /dev/fd/1, /proc/self/fd/1): an
// output so named is standard output itself, written there as it stands,
// whatever file the shell opened (CreateOutput), never a file to replace.
func StdoutName(path string) bool { return path == "-" || location.NamesDescriptor(path, 1) }

// OnStdout reports whether an output at path would be written where
// standard output goes, as a second writer there would mix its lines into
// the first's: a name of descriptor 1 (StdoutName), or another name of a
// standard output that is no regular file (a FIFO the shell opened). A
// regular file the shell opened, named otherwise, is CheckStdout's to
// refuse, whose hint redirects.
func OnStdout(path string, stdout io.Writer) bool {
	return StdoutName(path) || (sameOpenFile(path, stdout) && !regular(stdout))
}

// regular reports whether w is a regular file.
func regular(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

// sameOpenFile reports whether path names the file stdout is (the FIFO,
// pipe, socket or regular file the shell opened), however it is spelled.
// A device (/dev/null, a terminal) is not counted: nothing read back from
// it is a stream two writers could spoil.
func sameOpenFile(path string, stdout io.Writer) bool {
	f, ok := stdout.(*os.File)
	if path == "" || !ok || f == nil {
		return false
	}
	ost, err := f.Stat()
	if err != nil || ost.Mode()&os.ModeDevice != 0 {
		return false
	}
	pst, err := os.Stat(path)
	return err == nil && os.SameFile(ost, pst)
}

// CheckStdin refuses an output that is the file the shell opened as
// standard input (`persist-seal -o F < F`): replaced, or written in place,
// it would lose the stream being read, and the command would exit 0 with
// the input gone.
func CheckStdin(stdin *os.File, outputs []Named) error {
	if o, ok := sameAs(stdin, outputs); ok {
		return hint.With(fmt.Errorf("%s %s: %w: standard input (%s)", o.What, o.Path, ErrClash, o.Path),
			"write %s to a file of its own, e.g. %s %s", o.What, o.What, hint.Quote(freeName(o.Path)))
	}
	return nil
}

// CheckStdoutStdin refuses a standard output the shell opened onto the
// very file it opened as standard input (`persist-seal < F >> F`): the
// command would read back what it writes, and the file be left damaged,
// as cat refuses "input file is output file".
func CheckStdoutStdin(stdout io.Writer, stdin *os.File) error {
	out, ok := stdout.(*os.File)
	if !ok || out == nil || stdin == nil {
		return nil
	}
	ost, err := out.Stat()
	if err != nil || !ost.Mode().IsRegular() {
		return nil
	}
	ist, err := stdin.Stat()
	if err != nil || !os.SameFile(ost, ist) {
		return nil
	}
	name, err := os.Readlink("/proc/self/fd/0")
	if err != nil {
		name = "the file"
	}
	return hint.With(fmt.Errorf("standard output %w: standard input (%s): the stream would be read back as it is written", ErrClash, name),
		"send standard output to a file of its own (> %s) or through a pipe", hint.Quote(freeName(name)))
}

// StdinFile is the path of the regular file the shell opened as standard
// input (< FILE), "" where it is not one (a pipe, a terminal) or its path
// cannot be read.
func StdinFile() string {
	st, err := os.Stdin.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return ""
	}
	name, err := os.Readlink("/proc/self/fd/0")
	if err != nil || !filepath.IsAbs(name) {
		return ""
	}
	// Given from its start (not after a shell's read moved the offset),
	// and still there under that name.
	if startOffset != 0 {
		return ""
	}
	if now, err := os.Stat(name); err != nil || !os.SameFile(st, now) {
		return ""
	}
	return name
}

// startOffset is standard input's offset when the process began, for
// StdinFile (read before anything reads it; -1 where it has none).
var startOffset = func() int64 {
	at, err := os.Stdin.Seek(0, io.SeekCurrent)
	if err != nil {
		return -1
	}
	return at
}()

// sameAs finds, when f is a regular file (one the shell opened with < or
// >), the first of named that is that file.
func sameAs(f *os.File, named []Named) (Named, bool) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return Named{}, false
	}
	for _, n := range named {
		if n.Path == "" || StdoutName(n.Path) {
			continue // standard output itself, written there (OnStdout)
		}
		if nst, err := os.Stat(n.Path); err == nil && os.SameFile(st, nst) {
			return n, true
		}
	}
	return Named{}, false
}

// replaceable reports whether an output at path would be written as a new
// file and renamed into place: a regular file, or none yet.
func replaceable(path string) bool {
	st, err := os.Stat(path)
	return err != nil || st.Mode().IsRegular()
}

// freeName is a name beside path that no file has yet, for a hint.
func freeName(path string) string {
	dir, base := filepath.Split(path)
	if strings.HasPrefix(path, "/dev/") || strings.HasPrefix(path, "/proc/") {
		dir = "" // no file is made there: one in the working directory
	}
	for i := 1; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf("%s.out%d", base, i))
		if i == 1 {
			name = filepath.Join(dir, base+".out")
		}
		if _, err := os.Lstat(name); err != nil {
			return name
		}
	}
}

// SameFile reports whether a and b name the same file: the same inode when
// both exist, else the same path once symlinks (dangling ones too) are
// followed and the path made absolute.
func SameFile(a, b string) bool {
	sa, ea := os.Stat(a)
	sb, eb := os.Stat(b)
	if ea == nil && eb == nil {
		return os.SameFile(sa, sb)
	}
	return Resolve(a) == Resolve(b)
}

// Resolve is path made absolute with every symlink followed, as far as
// they lead: a link to a name that does not exist yet resolves to that name,
// and a folder not made yet stays as it is written.
func Resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	for range 40 { // as the kernel's own limit on links followed
		dir, base := filepath.Split(abs)
		if d, err := filepath.EvalSymlinks(dir); err == nil {
			dir = d
		}
		abs = filepath.Join(dir, base)
		target, err := os.Readlink(abs)
		if err != nil {
			return abs
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		abs = filepath.Clean(target)
	}
	return abs
}
