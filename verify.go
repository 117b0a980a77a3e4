package persist

import (
	"context"
	"fmt"
	"strings"
)

// maxDetail bounds the persist-diff output a VerifyError carries: enough to
// see what went wrong, not a copy of two diverged stores.
const maxDetail = 64 << 10

// VerifyError is the error of a Verify that found the two stores different.
// It wraps ErrVerify.
type VerifyError struct {
	Primary, Secondary       string // locations, passwords masked
	PrimarySum, SecondarySum SumResult
	Diff                     DiffResult
	// Detail is persist-diff's human output, primary as A and secondary as
	// B, cut after 64 KiB.
	Detail string
}

func (e *VerifyError) Error() string {
	msg := fmt.Sprintf("verify: %s and %s differ: %s against %s; %s",
		e.Primary, e.Secondary, e.PrimarySum, e.SecondarySum, e.Diff)
	if e.Detail != "" {
		msg += "\n" + strings.TrimRight(e.Detail, "\n")
	}
	return msg
}

func (e *VerifyError) Unwrap() error { return ErrVerify }

// Verify compares the persist1 sums of the primary and the secondary, as
// persist-sum computes them, and returns a *VerifyError (wrapping ErrVerify)
// carrying persist-diff's detail when they differ.
//
// It first drains the pending queue (an error wrapping ErrDegraded when the
// secondary is still behind), then pauses writes through the store just long
// enough to open a snapshot of each side: both then show the same writes, so
// Verify is exact even while the application keeps writing.
func (d *DualWrite) Verify(ctx context.Context) (err error) {
	defer ofContext(ctx, &err)
	if err := d.active(); err != nil {
		return err
	}
	d.drainMu.Lock()
	defer d.drainMu.Unlock()
	// Drained before the pause too, so that the pause itself is short.
	d.drain(ctx, d.opt.Retries)

	s := d.s
	s.mu.Lock()
	// One attempt only: writes wait while this runs.
	err = d.drain(ctx, 0)
	if st := d.Status(); err != nil || st.Degraded {
		s.mu.Unlock()
		return fmt.Errorf("verify: %w", d.degraded(st, err))
	}
	a, b, err := d.openBoth(ctx)
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer a.Close()
	defer b.Close()
	var detail capped
	c, err := compareSources(ctx, a, b, CompareOptions{Detail: &detail}, s.loc.Raw, d.loc.Raw)
	switch {
	case err != nil && c.SumA.Sum != "" && c.SumB.Sum != "" && !c.Equal():
		return fmt.Errorf("verify: sums differ (%s against %s), and the diff failed: %w", c.SumA, c.SumB, err)
	case err != nil:
		return fmt.Errorf("verify: %w", err)
	case c.Equal():
		return nil
	}
	return &VerifyError{
		Primary: s.loc.String(), Secondary: d.loc.String(),
		PrimarySum: c.SumA, SecondarySum: c.SumB,
		Diff: c.Diff, Detail: detail.String(),
	}
}

// openBoth opens a read-only snapshot of each side. Counting pins each
// snapshot to this instant, whatever the adapter defers.
func (d *DualWrite) openBoth(ctx context.Context) (*Source, *Source, error) {
	a, err := OpenSource(ctx, d.s.loc.Raw, ReadOptions{Store: d.s.name})
	if err != nil {
		return nil, nil, err
	}
	if _, _, _, err := a.Counts(ctx); err != nil {
		a.Close()
		return nil, nil, err
	}
	b, err := OpenSource(ctx, d.loc.Raw, ReadOptions{Store: d.name})
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	if _, _, _, err := b.Counts(ctx); err != nil {
		a.Close()
		b.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// capped keeps the first maxDetail bytes written to it and notes the rest.
type capped struct {
	b   strings.Builder
	cut bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxDetail - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
		c.cut = c.cut || len(p) > room
	} else {
		c.cut = true
	}
	return len(p), nil
}

func (c *capped) String() string {
	if c.cut {
		return c.b.String() + "\n… (cut; run persist-diff for all of it)"
	}
	return c.b.String()
}
