package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// A file shared by group, another user's, replaced by -o keeps its group
// (the writer is one of it) and its mode, so that the group may still
// write it; the owner is the writer's, as an editor's save makes it.
// Root replacing it keeps the owner too.
func TestReplacedFileKeepsGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to make files of other users")
	}
	const owner, writer, group = 2, 65534, 100 // daemon, nobody, users
	// Not t.TempDir: its parent folder is root's alone.
	dir, err := os.MkdirTemp("", "owner")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	// The binaries' folder is root's alone too: a copy the writer may run.
	bin, err := os.ReadFile(filepath.Join(binDir, "persist-dump"))
	if err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(dir, "persist-dump")
	if err := os.WriteFile(dump, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "app.db")
	mustRun(t, "", "persist-load", "-q", "sqlite:"+db+"#app", "-i", filepath.Join("..", "internal", "record", "testdata", "vectors", "stream-small.jsonl"))
	os.Chmod(db, 0o644)
	out := filepath.Join(dir, "shared.jsonl")
	for _, c := range []struct {
		name      string
		cred      *syscall.Credential
		wantOwner uint32
	}{
		{"another user of the group", &syscall.Credential{Uid: writer, Gid: writer, Groups: []uint32{group}}, writer},
		{"root", nil, owner},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(out, []byte("old\n"), 0o664); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(out, owner, group); err != nil {
				t.Fatal(err)
			}
			os.Chmod(out, 0o664)
			cmd := exec.Command(dump, "-q", "sqlite:"+db, "-o", out)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("persist-dump -o: %v\n%s", err, b)
			}
			st, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			sys := st.Sys().(*syscall.Stat_t)
			if sys.Gid != group || sys.Uid != c.wantOwner || st.Mode().Perm() != 0o664 {
				t.Errorf("replaced: owner %d, group %d, mode %04o; want %d, %d, 0664", sys.Uid, sys.Gid, st.Mode().Perm(), c.wantOwner, group)
			}
		})
	}
}
