package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/kong"
	"github.com/cuitty/persist/internal/location"
)

// Common holds the flags every tool has.
type Common struct {
	Version  kong.VersionFlag `help:"Print the version and exit."`
	Quiet    bool             `short:"q" help:"Print no progress, no summary and no warnings; errors only."`
	Verbose  bool             `short:"v" help:"Print the summary on stderr even when it is not a terminal (off a terminal, success is silent)."`
	Progress bool             `help:"Show progress on stderr even when it is not a terminal, or when stdout is a pipe."`
	Summary  string           `help:"Write the run's result as one JSON object to FILE, even when it fails (docs/summary.md); - is stdout where stdout carries no data." placeholder:"FILE"`
}

// Parse parses args into grammar with kong. It returns done=true with the
// exit status when the command must stop here: --help and --version (0),
// or a usage error (2, reported on stderr with a hint).
//
// "help VERB…" is "VERB… --help" for a command that has verbs.
func Parse(name, description string, grammar any, args []string, stdout, stderr io.Writer) (ctx *kong.Context, code int, done bool) {
	ctx, code, done, _ = parse(name, description, grammar, args, stdout, stderr)
	return ctx, code, done
}

// parse is Parse, with the usage error it reported (nil for --help and
// --version), for the summary of a command that did not parse.
func parse(name, description string, grammar any, args []string, stdout, stderr io.Writer) (ctx *kong.Context, code int, done bool, usage error) {
	exited := -1
	parser := mustParser(name, description, grammar, stdout, stderr, func(c int) { exited = c })
	if len(args) > 0 && args[0] == "help" && hasChild(parser.Model.Node, "help") {
		args = append(slices.Clone(args[1:]), "--help")
	}
	if err := validArgs(args); err != nil {
		Report(stderr, name, err)
		return nil, ExitTrouble, true, err
	}
	ctx, err := parser.Parse(args)
	if exited >= 0 {
		return nil, exited, true, nil
	}
	var werr *fs.PathError
	if errors.As(err, &werr) && werr.Op == "write" {
		// --help into a closed or full standard output: not a usage error.
		Report(stderr, name, err)
		return nil, ExitTrouble, true, err
	}
	if err != nil {
		// Parse errors can echo a flag value: never let a password through.
		msg := err.Error()
		for _, a := range args {
			msg = location.Scrub(msg, a)
		}
		usage := parseHint(name, helpName(parser, name, args), args, msg, errors.Is(err, errEmptyName))
		Report(stderr, name, usage)
		return nil, ExitTrouble, true, usage
	}
	err = emptyFlag(ctx)
	if err == nil {
		err = repeatedFlag(ctx)
	}
	if err != nil {
		Report(stderr, name, err)
		return nil, ExitTrouble, true, err
	}
	return ctx, ExitOK, false, nil
}

// validArgs refuses an argument that is not UTF-8: the parser would turn
// each invalid byte into U+FFFD, so that two keys, or two paths, that differ
// only there would name the same one.
func validArgs(args []string) error {
	for i, a := range args {
		if !utf8.ValidString(a) {
			// Not echoed: the argument may be a location with a password.
			at := invalidAt(a)
			return Hint(fmt.Errorf("argument %d is not valid UTF-8 (byte %#x at offset %d)", i+1, a[at], at),
				"names and values in a store are UTF-8 (a JSON value may spell other text with \\u escapes); "+
					"a file whose name is not UTF-8 can be given by a symlink with a UTF-8 name")
		}
	}
	return nil
}

// invalidAt is the offset of the first byte of s that is not UTF-8.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return i
			}
		}
	}
	return len(s)
}

// emptyFlag refuses a flag given an empty value, and a store NAME (every
// verb's argument of that name) given as "": a collection or a key may be
// "", a store may not, for a verb would act on the only store of the
// database, whatever its name. No flag means anything
// by "": `-o "$BACKUP"` with BACKUP unset would otherwise write the dump to
// stdout, `--cursor-file ""` keep no cursor, `--since ""` dump everything,
// each as if the flag were not there, and exit 0.
func emptyFlag(ctx *kong.Context) error {
	for _, p := range ctx.Path {
		if err := emptyPositional(ctx, p); err != nil {
			return err
		}
		if p.Flag == nil {
			continue
		}
		empty := false
		switch v := ctx.FlagValue(p.Flag).(type) {
		case string:
			empty = v == ""
		case []string:
			empty = len(v) == 0
		}
		switch {
		case empty && p.Flag.Required:
			return Hint(fmt.Errorf("--%s '': the value is empty (was the shell variable empty?)", p.Flag.Name),
				"give --%s a value: it is required", p.Flag.Name)
		case empty:
			return Hint(fmt.Errorf("--%s '': the value is empty (was the shell variable empty?)", p.Flag.Name),
				"give --%s a value, or leave it out", p.Flag.Name)
		}
	}
	return nil
}

