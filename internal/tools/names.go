package tools

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/cli"
	"github.com/cuitty/persist/internal/location"
)

// storeLocation is where the persist command keeps store name
// (DefaultLocation). Without $PERSIST_URL, NAME becomes the file
// ./data/NAME.db, so it must be a plain file name there: a path or a
// location given as NAME would otherwise make a file elsewhere, or one
// under ./data named after the location. again is the same command for
// another store name, for the hint that shows how to name a store kept
// elsewhere ($PERSIST_URL names its database); a verb that only reads
// gives maker too, the write that makes a store, for a database file that
// does not exist yet.
func storeLocation(ctx context.Context, name string, again, maker func(store string) string) (string, error) {
	loc := DefaultLocation(name)
	if os.Getenv("PERSIST_URL") != "" {
		if err := namesDatabase(loc); err != nil {
			return "", err
		}
		return loc, sameName(name, loc, "$PERSIST_URL")
	}
	if db, ok := locationLike(name); ok {
		return "", cli.Hint(fmt.Errorf("%s is a location, not a store's name: a store NAME is kept at ./data/NAME.db", location.ShellQuote(location.Redact(name))),
			"%s", elsewhereHint(ctx, db, again, maker))
	}
	why := badFileName(name)
	if why == "" || kept(name) {
		return loc, nil
	}
	err := fmt.Errorf("store name %s cannot be kept as ./data/NAME.db: %s", jsonQuote(name), why)
	switch {
	case maker != nil:
		// A read finds no store under such a name: none can be made.
		return "", cli.Hint(err, "persist stores lists the stores kept in ./data")
	case name == "":
		return "", cli.Hint(err, "give the store a name, e.g. %s", again("my-app"))
	}
	return "", cli.Hint(err, "give a name that is a plain file name, e.g. %s; or keep the store in a database named by $PERSIST_URL, where any name goes: PERSIST_URL=sqlite:stores.db %s",
		again("my-app"), again(name))
}

// kept reports whether ./data/NAME.db is there already for a name that
// starts with '.' or '-': earlier releases made such files, and their
// stores stay reachable by name.
func kept(name string) bool {
	if name == "" || strings.ContainsAny(name, "/#\x00") || strings.ContainsRune(name, filepath.Separator) {
		return false
	}
	st, err := os.Stat(strings.TrimPrefix(DefaultLocation(name), "sqlite:"))
	return err == nil && st.Mode().IsRegular()
}

// badFileName says why name is not a plain file name for ./data/NAME.db
// ("" when it is one). '#' would be read as a location's store part, and
// names starting with '.' or '-' are hidden files or read as options.
func badFileName(name string) string {
	switch {
	case name == "":
		return "it is empty"
	case strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator):
		return "it holds a '/'"
	case strings.HasPrefix(name, "."):
		return "it starts with '.'"
	case strings.HasPrefix(name, "-"):
		return "it starts with '-'"
	case strings.ContainsRune(name, '#'):
		return "it holds a '#'"
	case strings.ContainsRune(name, 0):
		return "it holds a NUL byte"
	case len(name) > maxFileName-len(".db-journal"):
		// SQLite's own files beside it must fit too.
		return fmt.Sprintf("it is %d bytes long, and a file name here is at most %d with its .db-journal", len(name), maxFileName)
	}
	return ""
}

// maxFileName is the longest file name most file systems take, in bytes.
const maxFileName = 255

// locationLike reports whether name is a database location (a scheme of
// an adapter, or a path), as someone would give it meaning a database.
func locationLike(name string) (location.Location, bool) {
	l, err := location.Parse(name, true)
	if err != nil || !l.IsStore() {
		return l, false
	}
	rest, _, _ := strings.Cut(name, "#")
	return l, l.Target != rest || strings.ContainsRune(name, '/')
}

