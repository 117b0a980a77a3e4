package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// readAll reads a stream to its end, collecting canonical lines and errors.
func readAll(t testing.TB, in []byte, opt ReaderOptions) (lines []string, errs []error, final error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(in), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		_, err := r.Next()
		if err == nil {
			lines = append(lines, string(r.Canonical()))
			continue
		}
		var le *LineError
		if errors.As(err, &le) {
			errs = append(errs, err)
			continue
		}
		if err != io.EOF {
			// Final errors stay.
			if _, again := r.Next(); again != err {
				t.Errorf("final error not repeated: %v then %v", err, again)
			}
		}
		return lines, errs, err
	}
}

// stream builds a stream with a correct header and trailer around items.
func stream(items ...string) string {
	var w bytes.Buffer
	wr, err := NewWriter(&w, Header{Store: "app", Records: -1, Events: -1})
	if err != nil {
		panic(err)
	}
	var l Line
	for _, s := range items {
		if err := ParseLine([]byte(s), &l); err != nil {
			panic(err)
		}
		if err := wr.Write(&l.Item); err != nil {
			panic(err)
		}
	}
	if err := wr.Close(); err != nil {
		panic(err)
	}
	return w.String()
}

const (
	rec1 = `{"kind":"record","collection":"c","key":"1","version":1,"value":1}`
	rec2 = `{"kind":"record","collection":"c","key":"2","version":1,"value":2}`
	ev1  = `{"kind":"event","stream":"s","seq":1,"type":"t","data":null}`
)

func TestReaderWriterRoundTrip(t *testing.T) {
	s := stream(rec1, rec2, ev1)
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 5 || lines[0] != `{"kind":"header","format":"persist.v1","store":"app"}` ||
		!strings.HasPrefix(lines[4], `{"kind":"trailer","records":2,"events":1,"sum":"persist1:`) {
		t.Fatalf("stream:\n%s", s)
	}
	got, errs, final := readAll(t, []byte(s), ReaderOptions{})
	if final != io.EOF || len(errs) > 0 || strings.Join(got, "\n") != strings.Join(lines[1:4], "\n") {
		t.Fatalf("read back %q, %v, %v", got, errs, final)
	}
	r, _ := NewReader(strings.NewReader(s), ReaderOptions{})
	for {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	if h := r.Header(); h == nil || h.Store != "app" || h.Records != -1 {
		t.Errorf("header %+v", h)
	}
	if tr := r.Trailer(); tr == nil || tr.Records != 2 || tr.Events != 1 {
		t.Errorf("trailer %+v", tr)
	}
	if r.Line() != 5 {
		t.Errorf("Line() = %d", r.Line())
	}
}

func TestReaderEndChecks(t *testing.T) {
	full := stream(rec1, rec2, ev1)
	lines := strings.SplitAfter(full, "\n")
	header, trailer := lines[0], lines[4]
	otherSum := strings.Replace(trailer, `"records":2`, `"records":2`, 1)
	otherSum = otherSum[:len(otherSum)-4] + `0"}` + "\n"
	tests := []struct {
		name, in string
		opt      ReaderOptions
		err      error
		msg      string
	}{
		{"complete", full, ReaderOptions{}, io.EOF, ""},
		{"no header nor trailer", rec1 + "\n" + rec2, ReaderOptions{}, io.EOF, ""},
		{"trailer only", lines[1] + lines[2] + lines[3] + trailer, ReaderOptions{}, io.EOF, ""},
		{"a record lost", header + lines[1] + lines[3] + trailer, ReaderOptions{}, ErrTrailer,
			"trailer on line 4 says records=2 events=1 sum=persist1:"},
		{"a record lost, ignored", header + lines[1] + lines[3] + trailer, ReaderOptions{IgnoreTrailer: true}, io.EOF, ""},
		{"an event lost", header + lines[1] + lines[2] + trailer, ReaderOptions{}, ErrTrailer, "stream has records=2 events=0"},
		{"a value changed", header + lines[1] + strings.Replace(lines[2], `"value":2`, `"value":3`, 1) + lines[3] + trailer,
			ReaderOptions{}, ErrTrailer, "records=2 events=1 sum=persist1:"},
		{"a wrong sum", header + lines[1] + lines[2] + lines[3] + otherSum, ReaderOptions{}, ErrTrailer,
			`the stream was damaged, or edited after it was written`},
		// A header spliced on from another stream, or edited: its counts
		// are not the trailer's, though the items match the trailer.
		{"a header of other counts", `{"kind":"header","format":"persist.v1","records":20,"events":1}` + "\n" + lines[1] + lines[2] + lines[3] + trailer,
			ReaderOptions{}, ErrTrailer, "the header on line 1 says records=20 events=1, the trailer on line 5 records=2 events=1"},
		{"a header of the same counts", `{"kind":"header","format":"persist.v1","records":2,"events":1}` + "\n" + lines[1] + lines[2] + lines[3] + trailer,
			ReaderOptions{}, io.EOF, ""},
		{"a header of other counts, ignored", `{"kind":"header","format":"persist.v1","records":2,"events":0}` + "\n" + lines[1] + lines[2] + lines[3] + trailer,
			ReaderOptions{IgnoreTrailer: true}, io.EOF, ""},
		{"a header without counts", `{"kind":"header","format":"persist.v1"}` + "\n" + lines[1] + lines[2] + lines[3] + trailer, ReaderOptions{}, io.EOF, ""},
		{"truncated", header + lines[1] + lines[2], ReaderOptions{}, ErrTruncated, "stream ends without a trailer after line 3: it was cut short"},
		{"truncated mid-line", header + lines[1] + lines[2][:10], ReaderOptions{}, ErrTruncated, "after line 3"},
		// --ignore-trailer excuses a trailer that no longer matches, never a
		// missing one: nothing tells an edit from a stream cut short.
		{"truncated, ignored", header + lines[1], ReaderOptions{IgnoreTrailer: true}, ErrTruncated, "after line 2"},
		{"empty input", "", ReaderOptions{}, io.EOF, ""},
		{"line after trailer", full + rec1 + "\n", ReaderOptions{}, ErrPlacement, "line 6: line out of place: the stream ended with the trailer on line 5"},
		{"two streams joined", full + full, ReaderOptions{}, ErrPlacement, "line 6: line out of place: the stream ended with the trailer on line 5 (two streams joined? head -n 5 keeps the first)"},
		{"an empty line after the trailer", full + "\n", ReaderOptions{}, ErrPlacement,
			"line 6: line out of place: the stream ended with the trailer on line 5 (an empty line: remove the lines after the trailer, e.g. with head -n 5)"},
		{"a blank line after the trailer", full + " \r\n", ReaderOptions{}, ErrPlacement, "(an empty line: "},
		{"empty lines to the end", full + "\n\n \n", ReaderOptions{}, ErrPlacement, "line 6: line out of place: the stream ended with the trailer on line 5 (empty lines: "},
		{"an empty line, then a second stream", full + "\n" + full, ReaderOptions{}, ErrPlacement,
			"line 6: line out of place: the stream ended with the trailer on line 5 (two streams joined? head -n 5 keeps the first)"},
		{"no final newline", strings.TrimSuffix(full, "\n"), ReaderOptions{}, io.EOF, ""},
		{"wrong format", `{"kind":"header","format":"persist.v9"}` + "\n" + rec1, ReaderOptions{}, ErrFormat, "line 1: unsupported format"},
		{"patch not allowed", `{"kind":"header","format":"persist.v1","patch":true}` + "\n" + rec1, ReaderOptions{}, ErrField, "line 1: invalid field: patch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, final := readAll(t, []byte(tt.in), tt.opt)
			if !errors.Is(final, tt.err) || !strings.Contains(final.Error(), tt.msg) {
				t.Errorf("got %v\nwant %v containing %q", final, tt.err, tt.msg)
			}
			var le *LineError
			if errors.As(final, &le) {
				t.Errorf("a final error must not be a *LineError: %v", final)
			}
		})
	}
}

