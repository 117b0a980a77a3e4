package adapters

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/cuitty/persist/internal/record"
)

// Driver plugs a kind of database into Persist: the schemes its locations
// start with, and how to open one. Each adapter package registers its Driver
// in an init function; internal/adapters/all imports them all.
type Driver struct {
	// Name is the adapter's name, as `persist import --adapter` takes it.
	Name string
	// Schemes are the prefixes that name this adapter in a location:
	// SCHEME:TARGET, and SCHEME://… where the adapter takes URLs.
	Schemes []string
	// Target turns a location's text after "SCHEME:" into what Open takes,
	// or says why it is not a location of this adapter.
	Target func(scheme, rest string) (string, error)
	// Open opens the database at target. ctx bounds the connection only.
	Open func(ctx context.Context, target string, opt OpenOptions) (Adapter, error)
	// Check is Adapter.Check without a database: what this kind of
	// database cannot hold never depends on the connection.
	Check func(store string, it *record.Item) error
	// Sniff reports whether a file that begins with head (up to SniffLen
	// bytes; none for an empty file) holds a database of this kind. Set only
	// by adapters that keep a database in one file: a path to such a file is
	// a location of its own, without a scheme.
	Sniff func(head []byte) bool
	// Files are the files a database at target (kept in files: set with
	// Sniff) consists of, the database file first: a command refuses an
	// output file that would replace any of them.
	Files func(target string) []string
	// NewFiles marks the one adapter that a bare path to a file that does
	// not exist yet names, for writers.
	NewFiles bool
	// Bare reports whether a location's text with no scheme, naming no
	// file, reads as this adapter's connection string with its scheme left
	// out (host=db dbname=app): it is refused, with a hint to add the
	// scheme, where a writer would have made a file of that name.
	Bare func(s string) bool
}

// SniffLen is how many bytes of a file Sniff is shown.
const SniffLen = 16

// OpenOptions tune Driver.Open.
type OpenOptions struct {
	// ReadOnly opens the database so that nothing can be written: Begin
	// fails, and a file that does not exist is an error, not a new database.
	ReadOnly bool
	// Scratch says that target is a new database no other program knows
	// of, made by the caller under a name of its own and put in place only
	// once whole (a load into a file that did not exist): the adapter may
	// write it without the durability and the concurrency a shared
	// database needs, and leaves it, once Close returns, as it leaves a
	// database made the ordinary way. The caller makes it durable.
	Scratch bool
}

var (
	mu      sync.RWMutex
	drivers []*Driver
)

// Register makes a driver known. It panics on a name or scheme registered
// twice, a programming error.
func Register(d *Driver) {
	mu.Lock()
	defer mu.Unlock()
	for _, o := range drivers {
		if o.Name == d.Name {
			panic(fmt.Sprintf("adapters: %s registered twice", d.Name))
		}
		for _, s := range d.Schemes {
			if slices.Contains(o.Schemes, s) {
				panic(fmt.Sprintf("adapters: scheme %s registered by %s and %s", s, o.Name, d.Name))
			}
		}
	}
	drivers = append(drivers, d)
	slices.SortFunc(drivers, func(a, b *Driver) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
}

// Drivers returns the registered drivers, by name.
func Drivers() []*Driver {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(drivers)
}

// ByScheme returns the driver a location scheme names, or nil.
func ByScheme(scheme string) *Driver {
	for _, d := range Drivers() {
		if slices.Contains(d.Schemes, scheme) {
			return d
		}
	}
	return nil
}

// ByName returns the driver of an adapter name, or nil.
func ByName(name string) *Driver {
	for _, d := range Drivers() {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Schemes returns every registered scheme, sorted.
func Schemes() []string {
	var out []string
	for _, d := range Drivers() {
		out = append(out, d.Schemes...)
	}
	slices.Sort(out)
	return out
}
