package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/source"
)

// LoadFlags are the flags persist-load and persist-tee share.
type LoadFlags struct {
	Store         string `help:"The store to load into (same as #NAME). Default: the only store there, else the stream header's store, else \"default\"." placeholder:"NAME"`
	Mode          string `default:"merge" enum:"merge,replace" help:"merge: by version (see docs/persist-load.md); replace: the store becomes exactly the stream, atomically."`
	Atomic        bool   `help:"Load everything in one transaction: all or nothing."`
	BatchSize     int    `default:"0" help:"Items per transaction (0: the default, 5000)." placeholder:"N"`
	Retries       int    `default:"8" help:"Retries of a batch after a transient failure (lost connection, busy database), with backoff." placeholder:"N"`
	Rejects       string `help:"Write lines the store cannot take to FILE (JSONL: line, reason, raw) and go on; without it the load stops at the first one." placeholder:"FILE"`
	IgnoreTrailer bool   `help:"Accept a stream whose trailer no longer matches (edited on purpose); a stream cut short is still refused."`
	NoVerify      bool   `help:"Skip reading back each batch before it commits (faster, less safe)."`
}

// check refuses flag values that cannot be honoured, before anything is
// read or written.
func (f LoadFlags) check() error {
	switch {
	case f.BatchSize < 0:
		return cli.Hint(fmt.Errorf("--batch-size %d: must be 0 (the default) or more", f.BatchSize), "--batch-size 5000")
	case f.Retries < 0:
		return cli.Hint(fmt.Errorf("--retries %d: must be 0 (no retries) or more", f.Retries), "--retries 8")
	}
	return cli.CheckOutputName(f.Rejects)
}

// LoadOptions are persist-load's flags.
type LoadOptions struct {
	cli.Common
	LoadFlags
	Location string
	Input    string
}

// Load loads a stream into a store.
func Load(ctx context.Context, st Stdio, o LoadOptions) error {
	const name = "persist-load"
	if err := o.check(); err != nil {
		return err
	}
	var in io.Reader = st.Stdin
	if o.Input != "-" && o.Input != "" {
		f, err := source.OpenFile(ctx, o.Input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	b := newBar(st, o.Common, "loading")
	res, err := loadInto(ctx, st, o.LoadFlags, o.Location, in, b.progress)
	b.Finish()
	if res != nil && res.Store != "" {
		summary(st, o.Common, name, resultLine(res))
	}
	return err
}

// resultLine is a load's summary.
func resultLine(r *persist.LoadResult) string {
	target := r.Target
	if r.Store != "" {
		target += " (store " + r.Store + ")"
	}
	return fmt.Sprintf("%s: %d written, %d unchanged, %d stale, %d conflicts, %d rejects; %d events written, %d unchanged; %d removed; %d retries; %s, %s",
		target, r.Written, r.Unchanged, r.Stale, r.Conflicts, r.Rejects, r.Events, r.EventsUnchanged, r.Removed, r.Retries,
		r.Elapsed.Round(time.Millisecond), cli.Rate(r.Lines, r.Elapsed))
}

// loadInto loads the stream in into the store at target, with the flags'
// options; progress, when not nil, follows it.
func loadInto(ctx context.Context, st Stdio, f LoadFlags, target string, in io.Reader, progress func(persist.Progress)) (*persist.LoadResult, error) {
	opt := loadOptions(f, progress)
	var rejects *cli.Output
	if f.Rejects != "" {
		var err error
		if rejects, err = cli.CreateOutput(f.Rejects, st.Stdout); err != nil {
			return nil, err
		}
		defer rejects.Abort()
		opt.Rejects = rejects
	}
	res, err := persist.Load(ctx, in, target, opt)
	if rejects != nil {
		// Rejects are kept even when the load stops: they say why.
		if cerr := rejects.Commit(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		return &res, loadHint(err, f)
	}
	return &res, nil
}

// loadOptions are the API's load options the flags ask for (but the
// rejects file, which the caller opens).
func loadOptions(f LoadFlags, progress func(persist.Progress)) persist.LoadOptions {
	opt := persist.LoadOptions{
		Store:         f.Store,
		Atomic:        f.Atomic,
		BatchSize:     f.BatchSize,
		Retries:       f.Retries,
		IgnoreTrailer: f.IgnoreTrailer,
		NoVerify:      f.NoVerify,
		OnProgress:    progress,
	}
	if f.Retries == 0 {
		opt.Retries = -1 // the API reads 0 as "the default"
	}
	if f.Mode == "replace" {
		opt.Mode = persist.Replace
	}
	return opt
}

func loadHint(err error, f LoadFlags) error {
	switch {
	case errors.Is(err, persist.ErrNoInput):
		return cli.Hint(err, "did the command before it in the pipeline fail? A stream with nothing to load still has a header: persist-dump writes one")
	case errors.Is(err, persist.ErrTrailer):
		return cli.Hint(err, "batches committed before this stay (a rerun is idempotent); to load a stream edited on purpose, add --ignore-trailer, or seal the edited stream again with persist-seal")
	case errors.Is(err, persist.ErrTruncated):
		return cli.Hint(err, "the stream was cut short; batches committed so far stay, and rerunning the full stream finishes the job")
	case errors.Is(err, persist.ErrRejected) && f.Rejects != "":
		return cli.Hint(err, "see %s for each rejected line and its reason", f.Rejects)
	case errors.Is(err, persist.ErrRejected), errors.Is(err, persist.ErrUnsupported):
		return cli.Hint(err, "use --rejects FILE to set such lines aside and load the rest")
	}
	return err
}