func TestReaderBadLines(t *testing.T) {
	// A trailer that matches nothing, for streams read with IgnoreTrailer.
	anyTrailer := `{"kind":"trailer","records":0,"events":0,"sum":"persist1:` + strings.Repeat("0", 64) + `"}`
	patchHeader := `{"kind":"header","format":"persist.v1","patch":true}`
	remove := `{"kind":"remove","collection":"c","key":"9"}`
	tests := []struct {
		name, in string
		opt      ReaderOptions
		good     int
		errs     []string
	}{
		{"bad JSON then good", rec1 + "\n{oops\n" + rec2 + "\n", ReaderOptions{}, 2,
			[]string{"line 2: invalid JSON: unexpected 'o', expected a member name at byte 1"}},
		{"empty line", rec1 + "\n\n" + rec2 + "\n", ReaderOptions{}, 2, []string{"line 2: invalid JSON: empty line"}},
		{"blank line", rec1 + "\n  \r\n" + rec2, ReaderOptions{}, 2, []string{"line 2: invalid JSON: empty line"}},
		{"unknown field", rec1 + "\n" + `{"kind":"record","collection":"c","key":"k","colour":1}` + "\n" + rec2, ReaderOptions{}, 2,
			[]string{`line 2: invalid field: "colour": unknown field`}},
		{"unknown kind", `{"kind":"note"}` + "\n" + rec2, ReaderOptions{}, 1, []string{`line 1: unknown kind: "note"`}},
		{"late header", rec1 + "\n" + `{"kind":"header","format":"persist.v1"}` + "\n" + rec2, ReaderOptions{}, 2,
			[]string{"line 2: line out of place: a header must be the first line"}},
		{"second header", `{"kind":"header","format":"persist.v1"}` + "\n" + `{"kind":"header","format":"persist.v1"}` + "\n" + rec2 + "\n" + anyTrailer, ReaderOptions{IgnoreTrailer: true}, 1,
			[]string{"line 2: line out of place: a header must be the first line"}},
		{"remove outside a patch", rec1 + "\n" + remove + "\n", ReaderOptions{AllowPatch: true}, 1,
			[]string{"line 2: line out of place: a remove line belongs only in a patch stream"}},
		{"remove in a patch", patchHeader + "\n" + rec1 + "\n" + remove + "\n" + anyTrailer, ReaderOptions{AllowPatch: true, IgnoreTrailer: true}, 2, nil},
		{"time", `{"kind":"event","stream":"s","type":"t","at":"2026-01-01T00:00:00.0000001Z"}`, ReaderOptions{}, 0,
			[]string{"line 1: at: invalid time"}},
		{"invalid UTF-8", rec1 + "\n" + `{"kind":"record","collection":"c","key":"` + "\xff" + `"}`, ReaderOptions{}, 1,
			[]string{"line 2: invalid JSON: invalid UTF-8 at byte 41"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, errs, final := readAll(t, []byte(tt.in), tt.opt)
			if final != io.EOF {
				t.Errorf("final error %v", final)
			}
			if len(good) != tt.good {
				t.Errorf("%d good lines, want %d", len(good), tt.good)
			}
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %q", errs, tt.errs)
			}
			for i := range errs {
				if !strings.Contains(errs[i].Error(), tt.errs[i]) {
					t.Errorf("error %v, want %q", errs[i], tt.errs[i])
				}
			}
		})
	}
	// A bad line also counts against the trailer: the stream ends saying
	// lines were set aside (TestReaderSkippedLines).
	full := stream(rec1, rec2)
	broken := strings.Replace(full, `"value":2}`, `"value":2`, 1)
	_, errs, final := readAll(t, []byte(broken), ReaderOptions{})
	if len(errs) != 1 || !errors.Is(final, ErrSkipped) {
		t.Errorf("errors %v, final %v", errs, final)
	}
}

