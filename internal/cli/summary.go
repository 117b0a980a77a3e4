package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// SummaryFormat names the layout of the --summary object (docs/summary.md);
// fields are only ever added under this name.
const SummaryFormat = "persist.summary.v1"

// Result is the --summary object, field by field as docs/summary.md
// documents it. Fields that do not apply to a command keep their zero
// value (counts) or null (objects), so that every field is always there.
type Result struct {
	Format         string   `json:"format"`
	Tool           string   `json:"tool"`
	Version        string   `json:"version"`
	Outcome        string   `json:"outcome"`
	ExitStatus     int      `json:"exit_status"`
	Error          *string  `json:"error"`
	Hints          []string `json:"hints"`
	StartedAt      string   `json:"started_at"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`

	Records int64   `json:"records"`
	Events  int64   `json:"events"`
	Sum     *string `json:"sum"`
	Retries int64   `json:"retries"`
	Rejects int64   `json:"rejects"`

	Sources     []Side          `json:"sources"`
	Targets     []Target        `json:"targets"`
	Output      *string         `json:"output"`
	Differences *Differences    `json:"differences"`
	Item        json.RawMessage `json:"item"`
}

// Side is a store or stream a command read.
type Side struct {
	Location string  `json:"location"`
	Store    *string `json:"store"`
	Records  *int64  `json:"records"`
	Events   *int64  `json:"events"`
	Sum      *string `json:"sum"`
}

// Target is a store a command wrote into, and what became of each line.
type Target struct {
	Location        string `json:"location"`
	Store           string `json:"store"`
	Lines           int64  `json:"lines"`
	Written         int64  `json:"written"`
	Unchanged       int64  `json:"unchanged"`
	Stale           int64  `json:"stale"`
	Conflicts       int64  `json:"conflicts"`
	Rejects         int64  `json:"rejects"`
	EventsWritten   int64  `json:"events_written"`
	EventsUnchanged int64  `json:"events_unchanged"`
	Removed         int64  `json:"removed"`
	Retries         int64  `json:"retries"`
	Batches         int64  `json:"batches"`
	// ReadBack, while a single write (persist put, rm, append) is under
	// way, says how to see whether it took effect, ending with the
	// command that shows it: interrupted then, its COMMIT may have
	// reached the server unanswered, and the same command run again
	// would append twice, or lose to its own --if-version write.
	ReadBack string `json:"-"`
}

// Differences counts what a comparison found.
type Differences struct {
	OnlyA   int64 `json:"only_a"`
	OnlyB   int64 `json:"only_b"`
	Changed int64 `json:"changed"`
}

// Outcomes of a run.
const (
	OutcomeOK          = "ok"
	OutcomeDifferent   = "different"
	OutcomeFailed      = "failed"
	OutcomeInterrupted = "interrupted"
)

// Summary collects a run's Result for --summary FILE and writes it when
// the run ends, however it ends. Commands fill it through Update; one
// without --summary gets a Summary that writes nothing.
type Summary struct {
	mu     sync.Mutex
	path   string
	stdout io.Writer // the run's standard output
	out    *Output
	start  time.Time
	report Result
}

type summaryKey struct{}

// WithSummary returns ctx carrying s.
func WithSummary(ctx context.Context, s *Summary) context.Context {
	return context.WithValue(ctx, summaryKey{}, s)
}

// SummaryOf returns the Summary ctx carries, or one that writes nothing.
func SummaryOf(ctx context.Context) *Summary {
	if s, ok := ctx.Value(summaryKey{}).(*Summary); ok && s != nil {
		return s
	}
	return &Summary{}
}

// Stdout is the run's standard output (nil for a Summary that writes
// nothing).
func (s *Summary) Stdout() io.Writer { return s.stdout }

// Path is where the summary goes ("" for none, "-" for stdout).
func (s *Summary) Path() string { return s.path }

// ToStdout refuses --summary - (or /dev/stdout, OnStdout) for a command
// whose stdout carries data (what): the two would be mixed.
func (s *Summary) ToStdout(what string) error {
	if !OnStdout(s.path, s.stdout) {
		return nil
	}
	s.Abandon()
	return hint.With(fmt.Errorf("--summary %s: standard output carries %s", s.path, what), "give --summary a file name, e.g. --summary run.json")
}

