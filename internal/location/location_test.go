package location

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	if err := os.WriteFile(db, []byte("SQLite format 3\x00rest"), 0o644); err != nil {
		t.Fatal(err)
	}
	stream := filepath.Join(dir, "dump.jsonl")
	if err := os.WriteFile(stream, []byte(`{"kind":"record"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in          string
		create      bool
		kind        Kind
		target      string
		store       string
		wantErrPart string
	}{
		{in: "-", kind: Stdin},
		{in: "sqlite:./data/app.db", kind: Database, target: "./data/app.db"},
		{in: "sqlite:app.db#billing", kind: Database, target: "app.db", store: "billing"},
		{in: "postgres://u:p@h/db#app", kind: Database, target: "postgres://u:p@h/db", store: "app"},
		{in: "postgresql://h/db", kind: Database, target: "postgresql://h/db"},
		{in: "postgres:postgresql://u:p@h/db", kind: Database, target: "postgresql://u:p@h/db"},
		{in: "postgres:host=h dbname=d", kind: Database, target: "host=h dbname=d"},
		{in: db, kind: Database, target: db},
		{in: db + "#app", kind: Database, target: db, store: "app"},
		{in: stream, kind: File, target: stream},
		{in: filepath.Join(dir, "new.db"), create: true, kind: Database, target: filepath.Join(dir, "new.db")},
		{in: filepath.Join(dir, "missing.db"), wantErrPart: "no such file"},
		{in: filepath.Join(dir, "missing.jsonl"), create: true, wantErrPart: "no such file"},
		{in: "sqlite:", wantErrPart: "no file path"},
		// An empty name after '#' (a script's "$LOC#$STORE" with STORE
		// unset) is refused, never a new file named app.db#; a file that
		// is named so already still opens.
		{in: "sqlite:app.db#", wantErrPart: "no store name after #"},
		{in: "postgres://u@h/db#", wantErrPart: "no store name after #"},
		{in: filepath.Join(dir, "new.db") + "#", create: true, wantErrPart: "no store name after #"},
		{in: db + "#", create: true, wantErrPart: "no store name after #"},
		{in: "postgres:host=h password=pw#", wantErrPart: "the # in the password's value"},
		{in: "postgres:host=h application_name=etl#", wantErrPart: "no store name after #"},
		{in: "postgres:host=h password='pw#'", kind: Database, target: "host=h password='pw#'"},
		// In a URL the fragment is the store's name, '/' and all; a '#'
		// before it would cut the URL short for the server.
		{in: "postgres://h/db#team/app", kind: Database, target: "postgres://h/db", store: "team/app"},
		{in: "postgres://u:p#w/x@h/db#team/app", kind: Database, target: "postgres://u:p%23w%2Fx@h/db", store: "team/app"},
		{in: "postgres:postgresql://u:p#w?x@h/db#app", kind: Database, target: "postgresql://u:p%23w%3Fx@h/db", store: "app"},
		{in: "postgres://h/db?user=u&password=ab#cd&dbname=other#s", wantErrPart: "a # in a URL's path or query"},
		{in: "postgres://h/db#a#b", wantErrPart: "a # in a URL's path or query"},
		{in: "postgres:postgresql://h/db#", wantErrPart: "no store name after #"},
		{in: "sqlite://" + filepath.Join(dir, "d#1", "new.db"), create: true, kind: Database, target: filepath.Join(dir, "d#1", "new.db")},
		{in: "sqlite:" + filepath.Join(dir, "app.db") + "#team/app", create: true, wantErrPart: "a store named \"team/app\" in it"},
		// In a keyword/value string, a '#' may be a value's: the store's
		// name begins at the last '#' outside quotes that no '=' follows,
		// and one that may as well end a password is refused.
		{in: "postgres:host=h password=ab#cd", wantErrPart: "the # in the password's value may begin a store's name"},
		{in: "postgres:host=h SSLPassword = ab#cd", wantErrPart: "the # in the sslpassword's value"},
		{in: `postgres:host=h password=a\ b#cd`, wantErrPart: "the # in the password's value"},
		{in: "postgres:host=h password=ab#cd user=u", kind: Database, target: "host=h password=ab#cd user=u"},
		{in: "postgres:host=h password='ab#cd'", kind: Database, target: "host=h password='ab#cd'"},
		{in: "postgres:host=h password='ab#cd'#app", kind: Database, target: "host=h password='ab#cd'", store: "app"},
		{in: `postgres:host=h password = 'a'b#c' dbname=d#app`, kind: Database, target: `host=h password = 'a'b#c' dbname=d`, store: "app"},
		{in: "postgres:host=h dbname=d#app", kind: Database, target: "host=h dbname=d", store: "app"},
		{in: "postgres:host=h dbname=d#a#b", kind: Database, target: "host=h dbname=d#a", store: "b"},
		// A #NAME holding '#' where the file before its first '#' exists:
		// a store "a#b" in app.db, or a new file app.db#a? Refused.
		{in: db + "#a#b", create: true, wantErrPart: "there is no file " + db + "#a, but there is " + db},
		{in: "sqlite:" + db + "#a#b", create: true, wantErrPart: "a store named \"a#b\" in it, or a new file"},
		{in: "sqlite:" + filepath.Join(dir, "new.db") + "#a#b", create: true, kind: Database, target: filepath.Join(dir, "new.db") + "#a", store: "b"},
		{in: db + "#a#b", wantErrPart: "there is no file " + db + "#a, but there is " + db},
		{in: "postgres:host=h application_name=https://ci/x password=s3cr#et", wantErrPart: "the # in the password's value"},
		{in: "postgres:host=h application_name=https://ci/x password=ab#cd user=u", kind: Database, target: "host=h application_name=https://ci/x password=ab#cd user=u"},
		{in: "postgres:host=h password\u00a0=pw#app", wantErrPart: "the # in the password's value"},
		{in: "postgres://h/db?pass%77ord=ab#cd", wantErrPart: "the # after the password parameter"},
		{in: "postgres://h/db?password=ab#cd", wantErrPart: "the # after the password parameter may begin a store's name"},
		{in: "postgres://h/db?sslmode=disable&sslpassword=k#cd", wantErrPart: "the # after the sslpassword parameter"},
		{in: "postgres://h/db?password=ab&sslmode=disable#app", kind: Database, target: "postgres://h/db?password=ab&sslmode=disable", store: "app"},
		{in: "", wantErrPart: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			l, err := Parse(tt.in, tt.create)
			if tt.wantErrPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrPart) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.in, err, tt.wantErrPart)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if l.Kind != tt.kind || l.Target != tt.target || l.Store != tt.store {
				t.Fatalf("Parse(%q) = %v %q %q, want %v %q %q", tt.in, l.Kind, l.Target, l.Store, tt.kind, tt.target, tt.store)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:secret@h/db", "postgres://u:***@h/db"},
		{"postgres:postgresql://u:s%40cret@h:5432/persist#app", "postgres:postgresql://u:***@h:5432/persist#app"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h/db?sslmode=disable&password=hunter2", "postgres://h/db?sslmode=disable&password=***"},
		{"postgres:host=h password=hunter2 dbname=d", "postgres:host=h password=*** dbname=d"},
		{"postgres:host=h password='a b' dbname=d", "postgres:host=h password=*** dbname=d"},
		{"postgres:host=h password='abc defgh", "postgres:host=h password=***"},
		{"postgres:host=h password Sekr3tPWxyz dbname=d", "postgres:host=h password *** dbname=d"},
		{"sqlite:./a.db", "sqlite:./a.db"},
		{"postgres://u:p:q@w@h/db", "postgres://u:***@h/db"},
		{"postgres://u:pa/ss@h/db", "postgres://u:***@h/db"},
		{"postgres://u:pa#ss@h/db", "postgres://u:***@h/db"},
		{"postgres://u:pa?ss@h/db#app", "postgres://u:***@h/db#app"},
		{"postgres://h:5432/db#ops@team", "postgres://h:5432/db#ops@team"},
		{"postgres://u:pw@h/db?password=x&sslmode=disable", "postgres://u:***@h/db?password=***&sslmode=disable"},
		{`postgres:host=h password=sec\ ret dbname=d`, "postgres:host=h password=*** dbname=d"},
		{"postgres://u@h/db?sslpassword=keypass&sslmode=require", "postgres://u@h/db?sslpassword=***&sslmode=require"},
		{"postgres://u@h/db?sslmode=require&SSLPASSWORD=keypass#app", "postgres://u@h/db?sslmode=require&SSLPASSWORD=***#app"},
		{"postgres:host=h sslpassword=keypass dbname=d", "postgres:host=h sslpassword=*** dbname=d"},
		{"postgres://u:p#w@h", "postgres://u:***@h"},
		{"postgres://u:p#w@h#app", "postgres://u:***@h#app"},
		{"postgres://u:p#w@h:5432/db#app", "postgres://u:***@h:5432/db#app"},
		{"postgres://u:p%23w@h/db", "postgres://u:***@h/db"},
		{"postgres://h#app", "postgres://h#app"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnmask(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:***@h/db#app":              "postgres://u@h/db#app",
		"postgres:host=h password=*** port=1":    "postgres:host=h  port=1",
		"postgres:host=h sslpassword=*** port=1": "postgres:host=h  port=1",
		"postgres://u@h/db?sslpassword=***&x=1":  "postgres://u@h/db?x=1",
		"postgres://u@h/db?x=1&sslpassword=***":  "postgres://u@h/db?x=1",
		"sqlite:a.db":                            "sqlite:a.db",
	} {
		if got := Unmask(in); got != want {
			t.Errorf("Unmask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrub(t *testing.T) {
	raw := "postgres://u:hunter2@h/db"
	got := Scrub(`pq: password authentication failed for "hunter2"`, raw)
	if strings.Contains(got, "hunter2") {
		t.Fatalf("Scrub left the password: %q", got)
	}
	broken := "postgres://u:pa/ss#x@h/db"
	if got := Scrub("cannot parse postgres://u:pa/ss#x@h/db", broken); strings.Contains(got, "pa/ss#x") {
		t.Fatalf("Scrub left the password of an invalid URL: %q", got)
	}
	for _, raw := range []string{"postgres://u@h/db?sslpassword=keypass9", "postgres://u:pw#hash9@h"} {
		secret := map[bool]string{true: "keypass9", false: "pw#hash9"}[strings.Contains(raw, "keypass9")]
		if got := Scrub("error near "+secret, raw); strings.Contains(got, secret) {
			t.Errorf("Scrub(%q) left the secret: %q", raw, got)
		}
	}
	sentinel := errors.New("sentinel")
	err := ScrubError(fmt.Errorf("%w: hunter2 at %s", sentinel, raw), raw)
	if strings.Contains(err.Error(), "hunter2") || !errors.Is(err, sentinel) {
		t.Fatalf("ScrubError = %q, errors.Is(sentinel) = %v; want it scrubbed and still wrapping", err, errors.Is(err, sentinel))
	}
}

// A location that names no file and starts with a scheme no adapter has is
// refused, to write as to read: a new SQLite file named pg:app (or
// file:app.db) was made in the working directory, and the user told the
// data had gone to the database meant. ./pg:app makes that file; an
// existing file with such a name opens.
func TestUnknownSchemeMakesNoFile(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, raw := range []string{"pg:app", "file:app.db", "mysql:x#s", "pg:app#s"} {
		if _, err := Parse(raw, true); !errors.Is(err, ErrScheme) {
			t.Errorf("Parse(%q, create) = %v, want ErrScheme", raw, err)
		}
		if _, err := Parse(raw, false); err == nil {
			t.Errorf("Parse(%q) of no file = nil error", raw)
		}
	}
	l, err := Parse("./pg:app", true)
	if err != nil || l.Kind != Database {
		t.Fatalf("Parse(./pg:app, create) = %+v, %v; want a new database file", l, err)
	}
	if err := os.WriteFile("pg:x", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("pg:x", false); errors.Is(err, ErrScheme) {
		t.Errorf("an existing file pg:x: %v", err)
	}
	// A new file in a directory whose name has a colon, or a name with
	// digits before its colon (a time), is a path.
	if err := os.Mkdir("dir:x", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"dir:x/b.db", "backup-2026-12-05T10:00:00.db", "app2:x.db"} {
		if l, err := Parse(raw, true); err != nil || l.Kind != Database {
			t.Errorf("Parse(%q, create) = %+v, %v; want a new database file", raw, l, err)
		}
	}
	if _, err := Parse("nodir:x/b.db", true); !errors.Is(err, ErrScheme) {
		t.Errorf("a directory that does not exist: %v, want ErrScheme", err)
	}
}

// A '#' refused for it may be a password's says so without any part of the
// password, and its hint works when followed.
func TestPasswordHashRefused(t *testing.T) {
	for _, tc := range []struct{ in, fixed, store string }{
		{"postgres:host=h user=u password=s3cr#t9x", "postgres:host=h user=u password='s3cr#t9x'#app", "app"},
		{"postgres:host=h user=u password=s3cr#t9x", "postgres:host=h user=u password='s3cr#t9x'", ""},
		{"postgres://u@h/db?password=s3cr#t9x", "postgres://u:s3cr%23t9x@h/db#app", "app"},
	} {
		_, err := Parse(tc.in, true)
		if !errors.Is(err, ErrLocation) {
			t.Fatalf("Parse(%q): %v, want ErrLocation", tc.in, err)
		}
		msg := err.Error() + strings.Join(hint.All(err), " ")
		if strings.Contains(msg, "s3cr") || strings.Contains(msg, "t9x") {
			t.Errorf("Parse(%q): the message shows the password: %s", tc.in, msg)
		}
		l, err := Parse(tc.fixed, true)
		if err != nil || l.Store != tc.store {
			t.Errorf("Parse(%q), as the hint says: store %q, %v; want store %q", tc.fixed, l.Store, err, tc.store)
		}
	}
}

// WithStore sets the #NAME by the rules Parse reads it with.
func TestWithStore(t *testing.T) {
	for in, want := range map[string]string{
		"sqlite:app.db#old":                      "sqlite:app.db#new",
		"sqlite:app.db":                          "sqlite:app.db#new",
		"postgres:host=h password='a#b'":         "postgres:host=h password='a#b'#new",
		"postgres:host=h password='a#b'#old":     "postgres:host=h password='a#b'#new",
		"postgres:host=h password=a#b user=u":    "postgres:host=h password=a#b user=u#new",
		"postgres://u:p#w@h/db#old":              "postgres://u:p#w@h/db#new",
		"postgres://h/db?password=x&sslmode=a#b": "postgres://h/db?password=x&sslmode=a#new",
		"postgres:host=h user=u password=pw":     "postgres:host=h user=u password=pw #new",
		"postgres://h/db?password=pw":            "postgres://h/db?password=pw&#new",
	} {
		if got := WithStore(in, "new"); got != want {
			t.Errorf("WithStore(%q, new) = %q, want %q", in, got, want)
		}
		if l, err := Parse(WithStore(in, "new"), true); err != nil || l.Store != "new" {
			t.Errorf("Parse(WithStore(%q, new)): store %q, %v", in, l.Store, err)
		}
	}
}

// A '#' in a directory's name is no store's: x#2/new.db#s, where a file x
// exists, is the store s of a new file in the directory x#2. A file whose
// name holds '#' goes before a store's name: sqlite:nightly#1.db is that
// file where it exists.
func TestStoreWithHashInDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "backup"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "backup#2"), 0o755); err != nil {
		t.Fatal(err)
	}
	night := filepath.Join(dir, "nightly#1.db")
	if err := os.WriteFile(night, []byte("SQLite format 3\x00rest"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{night, "sqlite:" + night} {
		if l, err := Parse(in, true); err != nil || l.Target != night || l.Store != "" {
			t.Errorf("Parse(%q) = %q, store %q, %v; want the file %s", in, l.Target, l.Store, err, night)
		}
	}
	for _, in := range []string{filepath.Join(dir, "backup#2", "new.db#s"), "sqlite:" + filepath.Join(dir, "backup#2", "new.db#s")} {
		l, err := Parse(in, true)
		if err != nil || l.Target != filepath.Join(dir, "backup#2", "new.db") || l.Store != "s" {
			t.Errorf("Parse(%q) = %q, store %q, %v", in, l.Target, l.Store, err)
		}
	}
}

// A hint naming a store names it so that the command it shows reads the
// same store back: with --store where the location cannot carry the name.
func TestNamedForShell(t *testing.T) {
	for _, tc := range []struct{ raw, store, want string }{
		{"sqlite:app.db", "billing", "sqlite:app.db#billing"},
		{"sqlite:app.db#old", "a#b", "sqlite:app.db --store a#b"},
		{"postgres://h/db", "a#b", "postgres://h/db --store a#b"},
		{"postgres://h/db", "team/app", "postgres://h/db#team/app"},
		{"postgres:dbname='x'", "a#b", `'postgres:dbname='\''x'\''' --store a#b`},
		{"postgres:host=h user=u password=pw", "app", "'postgres:host=h user=u  #app'"},
	} {
		if got := NamedForShell(tc.raw, tc.store); got != tc.want {
			t.Errorf("NamedForShell(%q, %q) = %s, want %s", tc.raw, tc.store, got, tc.want)
		}
	}
}

// A file whose name holds '#' (read as the whole file, as no file is
// named by the part before it) keeps it when a store is named: the name
// goes after it, where it was once put in place of the file's tail.
func TestNamedFileWithHash(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile("nightly#1.db", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, got := range []string{Named("sqlite:nightly#1.db", "app"), WithStore("sqlite:nightly#1.db", "app"), NamedForShell("sqlite:nightly#1.db", "app")} {
		if got != "sqlite:nightly#1.db#app" && got != "'sqlite:nightly#1.db#app'" {
			t.Errorf("got %s, want sqlite:nightly#1.db#app", got)
		}
	}
	l, err := Parse("sqlite:nightly#1.db#app", false)
	if err != nil || l.Target != "nightly#1.db" || l.Store != "app" {
		t.Errorf("read back: %+v, %v", l, err)
	}
	// The file's tail is a store's name where the part before it is a file.
	if err := os.WriteFile("nightly", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := WithStore("sqlite:nightly#1.db", "app"); got != "sqlite:nightly#app" {
		t.Errorf("beside a file nightly: %s", got)
	}
}

// A keyword/value connection string written without its scheme names no
// file: it is refused, to write as to read, where a writer made a SQLite
// file of that name and the data went there. The hint puts the scheme in
// front, and shows the string only when it holds no password. A file of
// that name that exists still opens, and a name merely holding '=' is a
// path.
func TestBareConnectionString(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct{ raw, fixed string }{
		{"host=db1 dbname=app", "postgres:host=db1 dbname=app"},
		{"dbname=app#s", "postgres:dbname=app#s"},
		{" user = u dbname=app", "postgres: user = u dbname=app"},
		{"host=db1 password=s3cret dbname=app", ""},
		{"sslpassword=s3cret host=db1 dbname=app", ""},
		{"Host=db1 dbname=app", "postgres:Host=db1 dbname=app"},
		{"PASSWORD=s3cret host=db1", ""},
		{"client_encoding=UTF8 dbname=app", "postgres:client_encoding=UTF8 dbname=app"},
		{"keepalives=1 dbname=app", "postgres:keepalives=1 dbname=app"},
		{"x=1 y=2", "postgres:x=1 y=2"},
	} {
		for _, create := range []bool{true, false} {
			bareRefused(t, tc.raw, tc.fixed, create)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("files made: %v", entries)
	}
	if err := os.WriteFile("host=x", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := Parse("host=x", true); err != nil || l.Target != "host=x" {
		t.Errorf("an existing file host=x: %+v, %v", l, err)
	}
	for _, raw := range []string{"a=b.db", "backup=2026.db"} {
		if l, err := Parse(raw, true); err != nil || l.Kind != Database {
			t.Errorf("Parse(%q, create) = %+v, %v; want a new database file", raw, l, err)
		}
	}
}

// bareRefused checks that raw is refused as a connection string without
// its scheme, and that fixed, the hint's form when there is one, parses.
func bareRefused(t *testing.T, raw, fixed string, create bool) {
	t.Helper()
	_, err := Parse(raw, create)
	if !errors.Is(err, ErrLocation) {
		t.Fatalf("Parse(%q, %v) = %v, want ErrLocation", raw, create, err)
	}
	hints := strings.Join(hint.All(err), "\n")
	if strings.Contains(err.Error()+hints, "s3cret") {
		t.Errorf("Parse(%q): the password shows: %v\n%s", raw, err, hints)
	}
	if !strings.Contains(hints, "put postgres: in front of it") || fixed != "" && !strings.Contains(hints, ShellQuote(fixed)) {
		t.Errorf("Parse(%q, %v) hints %q, want the scheme put in front", raw, create, hints)
	}
	if fixed == "" {
		return
	}
	if l, err := Parse(fixed, create); err != nil || l.Driver == nil || l.Driver.Name != "postgres" {
		t.Errorf("the hint followed, Parse(%q) = %+v, %v", fixed, l, err)
	}
}

// A reader of a database file that is not there says so without SQLite's
// words, and names the file a mistyped name may have meant, as a location
// the user can paste (the store kept).
func TestMissingFileNamesNearOnes(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("data", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"data/app.db", "data/apps.db", "data/other.db"} {
		if err := os.WriteFile(f, []byte("SQLite format 3\x00"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ raw, msg, hint string }{
		{"sqlite:./data/ap.db#app", "sqlite:./data/ap.db#app: ./data/ap.db: file does not exist (a reader never makes one)",
			"did you mean sqlite:./data/app.db#app or sqlite:./data/apps.db#app?"},
		{"sqlite:data/zzz.db", "sqlite:data/zzz.db: data/zzz.db: file does not exist (a reader never makes one)", ""},
		{"sqlite:nodir/app.db", "sqlite:nodir/app.db: nodir/app.db: file does not exist, nor does the directory nodir", ""},
	} {
		l, err := Parse(c.raw, false)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.raw, err)
		}
		err = checkFile(l, true)
		if !errors.Is(err, fs.ErrNotExist) || err.Error() != c.msg {
			t.Errorf("%s: %v; want %s, wrapping fs.ErrNotExist", c.raw, err, c.msg)
		}
		if got := strings.Join(hint.All(err), "; "); got != c.hint {
			t.Errorf("%s: hint %q, want %q", c.raw, got, c.hint)
		}
	}
}

func TestStdinName(t *testing.T) {
	for _, tt := range []struct {
		name string
		is   bool
	}{
		{"-", true}, {"/dev/stdin", true}, {"/dev/fd/0", true}, {"/proc/self/fd/0", true},
		{"/dev//stdin", true}, {fmt.Sprintf("/proc/%d/fd/0", os.Getpid()), true},
		{"/dev/stdout", false}, {"/dev/fd/1", false}, {"/dev/fd/00", false}, {"stdin", false}, {"./-", false}, {"/proc/1/fd/0", os.Getpid() == 1},
	} {
		if got := StdinName(tt.name); got != tt.is {
			t.Errorf("StdinName(%q) = %v, want %v", tt.name, got, tt.is)
		}
	}
}

func TestNamesDescriptor(t *testing.T) {
	for _, tt := range []struct {
		path string
		fd   int
		is   bool
	}{
		{"/dev/stdout", 1, true}, {"/dev/fd/1", 1, true}, {"/proc/self/fd/1/", 1, true}, {"/dev/stderr", 2, true}, {"/dev/fd/2", 2, true},
		{"/dev/stdout", 0, false}, {"/dev/stdin", 1, false}, {"/dev/fd/1", 2, false}, {"-", 1, false}, {"/dev/fd/10", 1, false},
		{"/proc/thread-self/fd/1", 1, true},
	} {
		if got := NamesDescriptor(tt.path, tt.fd); got != tt.is {
			t.Errorf("NamesDescriptor(%q, %d) = %v, want %v", tt.path, tt.fd, got, tt.is)
		}
	}
	// A link to a name of the descriptor, through another link, relative
	// or not, opens what it holds as well; a link to a file does not.
	dir := t.TempDir()
	for name, target := range map[string]string{"out": "/dev/stdout", "out2": "out", "err": "/proc/self/fd/2", "file": "plain"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		fd   int
		is   bool
	}{{"out", 1, true}, {"out2", 1, true}, {"out2", 2, false}, {"err", 2, true}, {"file", 1, false}, {"missing", 1, false}} {
		if got := NamesDescriptor(filepath.Join(dir, tt.name), tt.fd); got != tt.is {
			t.Errorf("NamesDescriptor(link %s, %d) = %v, want %v", tt.name, tt.fd, got, tt.is)
		}
	}
}