func TestReaderRawAndLine(t *testing.T) {
	in := "  " + rec1 + "  \n{bad\n" + rec2 + "\r\n"
	r, err := NewReader(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil || string(r.Raw()) != "  "+rec1+"  " || r.Line() != 1 || string(r.Canonical()) != rec1 {
		t.Fatalf("line 1: %v %q %d", err, r.Raw(), r.Line())
	}
	if _, err := r.Next(); err == nil || string(r.Raw()) != "{bad" || r.Line() != 2 {
		t.Fatalf("line 2: %v %q %d", err, r.Raw(), r.Line())
	}
	it, err := r.Next()
	if err != nil || string(r.Raw()) != rec2+"\r" || r.Line() != 3 || it.Key != "2" {
		t.Fatalf("line 3: %v %q %d", err, r.Raw(), r.Line())
	}
	recs, evs, sum := r.Stats()
	var want Sum
	want.AddLine([]byte(rec1))
	want.AddLine([]byte(rec2))
	if recs != 2 || evs != 0 || sum != want {
		t.Errorf("stats %d %d %s", recs, evs, sum)
	}
}

func TestReaderLongLines(t *testing.T) {
	for _, size := range []int{70 << 10, 300 << 10, 5 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			big := `{"kind":"record","collection":"c","key":"big","value":"` + strings.Repeat("x", size) + `"}`
			in := stream(rec1, big, rec2)
			got, errs, final := readAll(t, []byte(in), ReaderOptions{})
			if final != io.EOF || len(errs) > 0 || len(got) != 3 || got[1] != big {
				t.Fatalf("%d lines, errors %v, final %v", len(got), errs, final)
			}
			// Without the final newline too.
			got, errs, final = readAll(t, []byte(strings.Join([]string{rec1, big}, "\n")), ReaderOptions{})
			if final != io.EOF || len(errs) > 0 || len(got) != 2 || got[1] != big {
				t.Fatalf("%d lines, errors %v, final %v", len(got), errs, final)
			}
		})
	}
}

// A line of MaxLine bytes is read; one byte more is set aside, keeping its
// length and its first bytes, and the reader goes on with the next line.
func TestReaderTooLong(t *testing.T) {
	head := `{"kind":"record","collection":"c","key":"big","value":"`
	line := func(n int, end string) io.Reader { // a legal line of n bytes
		return io.MultiReader(strings.NewReader(head), &repeatReader{b: 'x', n: n - len(head) - 2}, strings.NewReader(`"}`+end))
	}
	if raceEnabled {
		t.Skip("half a GiB through the detector; the lines are read the same way as any other")
	}
	for _, workers := range []int{0, 2} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) { readTooLong(t, workers, head, line) })
	}
}