// Abandon drops the summary of a run refused before it began because of
// where the summary or another output goes: nothing is written for it, not
// even the failure (which would land where the refusal said it must not).
func (s *Summary) Abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out != nil {
		s.out.Abort()
		s.out = nil
	}
}

// partial says, of an interrupted run, what each target holds: nothing of
// it, where no batch had committed (one transaction, or a new database
// made aside, commits none before its end), or a part of what it was to
// get, which the same command run again finishes (what is there counts
// as unchanged); of a single write under way (ReadBack), that it may have
// taken effect, and how to look.
func (s *Summary) partial() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hints []string
	for _, t := range s.report.Targets {
		where := t.Location
		if !strings.HasSuffix(where, "#"+t.Store) {
			where += " (store " + t.Store + ")"
		}
		if t.Batches == 0 && t.ReadBack != "" {
			hints = append(hints, fmt.Sprintf("the write to %s was under way when the run was interrupted, and may have taken effect "+
				"(its COMMIT may have reached the server unanswered): look before running the command again; %s", where, t.ReadBack))
			continue
		}
		if t.Batches == 0 {
			hints = append(hints, fmt.Sprintf("nothing of the input was written to %s: run the same command again "+
				"(the whole pipeline, for a stream on standard input)", where))
			continue
		}
		hints = append(hints, fmt.Sprintf("%s holds what %d batches committed before the interruption (%d records and %d events written): "+
			"a part of the copy; run the same command again (the whole pipeline, for a stream on standard input) to finish it, "+
			"what is there already counting as unchanged", where, t.Batches, t.Written, t.EventsWritten))
	}
	return hints
}

// writesStores reports whether the run's tool writes into stores, where
// a run ended before its work stopped may leave batches it committed
// uncounted.
func (s *Summary) writesStores() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.report.Tool {
	case "persist-load", "persist-tee", "persist migrate", "persist import", "persist put", "persist rm", "persist append", "persist upgrade":
		return true
	}
	return false
}

// Program is the program whose run this is ("persist" for `persist
// export`), as its messages on stderr begin; "" where none was named.
func (s *Summary) Program() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _, _ := strings.Cut(s.report.Tool, " ")
	return name
}

// Update changes the report under the summary's lock.
func (s *Summary) Update(f func(r *Result)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.report)
}

// OpenSummary starts the summary of a run of tool: the file is created
// (as a new file not yet in place, as every output) before the command does
// anything, so that a name that cannot be written fails at once.
func OpenSummary(path, tool string, stdout io.Writer) (*Summary, error) {
	now := time.Now()
	s := &Summary{path: path, stdout: stdout, start: now}
	s.report = Result{
		Format:    SummaryFormat,
		Tool:      tool,
		Version:   strings.TrimPrefix(VersionString(tool), tool+" "),
		StartedAt: now.UTC().Format("2006-01-02T15:04:05.000000Z"),
		Hints:     []string{},
		Sources:   []Side{},
		Targets:   []Target{},
	}
	if path == "" {
		return s, nil
	}
	if err := CheckOutputName(path); err != nil {
		return nil, fmt.Errorf("--summary: %w", err)
	}
	if err := onlyASummary(path); err != nil {
		return nil, fmt.Errorf("--summary: %w", err)
	}
	out, err := CreateOutput(path, stdout)
	if err != nil {
		return nil, fmt.Errorf("--summary: %w", err)
	}
	s.out = out
	return s, nil
}

// summaryHead is how every summary file begins (Result's first field),
// of this format's version or another's.
const summaryHead = `{"format":"persist.summary.`

// onlyASummary refuses a --summary FILE that holds anything but a summary
// (compressed or not):
// the database the command reads, its input stream, a log. A summary
// replaces only one a run wrote before, or an empty file, whatever else
// the command line says: the summary of a usage error is written before
// anything checks what the command would read or write.
func onlyASummary(path string) error {
	return onlyItsOwn(path, summaryHead, "a run's summary", "a summary", "--summary")
}

// rejectsHead is how every line of a rejects file begins.
const rejectsHead = `{"line":`

// OnlyRejects refuses a --rejects FILE that holds anything but lines a load
// set aside before: a load that rejects nothing still writes the file,
// empty, and a backup, a database or a stream named there by mistake
// would be lost.
func OnlyRejects(path string) error {
	return onlyItsOwn(path, rejectsHead, "lines a load set aside", "the rejects", "--rejects")
}

