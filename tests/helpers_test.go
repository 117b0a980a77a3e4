package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// result is what a binary did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs one of the built binaries with stdin from a file (or none).
func run(t *testing.T, stdinFile string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdinFile != "" {
		f, err := os.Open(stdinFile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return result{out.String(), errb.String(), code}
}

// mustRun is run that fails the test on a non-zero exit.
func mustRun(t *testing.T, stdinFile string, name string, args ...string) result {
	t.Helper()
	r := run(t, stdinFile, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\nstderr: %s", name, strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// sumOf returns the persist1 sum and counts persist-sum prints for loc.
func sumOf(t *testing.T, loc string) string {
	t.Helper()
	r := mustRun(t, "", "persist-sum", "-q", loc)
	f := strings.Fields(r.stdout)
	if len(f) < 3 {
		t.Fatalf("persist-sum %s: %q", loc, r.stdout)
	}
	return strings.Join(f[:3], " ")
}

// genStream writes a deterministic stream of n records (in dump order,
// without header or trailer) and n/10 events to path.
func genStream(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	rng := rand.New(rand.NewPCG(seed, 1))
	cols := []string{"accounts", "orders", "users", "ça"}
	for c, col := range cols {
		for i := 0; i < n/len(cols)+boolInt(c < n%len(cols)); i++ {
			key := fmt.Sprintf("k%07d", i)
			ts := fmt.Sprintf("2026-%02d-%02dT%02d:%02d:%02d.%06dZ", 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(1000000))
			if rng.IntN(50) == 0 {
				fmt.Fprintf(w, `{"kind":"record","collection":%q,"key":%q,"version":%d,"updated_at":%q,"deleted":true}`+"\n", col, key, 2+rng.IntN(5), ts)
				continue
			}
			fmt.Fprintf(w, `{"kind":"record","collection":%q,"key":%q,"version":%d,"updated_at":%q,"value":{"n":%d,"name":"Zoë %d","big":%d1,"price":%d.50,"tags":["東京","x%d"],"nested":{"a":[1,2,{"b":null}]}}}`+"\n",
				col, key, 1+rng.IntN(9), ts, i, rng.IntN(1000), uint64(1)<<60+rng.Uint64N(1<<60), rng.IntN(100), rng.IntN(10))
		}
	}
	for s := 0; s < 10; s++ {
		for q := 1; q <= n/100; q++ {
			fmt.Fprintf(w, `{"kind":"event","stream":"s%02d","seq":%d,"type":"placed","at":"2026-11-25T12:00:00.%06dZ","data":{"total":%d.25}}`+"\n", s, q, q, q)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// firstLine returns the first line of a file.
func firstLine(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return line
}