func readTooLong(t *testing.T, workers int, head string, line func(int, string) io.Reader) {
	for _, last := range []bool{false, true} {
		in := io.MultiReader(strings.NewReader(rec1+"\n"), line(MaxLine, "\n"), line(MaxLine+1, "\n"), strings.NewReader(rec2+"\n"))
		wantLine := int64(3)
		if last { // the long line last, without its newline
			in = io.MultiReader(strings.NewReader(rec1+"\n"), line(MaxLine+1, ""))
		}
		r, err := NewReader(in, ReaderOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if !last {
			it, err := r.Next()
			if err != nil {
				t.Fatalf("a line of MaxLine bytes: %v", err)
			}
			if v, l := len(it.Value), len(r.Canonical()); v != MaxLine-len(head) || l != MaxLine {
				t.Fatalf("a line of MaxLine bytes: value of %d bytes, line of %d", v, l)
			}
		} else {
			wantLine = 2
		}
		_, err = r.Next()
		var le *LineError
		var tl *TooLongError
		if !errors.As(err, &le) || le.Line != wantLine || !errors.As(err, &tl) || !errors.Is(err, ErrTooLong) || !errors.Is(err, ErrLimit) {
			t.Fatalf("got %v", err)
		}
		want := fmt.Sprintf("line %d: line too long: %d bytes, more than 268435456 (256 MiB, the limit)", wantLine, MaxLine+1)
		if tl.Length != MaxLine+1 || err.Error() != want {
			t.Errorf("got %q (length %d), want %q", err, tl.Length, want)
		}
		if p := string(r.Raw()); len(p) != TooLongKeep || !strings.HasPrefix(p, head+"xxx") || string(tl.Prefix) != p {
			t.Errorf("kept %d bytes: %.80q", len(p), p)
		}
		if last {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("after the long line: %v", err)
			}
			continue
		}
		if it, err := r.Next(); err != nil || it.Key != "2" || r.Line() != 4 {
			t.Fatalf("after the long line: %v", err)
		}
	}
}

// An input with no newline (/dev/zero, a binary file) ends the reading once
// SkipMax bytes of its line went by: it is never set aside and read on
// for ever, with or without workers, and each Next after says the same.
func TestReaderEndlessLine(t *testing.T) {
	if raceEnabled {
		t.Skip("half a GiB through the detector; the lines are read the same way as any other")
	}
	for _, workers := range []int{0, 2} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			endless := &boundedZeros{left: 3 * MaxLine}
			r, err := NewReader(io.MultiReader(strings.NewReader(rec1+"\n"), endless), ReaderOptions{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
			_, err = r.Next()
			var tl *TooLongError
			var le *LineError
			if !errors.Is(err, ErrRead) || !errors.As(err, &tl) || !tl.Endless || errors.As(err, &le) ||
				!strings.Contains(err.Error(), "line 2: line too long: no newline in the line's first") {
				t.Fatalf("got %v, want the reading ended at line 2, not the line set aside", err)
			}
			if read := 3*MaxLine - endless.left; read > SkipMax+(4<<20) {
				t.Errorf("read %d bytes of the line, more than SkipMax and a buffer", read)
			}
			if _, again := r.Next(); again == nil || again.Error() != err.Error() {
				t.Errorf("the next call: %v", again)
			}
		})
	}
}

// boundedZeros is an input of NUL bytes that a test takes for endless: a
// reader that went on past left fails, rather than the test run for ever.
type boundedZeros struct{ left int }

func (z *boundedZeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, errors.New("read past the bound: the reader did not stop")
	}
	n := min(len(p), z.left)
	clear(p[:n])
	z.left -= n
	return n, nil
}