// repeatedFlag refuses a flag of one value given more than once: the
// parser keeps the last, so that `verify --target A --target B` would
// check B alone and exit 0 with A never looked at, `--if-version 1
// --if-version 2` compare against 2. A flag that takes a list takes each.
func repeatedFlag(ctx *kong.Context) error {
	seen := map[*kong.Flag]int{}
	for _, p := range ctx.Path {
		f := p.Flag
		if f == nil || f.IsSlice() || f.IsMap() || f.IsCounter() || f.IsBool() {
			continue
		}
		if seen[f]++; seen[f] == 2 {
			return Hint(fmt.Errorf("--%s is given more than once: it takes one value, and only the last would count", f.Name),
				"give --%s once (run the command once for each value)", f.Name)
		}
	}
	return nil
}

// emptyPositional refuses a store NAME given as "", and an optional
// LOCATION given so: not one left out, listed as the default's, `persist
// stores "$DB"` with DB unset would answer for other databases than the
// one meant.
func emptyPositional(ctx *kong.Context, p *kong.Path) error {
	if p.Positional == nil {
		return nil
	}
	v := ctx.Value(p)
	if v.Kind() != reflect.String || v.String() != "" {
		return nil
	}
	switch {
	case p.Positional.Name == "name":
		return Hint(errors.New("NAME '': the store's name is empty (was the shell variable empty?)"),
			"give the store's name; persist stores lists the stores of a database")
	case p.Positional.Name == "location" && !p.Positional.Required:
		return Hint(errors.New("LOCATION '': the location is empty (was the shell variable empty?)"),
			"give the database, or leave LOCATION out for the default")
	}
	return nil
}

// mustParser builds the kong parser of a command's grammar, the one model
// --help, the man page and completion are all made from.
func mustParser(name, description string, grammar any, stdout, stderr io.Writer, exit func(int)) *kong.Kong {
	parser, err := kong.New(grammar,
		kong.Name(name),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(exit),
		kong.Vars{"version": VersionString(name)},
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
		kong.NamedMapper("names", kong.MapperFunc(decodeNames)),
		kong.TypeMapper(reflect.TypeFor[int64](), kong.MapperFunc(decodeDecimal)),
		kong.TypeMapper(reflect.TypeFor[int](), kong.MapperFunc(decodeDecimal)),
	)
	if err != nil {
		panic(fmt.Sprintf("%s: bad command grammar: %v", name, err)) // a programming error
	}
	return parser
}

var errEmptyName = errors.New("holds an empty name")

// decodeNames reads one occurrence of a repeatable, comma-separated flag
// of names (type:"names") and appends them. kong's own splitting drops an
// empty piece (--collection "users,$C", --collection "$C" after another
// --collection), which would make an unset variable pass unseen: here
// every empty name is an error. A name may hold a comma written \, (a
// name that ends in a backslash then takes a flag of its own).
func decodeNames(ctx *kong.DecodeContext, target reflect.Value) error {
	var s string
	if err := ctx.Scan.PopValueInto("names", &s); err != nil {
		return err
	}
	for _, name := range splitNames(s) {
		if name == "" {
			return fmt.Errorf("%q %w (was a shell variable empty?)", s, errEmptyName)
		}
		target.Set(reflect.Append(target, reflect.ValueOf(name)))
	}
	return nil
}

// splitNames splits s at each comma but one written \, (a comma of the
// name); any other backslash stays as it is.
func splitNames(s string) []string {
	var names []string
	var name strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ',':
			i++
			name.WriteByte(s[i])
		case s[i] == ',':
			names = append(names, name.String())
			name.Reset()
		default:
			name.WriteByte(s[i])
		}
	}
	return append(names, name.String())
}

// decimalGroups is a decimal number with _ between its digits (1_000), as
// Go's own syntax spells one.
var decimalGroups = regexp.MustCompile(`^[+-]?[0-9]+(_[0-9]+)+$`)

