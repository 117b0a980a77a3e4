// Package sqlite is the SQLite adapter: a store in a file, the embedded default.
package sqlite

import "github.com/cuitty/persist/internal/adapters"

// Options tune Open.
type Options struct {
	ReadOnly bool // open the file read-only; Begin fails
}

// Adapter is a SQLite database file.
type Adapter struct{ adapters.Adapter }

// Open opens (creating unless read-only) the SQLite file at path.
func Open(path string, opt Options) (*Adapter, error) { panic("unimplemented") }