// Lines ended by a carriage return alone, more than MaxLine bytes of them,
// are one line too long: named as what they are all the same.
func TestReaderTooLongCROnly(t *testing.T) {
	if raceEnabled {
		t.Skip("a quarter of a GiB through the detector; TestHintsUncompressFirst names short ones")
	}
	unit := strings.Repeat(rec1+"\r", 4096)
	var parts []io.Reader
	for n := 0; n <= MaxLine; n += len(unit) {
		parts = append(parts, strings.NewReader(unit))
	}
	for _, workers := range []int{0, 2} {
		r, err := NewReader(io.MultiReader(parts...), ReaderOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Next()
		r.Close()
		if !errors.Is(err, ErrTooLong) || !CauseNamed(err) || !strings.Contains(err.Error(), "line 1: line too long: ") ||
			!strings.HasSuffix(err.Error(), "(a carriage return alone, \\r, ends lines in it, not a newline: convert them, e.g. with tr '\\r' '\\n' | sed '/^[[:space:]]*$/d')") {
			t.Errorf("workers %d: %v", workers, err)
		}
		for _, p := range parts {
			p.(*strings.Reader).Seek(0, io.SeekStart)
		}
	}
}

// After the trailer and an empty line, input that cannot be read is said
// as that, not as a second stream; a line too long there is one.
func TestReaderAfterTrailerRead(t *testing.T) {
	full := stream(rec1, rec2, ev1)
	broken := errors.New("the disk went away")
	for _, workers := range []int{0, 2} {
		r, err := NewReader(io.MultiReader(strings.NewReader(full+"\n"), iotest.ErrReader(broken)), ReaderOptions{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var final error
		for final == nil {
			_, final = r.Next()
		}
		r.Close()
		if !errors.Is(final, ErrRead) || !errors.Is(final, broken) || errors.Is(final, ErrPlacement) {
			t.Errorf("workers %d: %v, want ErrRead", workers, final)
		}
	}
}

// A carriage return alone is looked for in a line that fails to parse, of
// any length: a run of them costs a pass, not a pass for each.
func TestCRSeparatedRuns(t *testing.T) {
	run := strings.Repeat("\r", 4<<20)
	for _, tt := range []struct {
		b    string
		want bool
	}{
		{"x" + run, false}, {"}" + run + "x", false}, {"}" + run + "{", true}, {"} \t" + run + " {", true},
		{"{}", false}, {"\r{", false}, {"}\r", false},
	} {
		if got := crSeparated([]byte(tt.b)); got != tt.want {
			t.Errorf("crSeparated(%.20q…) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

// Lines set aside stand for items the trailer misses only where they could
// be items: an empty line or a header out of place cannot.
func TestReaderSkippedNotItems(t *testing.T) {
	full := stream(rec1, rec2, ev1)
	lines := strings.SplitAfter(full, "\n")
	missing := lines[0] + lines[1] + lines[3] + lines[4] // rec2 gone
	for _, tt := range []struct {
		name, in string
		want     error
	}{
		{"an empty line for a lost item", missing[:len(lines[0]+lines[1])] + "\n" + missing[len(lines[0]+lines[1]):], ErrTrailer},
		{"a header for a lost item", lines[0] + lines[1] + lines[0] + lines[3] + lines[4], ErrTrailer},
		{"a bad line for a lost item", lines[0] + lines[1] + "{oops\n" + lines[3] + lines[4], ErrSkipped},
		{"an empty line in a whole stream", lines[0] + lines[1] + "\n" + lines[2] + lines[3] + lines[4], io.EOF},
	} {
		_, errs, final := readAll(t, []byte(tt.in), ReaderOptions{})
		if len(errs) != 1 || !errors.Is(final, tt.want) {
			t.Errorf("%s: %v, final %v, want %v", tt.name, errs, final, tt.want)
		}
	}
}

func TestFrameLine(t *testing.T) {
	for _, tt := range []struct {
		b    string
		want bool
	}{
		{`{"kind":"header","format":"persist.v1","x":1}`, true}, {`{"kind":"trailer","records":"2"}`, true},
		{"\xEF\xBB\xBF" + `{"kind":"header"}`, true}, {`{ "kind" : "trailer" , "sum":1}`, true},
		{`{"kind":"record","x":1}`, false}, {`{"kind":"header"`, false}, {`oops`, false}, {``, false}, {`{"kind":"Header"}`, false},
	} {
		if got := FrameLine([]byte(tt.b)); got != tt.want {
			t.Errorf("FrameLine(%q) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

func TestUTF8Prefix(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"abcdé", 5, "abcd"},  // é cut in two
		{"abcdé", 6, "abcdé"}, // whole
		{"ab€", 4, "ab"},
		{"ab€", 3, "ab"},
		{"ab😀x", 5, "ab"},
		{"ab\xff\xffxyz", 4, "ab"}, // not UTF-8 at all: a few bytes at most are dropped
		{"short", 100, "short"},
	} {
		if got := string(utf8Prefix([]byte(tt.in), tt.n)); got != tt.want {
			t.Errorf("utf8Prefix(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = r.b
	}
	r.n -= n
	return n, nil
}

func TestCompressed(t *testing.T) {
	plain := stream(rec1, rec2, ev1)
	for _, name := range []string{"s.jsonl.zst", "s.jsonl.zstd", "s.jsonl.gz", "s.jsonl"} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewCompressor(&buf, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(w, plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(name, ".jsonl") != (buf.String() == plain) {
				t.Fatalf("compressed %v", strings.HasSuffix(name, ".jsonl"))
			}
			got, errs, final := readAll(t, buf.Bytes(), ReaderOptions{})
			if final != io.EOF || len(errs) > 0 || len(got) != 3 {
				t.Fatalf("%d lines, %v, %v", len(got), errs, final)
			}
			// Through a pipe, as from stdin: nothing to seek.
			pr, pw := io.Pipe()
			go func() { pw.Write(buf.Bytes()); pw.Close() }()
			r, err := NewReader(pr, ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				if _, err := r.Next(); err != nil {
					if err != io.EOF {
						t.Fatal(err)
					}
					break
				}
				n++
			}
			if n != 3 {
				t.Fatalf("%d items through a pipe", n)
			}
		})
	}
	// Concatenated frames and members decode as one stream.
	var zb, gb bytes.Buffer
	for _, part := range []string{rec1 + "\n", rec2 + "\n"} {
		zw, _ := zstd.NewWriter(&zb)
		zw.Write([]byte(part))
		zw.Close()
		gw := gzip.NewWriter(&gb)
		gw.Write([]byte(part))
		gw.Close()
	}
	for _, in := range [][]byte{zb.Bytes(), gb.Bytes()} {
		if got, errs, final := readAll(t, in, ReaderOptions{}); len(got) != 2 || len(errs) > 0 || final != io.EOF {
			t.Errorf("concatenated: %d lines, %v, %v", len(got), errs, final)
		}
	}
	// A broken compressed stream is a final error that names where it stopped.
	cut := zb.Bytes()[:len(zb.Bytes())-3]
	_, _, final := readAll(t, cut, ReaderOptions{})
	if final == io.EOF || !strings.Contains(final.Error(), "zstd") || !strings.Contains(final.Error(), "after line") {
		t.Errorf("cut zstd: %v", final)
	}
	cut = gb.Bytes()[:len(gb.Bytes())-3]
	_, _, final = readAll(t, cut, ReaderOptions{})
	if final == io.EOF || !strings.Contains(final.Error(), "gzip") {
		t.Errorf("cut gzip: %v", final)
	}
}

// The commands a hint gives for a compressed stream start with the one that
// uncompresses it: head, tr and sed read lines, not zstd's or gzip's bytes.
func TestHintsUncompressFirst(t *testing.T) {
	full := stream(rec1, rec2, ev1)
	packs := []struct {
		cmd  string
		pack func([]byte) []byte
	}{
		{"", func(b []byte) []byte { return b }},
		{"zstd -dc | ", func(b []byte) []byte {
			var out bytes.Buffer
			zw, _ := zstd.NewWriter(&out)
			zw.Write(b)
			zw.Close()
			return out.Bytes()
		}},
		{"gzip -dc | ", func(b []byte) []byte {
			var out bytes.Buffer
			gw := gzip.NewWriter(&out)
			gw.Write(b)
			gw.Close()
			return out.Bytes()
		}},
	}
	for _, p := range packs {
		for _, workers := range []int{0, 2} {
			opt := ReaderOptions{Workers: workers}
			_, _, final := readAll(t, p.pack([]byte(full+"\n")), opt)
			if want := "e.g. with " + p.cmd + "head -n 5)"; final == nil || !strings.HasSuffix(final.Error(), want) {
				t.Errorf("%q, workers %d, an empty line after the trailer: %v, want it to end %q", p.cmd, workers, final, want)
			}
			_, _, final = readAll(t, p.pack([]byte(full+full)), opt)
			if want := "(two streams joined? " + p.cmd + "head -n 5 keeps the first)"; final == nil || !strings.HasSuffix(final.Error(), want) {
				t.Errorf("%q, workers %d, two streams: %v, want it to end %q", p.cmd, workers, final, want)
			}
			_, errs, _ := readAll(t, p.pack([]byte(strings.ReplaceAll(full, "\n", "\r"))), opt)
			if want := "e.g. with " + p.cmd + "tr '\\r' '\\n' | sed '/^[[:space:]]*$/d')"; len(errs) != 1 || !strings.HasSuffix(errs[0].Error(), want) {
				t.Errorf("%q, workers %d, lines ended by CR: %v, want it to end %q", p.cmd, workers, errs, want)
			}
			_, errs, _ = readAll(t, p.pack(append([]byte("\xEF\xBB\xBF"), full...)), opt)
			if want := "e.g. with " + p.cmd + "sed '1s/^\\xEF\\xBB\\xBF//')"; len(errs) != 1 || !strings.HasSuffix(errs[0].Error(), want) {
				t.Errorf("%q, workers %d, a byte order mark: %v, want it to end %q", p.cmd, workers, errs, want)
			}
		}
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Store: "app", Records: 2, Events: 0})
	if err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 {
		t.Error("header not written at once")
	}
	it := Item{Kind: KindRecord, Collection: "c", Key: "1", Version: 1, Value: []byte("1")}
	if err := w.Write(&it); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLine([]byte(rec2)); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLine([]byte(`{"kind":"trailer"}`)); !errors.Is(err, ErrKind) {
		t.Errorf("WriteLine(trailer): %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(&it); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	var want Sum
	want.AddLine([]byte(rec1))
	want.AddLine([]byte(rec2))
	wantText := `{"kind":"header","format":"persist.v1","store":"app","records":2,"events":0}` + "\n" +
		rec1 + "\n" + rec2 + "\n" + `{"kind":"trailer","records":2,"events":0,"sum":"` + want.String() + `"}` + "\n"
	if buf.String() != wantText || w.Sum() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), wantText)
	}
}

// A delta's header says where it starts and its trailer where it ends; a
// reader hands both on.
func TestWriterSinceAndCursor(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Store: "app", Records: 1, Events: 0, Since: "c1.sqlite.0123456789abcdef.3"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLine([]byte(rec1)); err != nil {
		t.Fatal(err)
	}
	w.SetCursor("c1.sqlite.0123456789abcdef.9")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var sum Sum
	sum.AddLine([]byte(rec1))
	want := `{"kind":"header","format":"persist.v1","store":"app","records":1,"events":0,"since":"c1.sqlite.0123456789abcdef.3"}` + "\n" +
		rec1 + "\n" + `{"kind":"trailer","records":1,"events":0,"sum":"` + sum.String() + `","cursor":"c1.sqlite.0123456789abcdef.9"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}
	r, err := NewReader(&buf, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if r.Header().Since != "c1.sqlite.0123456789abcdef.3" || r.Trailer().Cursor != "c1.sqlite.0123456789abcdef.9" {
		t.Errorf("read back: header %+v, trailer %+v", r.Header(), r.Trailer())
	}
}

func TestWriterBrokenPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	pr.Close()
	w, err := NewWriter(pw, Header{Records: -1, Events: -1})
	if err == nil {
		it := Item{Kind: KindRecord, Collection: "c", Key: "k", Value: []byte(strings.Repeat("1", 1000))}
		for i := 0; i < 1000 && err == nil; i++ {
			err = w.Write(&it)
		}
		if err == nil {
			err = w.Close()
		}
	}
	if !errors.Is(err, syscall.EPIPE) {
		t.Errorf("got %v, want EPIPE", err)
	}
	pw.Close()
}

// A stream whose only fault is lines set aside as bad ends with ErrSkipped,
// not a trailer mismatch; a line missing as well is still a mismatch.
func TestReaderSkippedLines(t *testing.T) {
	good := stream(
		`{"kind":"record","collection":"c","key":"a","version":1,"updated_at":"2026-01-01T00:00:00Z","value":1}`,
		`{"kind":"record","collection":"c","key":"b","version":1,"updated_at":"2026-01-01T00:00:00Z","value":2}`,
		`{"kind":"record","collection":"c","key":"c","version":1,"updated_at":"2026-01-01T00:00:00Z","value":3}`,
	)
	lines := strings.SplitAfter(good, "\n")
	bad := strings.Join(lines[:2], "") + `{"kind":"record","collection":"c","key":"b","value":[1,}` + "\n" + strings.Join(lines[3:], "")
	_, errs, final := readAll(t, []byte(bad), ReaderOptions{})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 3") {
		t.Fatalf("bad-line errors = %v", errs)
	}
	if !errors.Is(final, ErrSkipped) || errors.Is(final, ErrTrailer) || !strings.Contains(final.Error(), "first on line 3") {
		t.Fatalf("end = %v, want ErrSkipped naming line 3", final)
	}
	// A record turned into an event beside the bad line: the total still
	// matches, the kinds do not.
	swapped := strings.Replace(bad, `{"kind":"record","collection":"c","key":"c","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":3}`,
		`{"kind":"event","stream":"c","seq":1,"type":"t","at":"2026-01-01T00:00:00.000000Z","data":3}`, 1)
	if swapped == bad {
		t.Fatal("the swap did not apply")
	}
	if _, _, final := readAll(t, []byte(swapped), ReaderOptions{}); !errors.Is(final, ErrTrailer) {
		t.Fatalf("a bad line plus a record turned event: end = %v, want ErrTrailer", final)
	}
	missing := strings.Join(lines[:2], "") + `{"kind":"record","collection":"c","key":"b","value":[1,}` + "\n" + strings.Join(lines[4:], "")
	if _, _, final := readAll(t, []byte(missing), ReaderOptions{}); !errors.Is(final, ErrTrailer) {
		t.Fatalf("a bad line plus a missing one: end = %v, want ErrTrailer", final)
	}
}

// Head tells the header before the first item and hands that item to Next
// unchanged, line number and canonical line included.
func TestReaderHead(t *testing.T) {
	in := stream(rec1, rec2)
	r, err := NewReader(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := r.Head()
	if h == nil || h.Store != "app" || r.Head() != h {
		t.Fatalf("Head = %+v", h)
	}
	it, err := r.Next()
	if err != nil || it.Key != "1" || r.Line() != 2 || !strings.Contains(string(r.Canonical()), `"key":"1"`) {
		t.Fatalf("first Next after Head: %+v %v line %d", it, err, r.Line())
	}
	if it, err := r.Next(); err != nil || it.Key != "2" {
		t.Fatalf("second Next: %+v %v", it, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	// Without a header: nil, and the first item still comes.
	r, _ = NewReader(strings.NewReader(rec1+"\n"), ReaderOptions{})
	if r.Head() != nil {
		t.Fatal("Head of a headerless stream is not nil")
	}
	if it, err := r.Next(); err != nil || it.Key != "1" {
		t.Fatalf("Next after Head: %+v %v", it, err)
	}
}

// RawIsCanonical tells a canonical line from another spelling of the same
// item, whether the reader built the line or took it in parts.
func TestRawIsCanonical(t *testing.T) {
	big := strings.Repeat("x", BigValue)
	for _, tt := range []struct {
		line string
		want bool
	}{
		{`{"kind":"record","collection":"c","key":"k","value":{"a":1}}`, true},
		{`{"kind":"record","key":"k","collection":"c","value":{"a":1}}`, false},
		{`{"kind":"record","collection":"c","key":"k","value":{"a":1.0}}`, false},
		{`{"kind":"record","collection":"c","key":"k","value":"` + big + `"}`, true},
		{`{"kind":"record","collection":"c","key":"k","value":"` + big + `" }`, false},
		{`{"kind":"record","key":"k","collection":"c","value":"` + big + `"}`, false},
		{`{"kind":"record","collection":"c","key":"k","value":["` + big + `", 1]}`, false},
		{`{"kind":"event","stream":"s","type":"t","data":"` + big + `"}`, true},
		// The same length as its canonical form, members in another order.
		{`{"kind":"event","stream":"s","type":"t","data":{"b":"` + big + `","a":1}}`, false},
	} {
		r, err := NewReader(strings.NewReader(tt.line+"\n"), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if got := r.RawIsCanonical(); got != tt.want || got != bytes.Equal(r.Raw(), r.Canonical()) {
			t.Errorf("%.70s…: RawIsCanonical %v, want %v", tt.line, got, tt.want)
		}
	}
}

// A huge value is detached: it stays as it was read while the reader reads
// on, lines as long after it included, so a loader may keep it without a
// copy. A small one, or a huge one in the input's own buffer, is not.
func TestReaderDetached(t *testing.T) {
	huge := `"` + strings.Repeat("ab", keepLong) + `"`
	spaced := `[ ` + strings.Repeat(`1, `, keepLong/2) + `2 ]`
	other := `"` + strings.Repeat("yz", keepLong) + `"`
	in := recLine("a", huge) + recLine("b", spaced) + recLine("c", "1") + recLine("d", other) + recLine("e", huge)
	r, err := NewReader(strings.NewReader(in), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kept [][]byte
	var wants []string
	for _, want := range []struct {
		detached bool
		value    string
	}{{true, huge}, {true, "[" + strings.Repeat("1,", keepLong/2) + "2]"}, {false, "1"}, {true, other}, {true, huge}} {
		it, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r.Detached() != want.detached || string(it.Value) != want.value {
			t.Fatalf("%s: Detached %v, value %.20q…, want %v, %.20q…", it.Key, r.Detached(), it.Value, want.detached, want.value)
		}
		if want.detached {
			kept, wants = append(kept, it.Value), append(wants, want.value)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	for i, v := range kept {
		if string(v) != wants[i] {
			t.Errorf("detached value %d changed after the lines that followed it: %.20q…", i, v)
		}
	}

	// A huge line that fits the input's own buffer is not the reader's to
	// hand out.
	br := bufio.NewReaderSize(strings.NewReader(recLine("a", huge)+recLine("b", "1")), 4*keepLong)
	r, err = NewReader(br, ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil || r.Detached() {
		t.Fatalf("a line in the input's buffer: Detached %v, err %v", r.Detached(), err)
	}
}

func recLine(key, value string) string {
	return `{"kind":"record","collection":"c","key":"` + key + `","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":` + value + "}\n"
}

// A last line that fails to parse and has no newline is what a stream cut
// short looks like: its error says so, read line by line or by workers;
// a bad line that has its newline does not.
func TestReaderLastLineCut(t *testing.T) {
	full := stream(rec1, rec2, ev1)
	lines := strings.SplitAfter(full, "\n")
	cut := lines[0] + lines[1] + lines[2][:20]
	bad := lines[0] + `{"kind":"record",` + "\n" + lines[1]
	for _, workers := range []int{0, 2} {
		opt := ReaderOptions{Workers: workers}
		_, errs, _ := readAll(t, []byte(cut), opt)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 3: invalid JSON") ||
			!strings.Contains(errs[0].Error(), "without its newline: was the stream cut short?") {
			t.Errorf("workers %d, cut mid-line: %v", workers, errs)
		}
		_, errs, _ = readAll(t, []byte(bad), opt)
		if len(errs) != 1 || strings.Contains(errs[0].Error(), "cut short") {
			t.Errorf("workers %d, a bad line with its newline: %v", workers, errs)
		}
		// Lines ended by a carriage return alone are one line without
		// its newline, and not cut short.
		_, errs, _ = readAll(t, []byte(strings.ReplaceAll(full, "\n", "\r")), opt)
		if len(errs) != 1 || strings.Contains(errs[0].Error(), "cut short") || !CauseNamed(errs[0]) ||
			!strings.Contains(errs[0].Error(), "line 1: invalid JSON: unexpected '{', expected end of line at byte ") ||
			!strings.Contains(errs[0].Error(), "(a carriage return alone, \\r, ends lines in it, not a newline: convert them, e.g. with tr '\\r' '\\n' | sed '/^[[:space:]]*$/d')") {
			t.Errorf("workers %d, lines ended by CR: %v", workers, errs)
		}
	}
}

// A stream cut in the middle of a line after its header is truncated
// (ErrTruncated), as one cut at a line's end is: the line that ends it is
// no trailer. Without a header it is a bad line only.
func TestCutLineIsTruncated(t *testing.T) {
	head := `{"kind":"header","format":"persist.v1","store":"s","records":2,"events":0}` + "\n"
	line := `{"kind":"record","collection":"c","key":"k","version":1,"updated_at":"2026-01-01T00:00:00Z","value":1}` + "\n"
	for _, c := range []struct {
		name, in  string
		truncated bool
	}{
		{"cut mid-line after a header", head + line + line[:30], true},
		{"cut at a line's end after a header", head + line, true},
		{"cut mid-line without a header", line + line[:30], false},
	} {
		r, err := NewReader(strings.NewReader(c.in), ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, err = r.Next()
		}
		if got := errors.Is(err, ErrTruncated); got != c.truncated {
			t.Errorf("%s: %v: ErrTruncated %v, want %v", c.name, err, got, c.truncated)
		}
	}
}
