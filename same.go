package persist

import (
	"context"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/source"
)

// notOneStore refuses two sources that are one store: the same database
// however it is named (another path or link to the file, another address,
// user or option for the server), and the same store in it; or one stream
// file, through two paths or as standard input. what is what
// the caller would do with the two, for the message.
func notOneStore(ctx context.Context, a, b *Source, what string) error {
	if a.src.SameFile(b.src) {
		return hint.With(fmt.Errorf("%w: %s and %s are one file: %s", ErrSameStore, a.Location(), b.Location(), what),
			"name the copy: another file, or the store it was loaded into")
	}
	ida, err := a.src.Identity(ctx)
	if err != nil || ida == "" {
		return err
	}
	idb, err := b.src.Identity(ctx)
	if err != nil {
		return err
	}
	return related(ida, idb, a.Location(), b.Location(), a.Store(), what)
}

// related refuses store identities ida and idb, of locations a and b,
// that are one store, or that may be (adapters.Relate).
func related(ida, idb, a, b, store, what string) error {
	switch r, why := adapters.Relate(ida, idb); r {
	case adapters.Same:
		return sameStoreError(a, b, store, what)
	case adapters.Unknown:
		return hint.With(fmt.Errorf("%w: %s and %s may be store %q of one database, which their connections cannot tell: %s",
			ErrSameStore, a, b, store, what), "%s", why)
	}
	return nil
}

// sameStoreError says that a and b are store of one database.
func sameStoreError(a, b, store, what string) error {
	return hint.With(fmt.Errorf("%w: %s and %s are store %q of one database: %s", ErrSameStore, a, b, store, what),
		"name the copy's own database (another file, server, database or schema), or another store in it")
}

// claim gives claim (LoadOptions.Claim) the identity of the store w is to
// write.
func (w *writer) claim(ctx context.Context, store string, claim func(string) error) error {
	if claim == nil {
		return nil
	}
	id, err := source.StoreIdentity(ctx, w.a, store)
	if err != nil || id == "" {
		return err
	}
	return claim(id)
}

// notFrom is a LoadOptions.Claim that refuses the store of in, and then
// asks next, when there is one.
func notFrom(ctx context.Context, in *Source, dst string, next func(string) error) (func(string) error, error) {
	from, err := in.src.Identity(ctx)
	if err != nil || from == "" {
		return next, err
	}
	return func(id string) error {
		if err := related(from, id, in.Location(), location.Redact(dst), in.Store(), "a migration would copy it onto itself"); err != nil {
			return err
		}
		if next != nil {
			return next(id)
		}
		return nil
	}, nil
}

// notPrimary refuses a dual-write's secondary that is the store itself:
// every write would be copied onto itself, and Verify find the two equal
// whatever either held.
func (s *Store) notPrimary(ctx context.Context, a adapters.Adapter, loc, name string) error {
	secondary, err := source.StoreIdentity(ctx, a, name)
	if err != nil || secondary == "" {
		return err
	}
	primary, err := source.StoreIdentity(ctx, s.a, s.name)
	if err != nil {
		return err
	}
	return related(primary, secondary, s.loc.String(), loc, name, "a dual-write would copy every write onto itself")
}

// secondary makes the dual-write's store name in a, the secondary's
// database, once it is known not to be the store itself.
func (s *Store) secondary(ctx context.Context, a adapters.Adapter, l location.Location, name string) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if err := s.notPrimary(ctx, a, l.String(), name); err != nil {
		return err
	}
	return createStore(ctx, a, l, name)
}

// TargetIdentity says, before a load reads a line, which store a load into
// loc would write, as LoadOptions.Claim will hear it: loc's #NAME, else
// store, else the only store the database holds. Where the stream's header
// would choose (a database holding no store yet), the store's name in it
// is empty: two such targets in one database would write one store. A
// database that does not exist yet has no identity (""). It opens the
// database read-only, and writes nothing; what would stop the load from
// opening it (a stream for a target, a server that does not answer) is
// its error.
func TargetIdentity(ctx context.Context, loc, store string) (_ string, err error) {
	defer ofContext(ctx, &err)
	l, err := parseTarget(loc)
	if err == nil {
		err = location.CheckTarget(l)
	}
	if err != nil || l.Driver.Sniff != nil && !exists(l.Target) {
		return "", err
	}
	a, err := location.Open(ctx, l, true)
	if err != nil {
		return "", err
	}
	defer a.Close()
	id, err := targetIdentity(ctx, a, l, store)
	if err != nil {
		return "", fmt.Errorf("%s: %w", l, location.ScrubError(err, l.Raw))
	}
	return id, nil
}

// targetIdentity is TargetIdentity of a database open in a.
func targetIdentity(ctx context.Context, a adapters.Adapter, l location.Location, store string) (string, error) {
	if l.Store != "" {
		store = l.Store
	}
	if store == "" {
		names, err := a.Stores(ctx)
		if err != nil {
			return "", err
		}
		if len(names) == 1 {
			store = names[0]
		}
	}
	return source.StoreIdentity(ctx, a, store)
}
