package persist

import (
	"context"
	"fmt"
	"strings"

	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// CheckOptions tune Check.
type CheckOptions struct {
	ReadOptions
	// Max bounds how many items Unsupported lists (0: all); Count still
	// counts them all.
	Max int
}

// Unsupported lists the items of a source a target database cannot hold.
type Unsupported struct {
	Target string   // the target location, password masked
	Count  int64    // how many items
	Items  []string // each item and why, up to CheckOptions.Max
}

// Err is the list as an error wrapping ErrUnsupported (nil when empty).
func (u Unsupported) Err() error {
	if u.Count == 0 {
		return nil
	}
	more := ""
	if n := u.Count - int64(len(u.Items)); n > 0 {
		more = fmt.Sprintf("; and %d more", n)
	}
	return fmt.Errorf("%w: %s cannot hold %d items of the source: %s%s",
		ErrUnsupported, u.Target, u.Count, strings.Join(u.Items, "; "), more)
}

// Check reads src and reports the items the database at dst cannot hold as
// they are (a \u0000 for PostgreSQL jsonb, a key longer than its index
// takes, a number beyond its numeric range, …), writing nothing anywhere:
// what a migration would refuse, known before it starts.
func Check(ctx context.Context, src, dst string, opt CheckOptions) (_ Unsupported, err error) {
	defer ofContext(ctx, &err)
	l, err := parseTarget(dst)
	if err != nil {
		return Unsupported{}, err
	}
	in, err := OpenSource(ctx, src, opt.ReadOptions)
	if err != nil {
		return Unsupported{}, err
	}
	defer in.Close()
	return in.check(ctx, l, opt.Max)
}

// check reads the source and lists what the database at l cannot hold.
func (s *Source) check(ctx context.Context, l location.Location, max int) (Unsupported, error) {
	res := Unsupported{Target: l.String()}
	store := l.Store
	if store == "" {
		store = s.Store()
	}
	if store == "" {
		store = DefaultStore
	}
	err := s.src.Items(ctx, func(it *record.Item) error {
		if cerr := l.Driver.Check(store, it); cerr != nil {
			res.Count++
			if max <= 0 || len(res.Items) < max {
				res.Items = append(res.Items, describe(it)+": "+cerr.Error())
			}
		}
		return nil
	})
	return res, err
}