// CreateRejects opens the --rejects FILE (- for stdout) once OnlyRejects
// takes it.
func CreateRejects(path string, stdout io.Writer) (*Output, error) {
	if err := OnlyRejects(path); err != nil {
		return nil, fmt.Errorf("--rejects: %w", err)
	}
	return CreateOutput(path, stdout)
}

// onlyItsOwn refuses an output file that begins with anything but head
// (compressed or not, as the output would be written): what (e.g. "a run's
// summary"), by (what would replace it) and flag are for the message. A
// missing or empty file, a pipe or a device, and - are taken.
func onlyItsOwn(path, head, what, by, flag string) error {
	st, err := os.Stat(path)
	if path == "-" || location.NamesDescriptor(path, 2) || err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
		return nil // standard error is written into as it is (CreateOutput), never replaced
	}
	const again = "name a new file for %[1]s, or one that an earlier %[1]s wrote"
	f, err := os.Open(path)
	if err != nil {
		// Unread, it could be anything: the database, as well as its own.
		return hint.With(fmt.Errorf("%s cannot be read to tell that it holds %s, which %s may replace: %w", path, what, by, err), again, flag)
	}
	defer f.Close()
	// A file named .gz or .zst was written compressed: a run that wrote
	// nothing into it left a whole compressed stream of nothing, taken as
	// an empty file is.
	r, err := record.NewDecompressor(f)
	if err == nil {
		defer r.Close()
		got := make([]byte, len(head))
		n, err := io.ReadFull(r, got)
		if string(got[:n]) == head || (n == 0 && errors.Is(err, io.EOF)) {
			return nil
		}
	}
	return hint.With(fmt.Errorf("%s holds something other than %s, which %s must not replace", path, what, by), again, flag)
}

// Finish writes the report with the run's exit status and error. An error
// writing it is returned, for the command to report.
func (s *Summary) Finish(code int, err error, interrupted bool) error {
	s.mu.Lock()
	r, out := s.report, s.out
	s.out = nil
	s.mu.Unlock()
	if out == nil {
		return nil
	}
	r.ExitStatus = code
	r.ElapsedSeconds = time.Since(s.start).Seconds()
	switch {
	case interrupted:
		r.Outcome = OutcomeInterrupted
	case code == ExitOK:
		r.Outcome = OutcomeOK
	case code == ExitDiffer:
		r.Outcome = OutcomeDifferent
	default:
		r.Outcome = OutcomeFailed
	}
	if err != nil {
		err = explain(r.Tool, err)
		if !errors.Is(err, ErrDiffer) || said(err) {
			msg := messages(err)
			r.Error = &msg
		}
		r.Hints = append(r.Hints, hint.All(err)...)
	}
	b, merr := json.Marshal(r)
	if merr != nil {
		out.Abort()
		return fmt.Errorf("--summary: %w", merr)
	}
	if _, werr := out.Write(append(b, '\n')); werr != nil {
		out.Abort()
		return dropStale(out, fmt.Errorf("--summary %s: %w", s.path, werr))
	}
	if cerr := out.Commit(); cerr != nil {
		return dropStale(out, fmt.Errorf("--summary: %w", cerr))
	}
	return nil
}

// dropStale removes, where this run's summary could not take its place
// (a full disk), the summary an earlier run left there (OpenSummary let
// only a summary or an empty file be replaced): a script that reads it
// after this run's failure would take another run's outcome, "ok" it may
// be, for this one's. err says whether it went.
//
// A summary renamed into place whose folder's sync then failed is this
// run's: it stays.
func dropStale(out *Output, err error) error {
	if !out.replacing() || out.moved {
		return err
	}
	if rerr := os.Remove(out.final); rerr == nil {
		return fmt.Errorf("%w (the file there, an earlier run's summary, or empty, was removed)", err)
	} else if !errors.Is(rerr, fs.ErrNotExist) && !errors.Is(rerr, syscall.ENAMETOOLONG) {
		return fmt.Errorf("%w (and the file there, an earlier run's summary, or empty, could not be removed: %w)", err, rerr)
	}
	return err
}

// Ptr returns a pointer to v, for the report's optional fields.
func Ptr[T any](v T) *T { return &v }
