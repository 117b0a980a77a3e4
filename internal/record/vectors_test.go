package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// vector reads a test vector: the package's own copy, else the shared one.
func vector(t testing.TB, name string) []byte {
	t.Helper()
	for _, dir := range []string{"testdata/vectors", "../../../shared/vectors"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			return b
		}
	}
	t.Fatalf("vector %s not found", name)
	return nil
}

func TestNumberVectors(t *testing.T) {
	for i, line := range strings.Split(string(vector(t, "numbers.tsv")), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		in, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("numbers.tsv:%d: no tab", i+1)
		}
		got, err := Canonical(nil, []byte(in))
		if err != nil {
			t.Errorf("numbers.tsv:%d: Canonical(%s): %v", i+1, in, err)
			continue
		}
		if string(got) != want {
			t.Errorf("numbers.tsv:%d: Canonical(%s) = %s, want %s", i+1, in, got, want)
		}
	}
}

func TestValueVectors(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(vector(t, "values.jsonl")))
	n := 0
	for sc.Scan() {
		n++
		var v struct{ In, Canonical string }
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("values.jsonl:%d: %v", n, err)
		}
		got, err := Canonical([]byte("prefix"), []byte(v.In))
		if err != nil {
			t.Errorf("values.jsonl:%d: Canonical(%s): %v", n, v.In, err)
			continue
		}
		if string(got) != "prefix"+v.Canonical {
			t.Errorf("values.jsonl:%d: Canonical(%s) = %s, want %s", n, v.In, got[6:], v.Canonical)
		}
		again, err := Canonical(nil, got[6:])
		if err != nil || !bytes.Equal(again, got[6:]) {
			t.Errorf("values.jsonl:%d: canonical form not stable: %s → %s, %v", n, got[6:], again, err)
		}
	}
	if n == 0 {
		t.Fatal("values.jsonl is empty")
	}
}

func TestStreamSmall(t *testing.T) {
	want := vector(t, "stream-small.canonical.jsonl")
	sumLine := strings.Fields(string(vector(t, "stream-small.sum")))
	for _, name := range []string{"stream-small.jsonl", "stream-small.canonical.jsonl"} {
		t.Run(name, func(t *testing.T) {
			var items []*Item
			var l Line
			var sum Sum
			var records, events int
			for i, b := range bytes.Split(bytes.TrimSuffix(vector(t, name), []byte("\n")), []byte("\n")) {
				if err := ParseLine(b, &l); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				items = append(items, l.Item.Clone())
				sum.AddLine(AppendItem(nil, &l.Item))
				switch l.Kind {
				case KindRecord:
					records++
				case KindEvent:
					events++
				}
			}
			slices.SortStableFunc(items, Compare)
			var got []byte
			for _, it := range items {
				got = AppendItem(got, it)
				got = append(got, '\n')
			}
			if !bytes.Equal(got, want) {
				gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("output has %d lines, want %d", len(gl), len(wl))
			}
			if sum.String() != sumLine[0] {
				t.Errorf("sum %s, want %s", sum, sumLine[0])
			}
			if c := "records=" + itoa(records); c != sumLine[1] {
				t.Errorf("%s, want %s", c, sumLine[1])
			}
			if c := "events=" + itoa(events); c != sumLine[2] {
				t.Errorf("%s, want %s", c, sumLine[2])
			}

			// The same through a Reader, in file order: the sum does not care.
			r, err := NewReader(bytes.NewReader(vector(t, name)), ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for {
				_, err := r.Next()
				if err != nil {
					if err.Error() != "EOF" {
						t.Fatal(err)
					}
					break
				}
			}
			rec, ev, rs := r.Stats()
			if rs.String() != sumLine[0] || rec != int64(records) || ev != int64(events) {
				t.Errorf("reader stats %d %d %s", rec, ev, rs)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// The package's copy of the vectors must not drift from the shared ones,
// where the shared ones are beside the repository (as in CI).
func TestVectorsCopyMatchesShared(t *testing.T) {
	shared := "../../../shared/vectors"
	names, err := os.ReadDir(shared)
	if err != nil {
		t.Logf("no shared vectors beside the repository (%v); the copy in testdata is used alone", err)
		return
	}
	for _, e := range names {
		want, err := os.ReadFile(filepath.Join(shared, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(filepath.Join("testdata/vectors", e.Name())); err != nil || string(got) != string(want) {
			t.Errorf("testdata/vectors/%s differs from %s/%s (%v): copy it again", e.Name(), shared, e.Name(), err)
		}
	}
}