// decodeDecimal reads a number in decimal only. kong's own reads 010 as
// eight and 0x10 as sixteen: a script that pads versions with zeros would
// pass --if-version a version the record does not have.
func decodeDecimal(ctx *kong.DecodeContext, target reflect.Value) error {
	var s string
	if err := ctx.Scan.PopValueInto("number", &s); err != nil {
		return err
	}
	n, err := strconv.ParseInt(s, 10, target.Type().Bits())
	if err != nil && decimalGroups.MatchString(s) {
		n, err = strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, target.Type().Bits())
	}
	if err != nil {
		return fmt.Errorf("expected a decimal integer but got %q", s)
	}
	target.SetInt(n)
	return nil
}

// negativeValue is kong's error for a flag given a negative number, which
// it reads as a short flag.
var negativeValue = regexp.MustCompile(`^(--[a-z][a-z-]*): expected .* but got "(-[0-9][^"]*)" \(short flag\)`)

// negativeNumber reports whether s is a negative number or duration, not a
// text that begins with "-1" (a file -1.jsonl: --rejects=-1.jsonl, as kong
// says, takes it).
func negativeNumber(s string) bool {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return true
	}
	_, err := time.ParseDuration(s)
	return err == nil
}

// parseHint is the hint for a parse error. A negative number given as a
// value (persist put app c k -5) reads as a flag, "unknown flag -5": after
// --, which ends the flags, it is a value.
func parseHint(name, help string, args []string, msg string, emptyName bool) error {
	err := errors.New(msg)
	if emptyName {
		return Hint(err, "give every name the flag lists, or leave the flag out")
	}
	if m := negativeValue.FindStringSubmatch(msg); m != nil && negativeNumber(m[2]) {
		// kong's own suggestion, --flag="-1", only leads to the flag's
		// refusal: no flag takes a negative number.
		return Hint(fmt.Errorf("%s %s: a negative number, which %[1]s does not take", m[1], m[2]), "see %s --help for what %s takes", help, m[1])
	}
	return unknownFlagHint(name, help, args, err, msg)
}

// unknownFlagHint is the hint for a parse error other than those above.
func unknownFlagHint(name, help string, args []string, err error, msg string) error {
	rest, ok := strings.CutPrefix(msg, "unknown flag ")
	if !ok || len(rest) < 2 || rest[0] != '-' {
		return Hint(err, "see %s --help", help)
	}
	// kong names the flag it read: "-1" of -1.5, "-d" of -dx.
	bad := strings.TrimRight(strings.Fields(rest)[0], ",")
	number := rest[1] >= '0' && rest[1] <= '9'
	i := slices.IndexFunc(args, func(a string) bool { return strings.HasPrefix(a, bad) })
	if i < 0 || slices.Contains(args[:i], "--") || slices.ContainsFunc(args[i+1:], func(a string) bool { return strings.HasPrefix(a, "-") }) {
		if !number {
			return Hint(err, "see %s --help", help)
		}
		return Hint(err, "a value that begins with '-' goes after --, which ends the flags: put the flags before it")
	}
	if !number {
		if help == name || strings.HasPrefix(bad, "--") {
			return Hint(err, "see %s --help", help)
		}
		// A verb's name (a key read from a listing) can begin with '-':
		// say so beside the flags, for it may as well be a flag mistyped.
		return Hint(err, "see %s --help for its flags; a name or value that begins with '-' goes after --, which ends the flags: %s",
			help, afterDashes(name, args, i))
	}
	return Hint(err, "a value that begins with '-' goes after --, which ends the flags: %s", afterDashes(name, args, i))
}

// afterDashes is the command line args with -- before args[i], quoted for
// the shell, with where the password comes from when a location had one.
func afterDashes(name string, args []string, i int) string {
	cmd, note := []string{name}, ""
	for _, a := range append(append(slices.Clone(args[:i]), "--"), args[i:]...) {
		// Hints never show a password: libpq takes it from the environment.
		if location.HasPassword(a) {
			note = " (the password from PGPASSWORD or ~/.pgpass)"
		}
		cmd = append(cmd, location.ForShell(a))
	}
	return strings.Join(cmd, " ") + note
}

// helpName is the command whose --help lists the flags args give: the
// verb's, for a tool with verbs.
func helpName(parser *kong.Kong, name string, args []string) string {
	if len(args) > 0 && hasChild(parser.Model.Node, args[0]) {
		return name + " " + args[0]
	}
	return name
}

func hasChild(n *kong.Node, name string) bool {
	for _, c := range n.Children {
		if c.Name == name {
			return true
		}
	}
	return false
}