// elsewhereHint is the command that uses a store in the database db, with
// the store db names, or the one it holds, or for a new file its base name.
func elsewhereHint(ctx context.Context, db location.Location, again, maker func(store string) string) string {
	loc := db.Raw
	if db.Target == db.Raw {
		loc = db.Driver.Schemes[0] + ":" + db.Raw
	}
	url := location.ShellQuote(location.Unmask(location.Redact(strings.TrimSuffix(loc, "#"+db.Store))))
	mkdir := mkdirFirst(db)
	run := func(store string) string {
		return fmt.Sprintf("for a store in another database, name the database with $PERSIST_URL: %sPERSIST_URL=%s %s", mkdir, url, again(store))
	}
	if db.Store != "" {
		return run(db.Store)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	infos, err := persist.Stores(ctx, loc)
	switch {
	case err == nil && len(infos) == 1:
		return run(infos[0].Name)
	case err == nil && len(infos) > 1:
		return fmt.Sprintf("list the stores it holds with: persist stores %s; then name one, with the database in $PERSIST_URL: PERSIST_URL=%s %s", url, url, again("STORE"))
	}
	base := strings.TrimSuffix(filepath.Base(db.Target), filepath.Ext(db.Target))
	if badFileName(base) != "" || !db.Driver.NewFiles {
		base = "my-app" // a server's database gives no name to go by
	}
	if _, err := os.Stat(db.Target); err != nil && db.Driver.NewFiles && maker != nil {
		return fmt.Sprintf("%s does not exist either; for a store in another database, name the database with $PERSIST_URL, and the first write makes it: %sPERSIST_URL=%s %s",
			db.Target, mkdir, url, maker(base))
	}
	return run(base)
}

// command is a persist command line, its arguments quoted for the shell,
// with "--" before them when one would be read as an option.
func command(verb string, flags []string, args ...string) string {
	var b strings.Builder
	b.WriteString("persist " + verb)
	for _, f := range flags {
		b.WriteString(" " + f)
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			b.WriteString(" --")
			break
		}
	}
	for _, a := range args {
		b.WriteString(" " + location.ShellQuote(a))
	}
	return b.String()
}

// missingStore is the error for a store the persist command keeps at its
// default location that does not exist (nil when it does): a typo must
// not pass for an empty store. makeCmd is the command that makes it.
func missingStore(name, loc, makeCmd string) error {
	dir, ok := defaultDir(loc)
	if !ok {
		return nil
	}
	path := strings.TrimPrefix(loc, "sqlite:")
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return noStoreHint(fmt.Errorf("no store %s: %s does not exist (in %s)", name, path, dirOf(dir)), name, loc, makeCmd)
}

// noStoreHint is the hint for a store name that loc does not hold: where
// to see those it does, and makeCmd, the write that makes it, both run
// against loc: a location given by --location is not where persist
// stores and a write look by themselves ($PERSIST_URL, else ./data).
func noStoreHint(err error, name, loc, makeCmd string) error {
	if loc == DefaultLocation(name) {
		return cli.Hint(err, "list the stores with: persist stores; make one with: %s", makeCmd)
	}
	db := location.ForShell(databaseOf(loc))
	return cli.Hint(err, "list the stores it holds with: persist stores %s; make one there with: PERSIST_URL=%s %s%s", db, db, makeCmd, passwordNote(loc))
}

// databaseOf is loc without the #NAME that picks a store: the database
// that persist stores lists.
func databaseOf(loc string) string {
	if l, err := location.Parse(loc, false); err == nil && l.Store != "" {
		return strings.TrimSuffix(loc, "#"+l.Store)
	}
	return loc
}

// sameName refuses a location that names a store (LOC#STORE) other than
// the command's NAME: the one or the other would be read or written
// unasked. what says where the location came from, for the message.
func sameName(name, loc, what string) error {
	l, rest, ok := otherName(name, loc)
	if !ok {
		return nil
	}
	return cli.Hint(fmt.Errorf("%s (%s) names store %s, but the command names store %s", what, location.Redact(loc), jsonQuote(l), jsonQuote(name)),
		"name the same store in both, or leave #%s out of %s (%s): the command's NAME then says which store", l, what, rest)
}

// otherName is the store loc names when it is not name, and loc without it.
func otherName(name, loc string) (store, rest string, ok bool) {
	l, err := location.Parse(loc, true)
	if err != nil || l.Store == "" || l.Store == name {
		return "", "", false
	}
	return l.Store, strings.TrimSuffix(location.Redact(loc), "#"+l.Store), true
}

