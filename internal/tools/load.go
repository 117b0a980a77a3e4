package tools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/load"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// LoadFlags are the flags persist-load and persist-tee share.
type LoadFlags struct {
	Store         string `help:"The store to load into (same as #NAME). Default: the only store there, else the stream header's store." placeholder:"NAME"`
	Mode          string `default:"merge" enum:"merge,replace" help:"merge: by version (see docs/persist-load.md); replace: the store becomes exactly the stream, atomically."`
	Atomic        bool   `help:"Load everything in one transaction: all or nothing."`
	BatchSize     int    `default:"0" help:"Items per transaction (0: the default, 5000)." placeholder:"N"`
	Retries       int    `default:"8" help:"Retries of a batch after a transient failure (lost connection, busy database), with backoff." placeholder:"N"`
	Rejects       string `help:"Write lines the store cannot take to FILE (JSONL: line, reason, raw) and go on; without it the load stops at the first one." placeholder:"FILE"`
	IgnoreTrailer bool   `help:"Accept a stream whose trailer no longer matches (edited on purpose)."`
	NoVerify      bool   `help:"Skip reading back each batch before it commits (faster, less safe)."`
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
	var in io.Reader = st.Stdin
	if o.Input != "-" && o.Input != "" {
		f, err := os.Open(o.Input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	bar := cli.NewProgress(st.Stderr, cli.ShowProgress(o.Common, st.Stderr), -1, "loading")
	res, err := loadInto(ctx, st, o.LoadFlags, o.Location, in, "", bar.Total)
	bar.Finish()
	if res != nil {
		summary(st, o.Common, name, res.String())
	}
	return err
}

// loadResult is what a finished (or stopped) load says about itself.
type loadResult struct {
	target string
	stats  load.Stats
}

func (r *loadResult) String() string {
	s := r.stats
	return fmt.Sprintf("%s: %d written, %d unchanged, %d stale, %d conflicts, %d rejects; %d events written, %d unchanged; %d removed; %d retries; %s, %s",
		r.target, s.Written, s.Unchanged, s.Stale, s.Conflicts, s.Rejects, s.Events, s.EventsUnchanged, s.Removed, s.Retries,
		s.Elapsed.Round(time.Millisecond), cli.Rate(s.Lines, s.Elapsed))
}

// loadInto loads the stream in into the store at target. name is the
// store to use when neither the location nor --store names one and the
// database holds none yet ("" : the stream header's). progress, when not
// nil, is told how many lines are done out of a total (-1 when unknown).
func loadInto(ctx context.Context, st Stdio, f LoadFlags, target string, in io.Reader, name string, progress func(done, total int64)) (*loadResult, error) {
	loc, err := location.Parse(target, true)
	if err != nil {
		return nil, err
	}
	if !loc.IsStore() {
		return nil, cli.Hint(fmt.Errorf("%s is not a store", loc), "load into sqlite:PATH or postgres://…")
	}
	r, err := record.NewReader(in, record.ReaderOptions{IgnoreTrailer: f.IgnoreTrailer, AllowPatch: true})
	if err != nil {
		return nil, err
	}
	// The header, if any, may name the store.
	h := r.Head()
	a, err := location.Open(ctx, loc, false)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	fallback := name
	if fallback == "" && h != nil {
		fallback = h.Store
	}
	store, err := location.Store(ctx, a, loc, f.Store, fallback)
	if err != nil {
		return nil, err
	}
	res := &loadResult{target: loc.String()}
	if loc.Store == "" {
		res.target += " (store " + store + ")"
	}
	opt := load.Options{
		BatchSize: f.BatchSize,
		Atomic:    f.Atomic,
		Retries:   f.Retries,
		NoVerify:  f.NoVerify,
	}
	if f.Retries == 0 {
		opt.Retries = -1 // the loader reads 0 as "the default"
	}
	if f.Mode == "replace" {
		opt.Mode = load.Replace
	}
	var rejects *cli.Output
	if f.Rejects != "" {
		if rejects, err = cli.CreateOutput(f.Rejects, st.Stdout); err != nil {
			return nil, err
		}
		defer rejects.Abort()
		opt.Rejects = rejects
	}
	var total int64 = -1
	if h != nil && h.Records >= 0 && h.Events >= 0 {
		total = h.Records + h.Events
	}
	if progress != nil {
		opt.OnProgress = func(s load.Stats) { progress(s.Lines, total) }
	}
	res.stats, err = load.Load(ctx, a, store, r, opt)
	if rejects != nil {
		// Rejects are kept even when the load stops: they say why.
		if cerr := rejects.Commit(); cerr != nil && err == nil {
			err = cerr
		}
	}
	if err != nil {
		return res, loadHint(err, f)
	}
	return res, nil
}

func loadHint(err error, f LoadFlags) error {
	switch {
	case errors.Is(err, record.ErrTrailer):
		return cli.Hint(err, "batches committed before this stay (a rerun is idempotent); to load an edited stream on purpose use --ignore-trailer or drop its trailer line")
	case errors.Is(err, record.ErrTruncated):
		return cli.Hint(err, "the stream was cut short; batches committed so far stay, and rerunning the full stream finishes the job")
	case errors.Is(err, load.ErrRejected) && f.Rejects != "":
		return cli.Hint(err, "see %s for each rejected line and its reason", f.Rejects)
	case errors.Is(err, load.ErrRejected), errors.Is(err, adapters.ErrUnsupported):
		return cli.Hint(err, "use --rejects FILE to set such lines aside and load the rest")
	}
	return err
}
