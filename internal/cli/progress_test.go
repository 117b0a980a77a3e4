package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestETAAndBar(t *testing.T) {
	for _, c := range []struct {
		frac    float64
		elapsed time.Duration
		want    string
	}{
		{0, time.Second, "-:--"},
		{0.5, 10 * time.Second, "0:10"},
		{0.25, time.Minute, "3:00"},
		{0.1, time.Hour, "9:00:00"},
		{1, time.Minute, "0:00"},
	} {
		if got := eta(c.frac, c.elapsed); got != c.want {
			t.Errorf("eta(%v, %v) = %s, want %s", c.frac, c.elapsed, got, c.want)
		}
	}
	for _, c := range []struct {
		frac float64
		want string
	}{{0, "[>         ]"}, {0.5, "[=====>    ]"}, {1, "[==========]"}} {
		if got := bar(c.frac, 10); got != c.want {
			t.Errorf("bar(%v) = %q, want %q", c.frac, got, c.want)
		}
	}
}

// Off a terminal (forced with --progress) progress is plain lines: the
// count, the rate, and with a total the percentage and time left; from a
// file's bytes when the items' total is unknown.
func TestPlainProgress(t *testing.T) {
	var w bytes.Buffer
	p := NewProgress(&w, true, 1000, "loading")
	p.start = time.Now().Add(-10 * time.Second)
	p.Total(250, 1000)
	p.Finish()
	if got := w.String(); !strings.Contains(got, "loading: 250/1000 items, ") || !strings.Contains(got, ", 25%, eta 0:30") {
		t.Errorf("plain line: %q", got)
	}
	w.Reset()
	p = NewProgress(&w, true, -1, "loading")
	p.Bytes(func() (int64, int64) { return 300, 1200 })
	p.Total(10, -1)
	p.Finish()
	if got := w.String(); !strings.Contains(got, "loading: 10 items, ") || !strings.Contains(got, "25%") {
		t.Errorf("a byte-based fraction: %q", got)
	}
	w.Reset()
	p = NewProgress(&w, false, 10, "loading")
	p.Total(5, 10)
	p.Add(5000)
	p.Finish()
	if w.Len() != 0 {
		t.Errorf("a hidden progress wrote %q", w.String())
	}
}

func TestShowProgressAndSummary(t *testing.T) {
	var buf bytes.Buffer // neither a terminal nor a pipe
	if ShowProgress(Common{}, &buf, &buf) || !ShowProgress(Common{Progress: true}, &buf, &buf) || ShowProgress(Common{Progress: true, Quiet: true}, &buf, &buf) {
		t.Error("ShowProgress off a terminal: only with --progress, never with -q")
	}
	if ShowSummary(Common{}, &buf) || !ShowSummary(Common{Verbose: true}, &buf) || ShowSummary(Common{Verbose: true, Quiet: true}, &buf) {
		t.Error("ShowSummary off a terminal: only with -v, never with -q")
	}
}
