package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// umask reads the umask the process has, and leaves it as it is.
func TestUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	for _, want := range []int{0o027, 0o077, 0o002, 0} {
		syscall.Umask(want)
		got, err := umask()
		if err != nil {
			t.Fatal(err)
		}
		if got != os.FileMode(want) {
			t.Errorf("umask() = %04o, want %04o", got, want)
		}
		if now := syscall.Umask(want); now != want {
			t.Errorf("umask() changed the umask to %04o", now)
		}
	}
}

// A file without a name gets the mode a named one would, whatever mode
// the kernel gave it: kernels before 6.0 left the umask out of O_TMPFILE on
// a file system without POSIX ACLs, and gave 0666.
func TestUmaskAnon(t *testing.T) {
	dir := t.TempDir()
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Chmod(0o666); err != nil { // as such a kernel made it
		t.Fatal(err)
	}
	if err := umaskAnon(f, dir); err != nil {
		t.Fatal(err)
	}
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o under umask 077, want 0600", st.Mode().Perm())
	}
}
