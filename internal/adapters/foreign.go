package adapters

import "fmt"

// ForeignCodeError is Tx.ForeignCode's error for code of kind ("trigger",
// "rule") named name on table, both as the database quotes them.
func ForeignCodeError(kind, name, table string) error {
	return fmt.Errorf("%w: %s %s on %s runs as the store is written, and could change or delete rows written "+
		"and read back before it, where no read-back looks again", ErrForeignCode, kind, name, table)
}