// sourceAndTarget refuses, before anything is read, a --source naming
// another store than NAME (sameSource) and a --target that is the source
// itself (notItself).
func sourceAndTarget(verb, name, source, target, store string) error {
	if err := sameSource(verb, name, source, target); err != nil {
		return err
	}
	return notItself(verb, name, source, target, store)
}

// notItself refuses a --target that is the source itself: the same store
// in the same database file (through any path or link) or at the same
// connection. verify would prove the store equal to itself, migrate copy it
// onto itself: either is a --target mistyped. store is the target's store
// when a flag names it (migrate's --store). Two spellings of one server
// are not told apart; two files are always.
func notItself(verb, name, source, target, store string) error {
	ls, err := location.Parse(source, false)
	if err != nil || !ls.IsStore() {
		return nil
	}
	lt, err := location.Parse(target, true)
	if store == "" {
		store = storeOf(lt, name)
	}
	if err != nil || !lt.IsStore() || lt.Driver != ls.Driver || storeOf(ls, name) != store || !sameDatabase(ls, lt) {
		return nil
	}
	return cli.Hint(fmt.Errorf("--target (%s) is the source itself, store %s of %s: %s would %s",
		location.Redact(target), jsonQuote(store), location.Redact(source), verb, map[string]string{
			"verify": "prove it equal to itself", "migrate": "copy it onto itself"}[verb]),
		"name the database of the copy in --target, or another store in it: %s%s",
		command(verb, []string{"--source " + location.ForShell(source), "--target LOCATION"}, name), passwordNote(source))
}

// storeOf is the store l names, or name.
func storeOf(l location.Location, name string) string {
	if l.Store != "" {
		return l.Store
	}
	return name
}

// sameDatabase reports whether a and b, of one adapter, are one database:
// the same file, or the same connection string.
func sameDatabase(a, b location.Location) bool {
	fa, fb := location.Files(a.Raw), location.Files(b.Raw)
	if len(fa) == 0 || len(fb) == 0 {
		return len(fa) == len(fb) && a.Target == b.Target
	}
	sa, err := os.Stat(fa[0])
	if err != nil {
		return false
	}
	sb, err := os.Stat(fb[0])
	return err == nil && os.SameFile(sa, sb)
}

// sameSource is sameName for the --source of migrate and verify, whose
// --target may name another store: the copy's name.
func sameSource(verb, name, source, target string) error {
	l, rest, ok := otherName(name, source)
	if !ok {
		return nil
	}
	if t, err := location.Parse(target, true); err == nil && t.Store == "" && target != "-" {
		target = location.WithStore(target, name) // the copy keeps the name asked for
	}
	return cli.Hint(fmt.Errorf("--source (%s) names store %s, but the command names store %s", location.Redact(source), jsonQuote(l), jsonQuote(name)),
		"NAME is the source's store, and the target's unless --target names another: %s%s",
		command(verb, []string{"--source " + location.ForShell(rest), "--target " + location.ForShell(location.Redact(target))}, l), passwordNote(source, target))
}

// mkdirFirst is the mkdir a hint puts before a write into a new database
// file whose folder is not there: a write makes the file, not the folder.
func mkdirFirst(db location.Location) string {
	dir := filepath.Dir(db.Target)
	if !db.Driver.NewFiles || isDirectory(dir) {
		return ""
	}
	return "mkdir -p " + location.ShellQuote(dir) + " && "
}

// isDirectory reports whether path is a directory there is.
func isDirectory(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// namesDatabase refuses a $PERSIST_URL that names no database: a stream
// ("-", a pipe) would be read as the store, or written as none, and a
// location that does not parse would be refused with no word of where it
// came from.
func namesDatabase(u string) error {
	const how = "$PERSIST_URL names the database the stores are kept in, e.g. export PERSIST_URL=sqlite:stores.db " +
		"(or postgres://HOST/DB); unset it to keep each store at ./data/NAME.db"
	l, err := location.Parse(u, true)
	switch {
	case err != nil:
		return cli.Hint(fmt.Errorf("$PERSIST_URL: %w", err), how)
	case !l.IsStore():
		return cli.Hint(fmt.Errorf("$PERSIST_URL is %s, a stream, not a database", location.ShellQuote(location.Redact(u))), how)
	}
	return nil
}
