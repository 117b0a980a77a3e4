// Package all registers every adapter Persist ships. It is the one place
// outside internal/adapters that names them: importing it for its side
// effect makes each known to internal/location by its schemes.
package all

import (
	_ "github.com/cuitty/persist/internal/adapters/postgres" // postgres:, postgresql:
	_ "github.com/cuitty/persist/internal/adapters/sqlite"   // sqlite:, and SQLite files by their first bytes
)
