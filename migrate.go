package persist

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
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
	// Source picks the store to copy (Source.Store) and what of it.
	Source ReadOptions
	// Load tunes the load into the target; BatchSize and OnProgress above
	// take the place of its own.
	Load LoadOptions
	// OnLoaded, when not nil, is given the load's own account when it ends
	// (even with an error).
	OnLoaded func(LoadResult)
}

// Result says what a Migrate or a Backfill moved.
type Result struct {
	Records, Events int64  // items read from the source
	Sum             string // the persist1 sum of what was read

	Written   int64 // records and events the target did not have yet
	Unchanged int64 // records and events the target already held, identical
	Stale     int64 // records the target holds in a newer version (left alone)
}

func (r *Result) addLoad(l LoadResult) {
	r.Written += l.Written + l.Events
	r.Unchanged += l.Unchanged + l.EventsUnchanged
	r.Stale += l.Stale
}

// Migrate copies the store at src into dst, as persist-dump src |
// persist-load dst would: a consistent snapshot of src, streamed with its
// trailer (so the load checks the stream's counts and sum end to end), merged
// into dst by version in batches that are each read back before they commit.
// It is idempotent: run it again after an interruption and it finishes the
// job without duplicating anything (a stream file's events without seq
// excepted: those are appended, and appended again by a second run).
//
// Before anything is written, a store source is read once to find the
// items dst cannot hold (Check); any stops the migration with an error
// wrapping ErrUnsupported that lists them, unless Load.Rejects takes them.
//
// Into a database file that does not exist yet, of the source store's own
// kind, a store the source database holds alone is copied by the database
// engine (adapters.Copier) and proven item by item against the snapshot
// before it takes dst's name (copyStore): the same result, several times
// faster, in one step (OnProgress is called once, at the end).
//
// src is a store location or a stream; dst is a store location, whose store
// is chosen as Load chooses it (the source store's name serving as the
// stream header's). A record dst holds in a newer version is left alone and
// counted in Result.Stale; a record with dst's version but other content
// fails the migration (a conflict: the two histories forked).
func Migrate(ctx context.Context, src, dst string, opt MigrateOptions) (_ Result, err error) {
	defer ofContext(ctx, &err)
	var res Result
	in, err := OpenSource(ctx, src, opt.Source)
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	defer in.Close()
	if err := opt.unsupported(ctx, in, src, dst); err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	if res, ok, err := copyStore(ctx, in, dst, opt); ok {
		return res, err
	}
	lo, err := opt.loadOptions(ctx, in, dst)
	if err != nil {
		return res, fmt.Errorf("migrate: %w", err)
	}
	pr, pw := io.Pipe()
	type written struct {
		d   DumpResult
		err error
	}
	done := make(chan written, 1)
	go func() {
		d, err := in.writeStream(ctx, pw, nil, false)
		// The snapshot is let go before the load ends, which then finds
		// no reader of its own making holding its log back (a migration
		// between two stores of one file).
		in.Close()
		pw.CloseWithError(err)
		done <- written{d, err}
	}()
	lr, lerr := Load(ctx, pr, dst, lo)
	// A load that stopped early must not leave the writer blocked on the pipe.
	pr.CloseWithError(errors.New("load stopped"))
	w := <-done
	res.Records, res.Events, res.Sum = w.d.Records, w.d.Events, w.d.Sum
	res.addLoad(lr)
	if opt.OnLoaded != nil {
		opt.OnLoaded(lr)
	}
	switch {
	case w.err != nil && !errors.Is(w.err, io.ErrClosedPipe) && lerr == nil:
		return res, fmt.Errorf("migrate: read %s: %w", location.Redact(src), w.err)
	case lerr != nil:
		return res, fmt.Errorf("migrate %s to %s: %w", location.Redact(src), location.Redact(dst), lerr)
	}
	return res, nil
}

// loadOptions are the load's options: Load's own, with the batches and
// progress of the migration, and a Claim that refuses the source's store.
func (opt MigrateOptions) loadOptions(ctx context.Context, in *Source, dst string) (LoadOptions, error) {
	lo := opt.Load
	lo.BatchSize, lo.OnProgress = opt.BatchSize, opt.OnProgress
	var err error
	lo.Claim, err = notFrom(ctx, in, dst, lo.Claim)
	return lo, err
}

// sameKind reports whether dst is a database of the source's own kind:
// what one holds, the other can (its limits are the same), so there is
// nothing a read of the whole source beforehand could find.
func sameKind(in *Source, dst string) bool {
	l, err := location.Parse(dst, true)
	return err == nil && l.Driver != nil && l.Driver == in.src.Loc.Driver
}

// unsupported fails when the store in (at src), or the stream file, holds
// items dst cannot hold and no Load.Rejects takes them: read whole before
// anything is written, unless dst is of in's own kind. A stream that cannot
// be read twice (a pipe, standard input) is checked line by line, as a
// load checks it.
func (opt MigrateOptions) unsupported(ctx context.Context, in *Source, src, dst string) error {
	file, before := regularFile(src)
	if opt.Load.Rejects != nil || !(in.IsStore() || before != nil) || sameKind(in, dst) {
		return nil
	}
	if err := refuseUnsupported(ctx, src, dst, opt.Source); err != nil {
		return err
	}
	if before == nil {
		return nil
	}
	// Read twice, the file must be one: the check of another is no check.
	if after, err := os.Stat(file); err != nil || !sameFile(before, after) {
		return hint.With(fmt.Errorf("%s changed while it was read for items %s cannot hold", file, location.Redact(dst)),
			"run it again once nothing writes the file")
	}
	return nil
}

// regularFile gives the file of a stream src and what it is, where it is a
// regular file, which a second reader reads the same; nil otherwise.
func regularFile(src string) (string, os.FileInfo) {
	l, err := location.Parse(src, false)
	if err != nil || l.Kind != location.File {
		return "", nil
	}
	st, err := os.Stat(l.Target)
	if err != nil || !st.Mode().IsRegular() {
		return "", nil
	}
	return l.Target, st
}

// refuseUnsupported fails when src holds items dst cannot hold.
func refuseUnsupported(ctx context.Context, src, dst string, opt ReadOptions) error {
	bad, err := Check(ctx, src, dst, CheckOptions{ReadOptions: opt, Max: 10})
	if err != nil {
		return err
	}
	if len(bad.Items) == 0 {
		return nil
	}
	return bad.Err()
}
