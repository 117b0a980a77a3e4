package persist

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/diff"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/scratch"
	"github.com/cuitty/persist/internal/source"
)

// copyStore is Migrate into a database file that does not exist yet, of
// the source's own kind, when the source's adapter can copy the store
// whole (adapters.Copier): the database engine copies it into a file
// beside dst, the copy is compared item by item with the source snapshot
// (proveCopy), and only then is the file put in place under dst's name,
// provided nothing took that name meanwhile (publish). A copy that fails,
// or does not prove equal, leaves nothing behind.
//
// ok is false, with nothing written, when this way does not apply (a
// filtered or renamed store, a database that holds more than the store, a
// target that exists): Migrate then streams the items.
func copyStore(ctx context.Context, in *Source, dst string, opt MigrateOptions) (res Result, ok bool, err error) {
	l, ok := copyTarget(in, dst, opt)
	if !ok {
		return res, false, nil
	}
	cursor := ""
	if !opt.Source.NoCursor {
		if cursor, err = in.Cursor(ctx); err != nil {
			return res, false, nil // the stream says why, or goes without
		}
	}
	start := time.Now()
	tmp := l
	tmp.Target = copyName(l.Target)
	tmp.Raw = tmp.Target
	scratch.Add(l.Driver.Files(tmp.Target)...)
	defer removeFiles(l.Driver, tmp.Target) // the name is this run's own
	if err := in.src.Copy(ctx, tmp.Target); err != nil {
		if errors.Is(err, adapters.ErrNoCopy) {
			return res, false, nil
		}
		return res, true, fmt.Errorf("migrate: %w", err)
	}
	sum, err := proveCopy(ctx, in, tmp, cursor)
	if err == nil {
		err = publish(l.Driver, tmp.Target, l.Target, sum.at)
	}
	if err != nil {
		return res, true, fmt.Errorf("migrate %s to %s: %w", in.Location(), location.Redact(dst), err)
	}
	res = Result{Records: sum.Records, Events: sum.Events, Sum: sum.Sum, Written: sum.Records + sum.Events}
	if opt.OnProgress != nil {
		opt.OnProgress(Progress{Completed: res.Written, Total: res.Written})
	}
	if opt.OnLoaded != nil {
		opt.OnLoaded(LoadResult{Target: location.Redact(dst), Store: in.Store(), Lines: res.Written,
			Written: sum.Records, Events: sum.Events, Batches: 1, Elapsed: time.Since(start)})
	}
	return res, true, nil
}

// copyTarget parses dst when a copy can make it: a file of the source's
// own kind that does not exist yet, in a directory that does, to hold the
// store under the source's name. Anything else is for the stream.
func copyTarget(in *Source, dst string, opt MigrateOptions) (location.Location, bool) {
	l, err := location.Parse(dst, true)
	if err != nil || !in.IsStore() || l.Driver == nil || l.Driver != in.src.Loc.Driver || l.Driver.Files == nil {
		return l, false
	}
	name := in.Store()
	if (l.Store != "" && l.Store != name) || (opt.Load.Store != "" && opt.Load.Store != name) {
		return l, false
	}
	return l, newFiles(l)
}

// copyName is where the copy is made: beside the target, so that putting
// it in place is a link within one directory, under a name of a fixed
// length (a target's name may be as long as the file system allows) that
// says what it is, should a crash leave it behind.
func copyName(target string) string {
	var b [6]byte
	rand.Read(b[:])
	dir := filepath.Dir(target)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // never read as a URI by the database
	}
	return filepath.Join(dir, "persist-copy-"+hex.EncodeToString(b[:])+".tmp")
}

// proven is a copy's proof: the source's sum, and the state of the copy's
// file that the proof read.
type proven struct {
	SumResult
	at fs.FileInfo
}

// proveCopy notes in the copy the cursor it was made at (as a load notes
// a stream's, for the next delta), then compares the copy with the source
// snapshot item by item, as persist-diff compares two stores (each side
// checks half of the values, and a value equal byte for byte to the other
// side's checked one needs no second check), summing the source on the
// way. It returns the source's sum, and the copy's file as it was before
// the comparison, for publish to see that nothing wrote to it since.
func proveCopy(ctx context.Context, in *Source, tmp location.Location, cursor string) (proven, error) {
	if cursor != "" {
		a, err := location.Open(ctx, tmp, false)
		if err != nil {
			return proven{}, err
		}
		err = recordChain(ctx, a, in.Store(), &record.Trailer{Cursor: cursor}, true)
		if cerr := a.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return proven{}, err
		}
	}
	at, err := os.Stat(tmp.Target)
	if err != nil {
		return proven{}, err
	}
	var t tally
	if err := compareCopy(ctx, in, tmp, &t); err != nil {
		return proven{}, err
	}
	// Readers may leave files of their own beside a database (SQLite's
	// shared-memory index); a writer's closing folds in or removes them,
	// and would change the database file if anything was written since.
	a, err := location.Open(ctx, tmp, false)
	if err == nil {
		err = a.Close()
	}
	return proven{t.result(), at}, err
}

// compareCopy merges the source and the copy, adding each of the
// source's items to t.
func compareCopy(ctx context.Context, in *Source, tmp location.Location, t *tally) error {
	src, err := source.OpenLocation(ctx, tmp, source.Options{Store: in.Store()})
	if err != nil {
		return fmt.Errorf("read the copy back: %w", err)
	}
	defer src.Close()
	ia, ib := in.src.SharedIterator(ctx, 0), src.SharedIterator(ctx, 1)
	defer ia.Close()
	defer ib.Close()
	var line []byte
	st, err := diff.Diff(ctx, ia, ib, io.Discard, diff.Options{Format: diff.Summary, NameA: in.Location(), NameB: "the copy",
		EachA: func(it *record.Item) error {
			var d [32]byte
			d, line = record.ItemDigest(it, line)
			t.add(it, d)
			return nil
		}})
	if err != nil {
		return err
	}
	if st.Differ() {
		return hint.With(fmt.Errorf("%w: the copy lacks %d of the source's items, holds %d the source does not, and %d that differ; nothing was written",
			ErrVerify, st.OnlyA, st.OnlyB, st.Changed), "run it again; if it fails again, persist-dump the source and persist-load the target")
	}
	return nil
}

// publish puts the finished copy in place under target's name, made
// durable first: a hard link, which fails rather than replace a file
// that appeared meanwhile. The copy must be as the proof read it (its
// file unchanged, nothing in a write-ahead log: a write since would go
// unproven), and the target must have no files of its own by now (a
// write-ahead log left there would be taken for the copy's).
func publish(d *adapters.Driver, tmp, target string, at fs.FileInfo) error {
	if st, err := os.Stat(tmp); err != nil {
		return fmt.Errorf("the copy, after it was proven: %w; nothing was written", err)
	} else if !sameFile(st, at) {
		return errors.New("the copy was written to after it was proven; nothing was written")
	}
	for _, f := range d.Files(tmp)[1:] {
		if st, err := os.Stat(f); err == nil && st.Size() > 0 {
			return fmt.Errorf("the copy's %s holds writes made after it was proven; nothing was written", f)
		}
	}
	return place(d, tmp, target, "the copy")
}

func sameFile(a, b fs.FileInfo) bool {
	return a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && os.SameFile(a, b)
}

// removeFiles removes what a database at target consists of.
func removeFiles(d *adapters.Driver, target string) {
	for _, f := range d.Files(target) {
		removeIfExists(f)
	}
	scratch.Drop(d.Files(target)...)
}
