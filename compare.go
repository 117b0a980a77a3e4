package persist

import (
	"context"
	"errors"
	"io"
	"sync"
)

// CompareOptions tune Compare.
type CompareOptions struct {
	// ReadOptions apply to both sides (the store name, a filter).
	ReadOptions
	// Detail, when not nil, receives persist-diff's human output of what
	// differs, A being the first location.
	Detail io.Writer
	// Unsupported, when the sides differ, also lists A's items B's
	// database cannot hold (at most this many; 0: none): one reason the
	// two can never agree, said before anyone tries to copy them.
	Unsupported int
}

// Comparison is what Compare found.
type Comparison struct {
	A, B       string // the locations, passwords masked
	SumA, SumB SumResult
	// Diff counts what differs, when Diffed: the sums differed and both
	// sides could be read a second time (a pipe cannot).
	Diff   DiffResult
	Diffed bool
	// Unsupported lists A's items B's database cannot hold (see
	// CompareOptions.Unsupported), when the sides differ and A could be
	// read a second time.
	Unsupported Unsupported
}

// Equal reports whether both sides hold the same items: equal counts and
// equal persist1 sums, both of them summed. A Comparison that Compare
// returned with an error summed one side or none, and is never equal.
func (c Comparison) Equal() bool { return c.SumA.Sum != "" && c.SumA == c.SumB }

// Compare computes the persist1 sums of a and b side by side, each store in
// one consistent snapshot, and when they differ, counts what differs (and
// writes it to opt.Detail). Two locations of one store (ErrSameStore) are
// refused: they would be found equal whatever the store holds. It is what `persist verify` prints and what
// DualWrite.Verify checks.
func Compare(ctx context.Context, a, b string, opt CompareOptions) (_ Comparison, err error) {
	defer ofContext(ctx, &err)
	sa, sb, err := openSources(ctx, a, b, opt.ReadOptions)
	if err != nil {
		return Comparison{}, err
	}
	defer sa.Close()
	defer sb.Close()
	if err := notOneStore(ctx, sa, sb, "a comparison would find it equal to itself"); err != nil {
		return Comparison{A: sa.Location(), B: sb.Location()}, err
	}
	return compareSources(ctx, sa, sb, opt, a, b)
}

// compareSources sums both sources at once and diffs them when the sums
// differ. A store's snapshot is read a second time for the diff, so both
// passes see the same instant; a stream is read again only from a file.
func compareSources(ctx context.Context, sa, sb *Source, opt CompareOptions, rawA, rawB string) (Comparison, error) {
	c := Comparison{A: sa.Location(), B: sb.Location()}
	var (
		wg         sync.WaitGroup
		errA, errB error
	)
	// One side failing stops the other: its sum would be of no use.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sum := func(s *Source, into *SumResult, err *error) {
		defer wg.Done()
		if *into, _, *err = s.Sum(sctx, SumOptions{}); *err != nil {
			cancel()
		}
	}
	wg.Add(2)
	go sum(sa, &c.SumA, &errA)
	go sum(sb, &c.SumB, &errB)
	wg.Wait()
	if errA != nil && (errB == nil || !errors.Is(errA, context.Canceled)) {
		return c, errA
	}
	if errB != nil {
		return c, errB
	}
	if c.Equal() {
		return c, nil
	}
	if err := c.checkUnsupported(ctx, sa, sb, opt, rawA, rawB); err != nil {
		return c, err
	}
	var err error
	if sa, err = again(ctx, sa, rawA, opt.ReadOptions); err != nil || sa == nil {
		return c, err
	}
	defer sa.Close()
	if sb, err = again(ctx, sb, rawB, opt.ReadOptions); err != nil || sb == nil {
		return c, err
	}
	defer sb.Close()
	c.Diffed = true
	w := opt.Detail
	format := DiffHuman
	if w == nil {
		w, format = io.Discard, DiffSummary
	}
	c.Diff, err = diffSources(ctx, sa, sb, w, DiffOptions{Format: format, ReadOptions: opt.ReadOptions}, rawA, rawB)
	return c, err
}

// checkUnsupported lists A's items B's database cannot hold, reading A a
// second time where it can be.
func (c *Comparison) checkUnsupported(ctx context.Context, sa, sb *Source, opt CompareOptions, rawA, rawB string) error {
	if opt.Unsupported <= 0 || !sb.IsStore() {
		return nil
	}
	a, err := again(ctx, sa, rawA, opt.ReadOptions)
	if err != nil || a == nil {
		return err
	}
	defer a.Close()
	target := sb.src.Loc
	target.Store = sb.Store()
	c.Unsupported, err = a.check(ctx, target, opt.Unsupported)
	return err
}

// again returns a source to read a second time: a store's own snapshot
// (wrapped so that closing it is left to its owner), a file opened anew, or
// nil for a stream that cannot be read again.
func again(ctx context.Context, s *Source, raw string, opt ReadOptions) (*Source, error) {
	switch {
	case s.IsStore():
		return &Source{src: s.src, borrowed: true}, nil
	case s.rereadable():
		return OpenSource(ctx, raw, opt)
	}
	return nil, nil
}
