// Package postgres is the PostgreSQL adapter.
package postgres

import "github.com/cuitty/persist/internal/adapters"

// Options tune Open.
type Options struct {
	ReadOnly bool // never write; Begin fails
}

// Adapter is a PostgreSQL database.
type Adapter struct{ adapters.Adapter }

// Open connects to the database named by a libpq URL or key=value string.
func Open(dsn string, opt Options) (*Adapter, error) { panic("unimplemented") }
