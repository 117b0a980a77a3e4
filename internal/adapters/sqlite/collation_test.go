package sqlite

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

// A column that names a store, a record or an event declared with another
// collation than BINARY (a hand-made schema) would take names that differ
// for one: store "a" would read store "A"'s rows as its own, and two stores
// that differ would sum alike. Every reader and writer refuses such a file
// before a row is read, naming the column; the hint, followed (the table
// made again without COLLATE, its rows copied), puts it right.
func TestNameColumnsCompareBytes(t *testing.T) {
	for _, col := range nameColumns {
		for _, coll := range []string{"NOCASE", "RTRIM"} {
			t.Run(col[0]+"."+col[1]+"/"+coll, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "app.db")
				if err := os.WriteFile(path, nil, 0o644); err != nil { // an empty file is an empty database
					t.Fatal(err)
				}
				var ddl []string
				declared := regexp.MustCompile(`(\n\s*` + col[1] + `\s+TEXT (NOT NULL|PRIMARY KEY))`)
				for _, q := range tablesDDL {
					if strings.Contains(q, " "+col[0]+" (") {
						odd := declared.ReplaceAllString(q, "$1 COLLATE "+coll)
						if odd == q {
							t.Fatalf("no column %s in %s", col[1], q)
						}
						q = odd
					}
					ddl = append(ddl, q)
				}
				execAll(t, path, append(ddl, `INSERT INTO persist_stores VALUES ('a', '2026-11-25T12:00:00.000000Z')`,
					`INSERT INTO persist_records VALUES ('a', 'c', 'k', 1, '2026-11-25T12:00:00.000000Z', 0, '1', NULL)`)...)
				a := open(t, path, Options{})
				defer a.Close()
				want := fmt.Sprintf("column %s.%s compares text by a collation other than BINARY", col[0], col[1])
				_, err := a.Snapshot(t.Context(), "a")
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Snapshot: %v, want %q", err, want)
				}
				if h := strings.Join(hint.All(err), " "); !strings.Contains(h, "make "+col[0]+" again") {
					t.Fatalf("Snapshot: hints %q do not say to make %s again", h, col[0])
				}
				if _, err := a.Begin(t.Context(), "a"); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Begin: %v, want %q", err, want)
				}
				a.Close()

				for _, q := range tablesDDL {
					if strings.Contains(q, " "+col[0]+" (") {
						execAll(t, path, `ALTER TABLE `+col[0]+` RENAME TO old`, q,
							`INSERT INTO `+col[0]+` SELECT * FROM old`, `DROP TABLE old`)
					}
				}
				b := open(t, path, Options{})
				defer b.Close()
				s, err := b.Snapshot(t.Context(), "a")
				if err != nil {
					t.Fatalf("after the hint: %v", err)
				}
				s.Close()

				// The same adapter, open on, sees the collation come back:
				// what it found before holds only while the schema is the same.
				for _, q := range ddl {
					if strings.Contains(q, " "+col[0]+" (") {
						execAll(t, path, `ALTER TABLE `+col[0]+` RENAME TO old`, q,
							`INSERT INTO `+col[0]+` SELECT * FROM old`, `DROP TABLE old`)
					}
				}
				if _, err := b.Snapshot(t.Context(), "a"); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Snapshot of an adapter open since before the collation came back: %v, want %q", err, want)
				}
			})
		}
	}
}
