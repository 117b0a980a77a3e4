package persist

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/load"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
)

// Progress is how far an operation got, in items (records and events).
// Total is -1 when it is not known in advance.
type Progress struct {
	Completed int64
	Total     int64
}

// MigrateOptions tune Migrate.
type MigrateOptions struct {
	// BatchSize is the number of items per target transaction
	// (0: the loader's default).
	BatchSize int
	// OnProgress is called after each committed batch.
	OnProgress func(Progress)
}

// Result says what a Migrate or a Backfill moved.
type Result struct {
	Records, Events int64  // items read from the source
	Sum             string // the persist1 sum of what was read

	Written   int64 // records and events the target did not have yet
	Unchanged int64 // records and events the target already held, identical
	Stale     int64 // records the target holds in a newer version (left alone)
}

func (r *Result) add(st load.Stats) {
	r.Written += st.Written + st.Events
	r.Unchanged += st.Unchanged + st.EventsUnchanged
	r.Stale += st.Stale
}

// Migrate copies the store at src into dst, as persist-dump src |
// persist-load dst would: a consistent snapshot of src, streamed with its
// trailer (so the load checks the stream's counts and sum end to end), merged
// into dst by version in batches that are each read back before they commit.
// It is idempotent: run it again after an interruption and it finishes the
// job without duplicating anything.
//
// src is a store location or a stream file; dst is a store location. The
// target store is dst's #NAME, else the source store's name, else the only
// store dst holds, else DefaultStore. A record dst holds in a newer version is
// left alone and counted in Result.Stale; a record with dst's version but
// other content fails the migration (a conflict: the two histories forked).
func Migrate(ctx context.Context, src, dst string, opt MigrateOptions) (Result, error) {
	var res Result
	in, err := source.Open(ctx, src, source.Options{})
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	defer in.Close()
	records, events, known, err := in.Counts(ctx)
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	total := int64(-1)
	if !known {
		records, events = -1, -1
	} else {
		total = records + events
	}
	storeName := in.Store // a stream's is its header's

	l, a, err := openWritable(ctx, dst)
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	defer a.Close()
	target := l.Store
	if target == "" {
		target = storeName
	}
	if target == "" {
		if target, err = location.Store(ctx, a, l, "", DefaultStore); err != nil {
			return res, fmt.Errorf("migrate: %w", err)
		}
	}

	pr, pw := io.Pipe()
	type written struct {
		records, events int64
		sum             record.Sum
		err             error
	}
	done := make(chan written, 1)
	go func() {
		var w written
		w.records, w.events, w.sum, w.err = in.WriteStream(ctx, pw, record.Header{Format: record.Format, Store: storeName, Records: records, Events: events}, nil)
		pw.CloseWithError(w.err)
		done <- w
	}()
	st, lerr := loadStream(ctx, a, target, pr, opt, total)
	// A load that stopped early must not leave the writer blocked on the pipe.
	pr.CloseWithError(errors.New("load stopped"))
	w := <-done
	res.Records, res.Events, res.Sum = w.records, w.events, w.sum.String()
	res.add(st)
	switch {
	case w.err != nil && !errors.Is(w.err, io.ErrClosedPipe) && lerr == nil:
		return res, fmt.Errorf("migrate: read %s: %w", location.Redact(src), w.err)
	case lerr != nil:
		return res, fmt.Errorf("migrate %s to %s: %w", location.Redact(src), l, location.ScrubError(lerr, l.Raw))
	}
	return res, nil
}

func loadStream(ctx context.Context, a adapters.Adapter, target string, r io.Reader, opt MigrateOptions, total int64) (load.Stats, error) {
	rd, err := record.NewReader(r, record.ReaderOptions{})
	if err != nil {
		return load.Stats{}, err
	}
	defer rd.Close()
	lo := load.Options{BatchSize: opt.BatchSize}
	if opt.OnProgress != nil {
		lo.OnProgress = func(st load.Stats) { opt.OnProgress(Progress{Completed: st.Lines, Total: total}) }
	}
	return load.Load(ctx, a, target, rd, lo)
}
