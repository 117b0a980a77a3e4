package tests

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cuitty/persist"
	"github.com/cuitty/persist/internal/pgtest"
)

var tools = []string{"persist", "persist-dump", "persist-load", "persist-sum", "persist-diff", "persist-tee", "persist-seal"}

// shell runs script in bash with the built binaries first on PATH.
func shell(t *testing.T, dir, sh, script string) string {
	t.Helper()
	cmd := exec.Command(sh, "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s -c %q: %v\n%s", sh, script, err, out)
	}
	return string(out)
}

// completeBash completes line as bash would with the tool's script sourced:
// COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set, the function called.
func completeBash(t *testing.T, dir, tool, line string) []string {
	t.Helper()
	fn := "_" + strings.ReplaceAll(tool, "-", "_") + "_complete"
	script := `source <(` + tool + ` completion bash) || exit 9
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<< "$COMP_LINE"; [[ "$COMP_LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
complete -p ` + tool + ` > /dev/null || exit 8
` + fn + `
printf '%s\n' "${COMPREPLY[@]}"`
	cmd := exec.Command("bash", "-c", script, "bash", line)
	cmd.Dir = dir
	// In a UTF-8 locale bash counts COMP_POINT in characters.
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("completing %q: %v\n%s", line, err, out)
	}
	return strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' })
}

func TestBashCompletion(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"my-app", "my app", "q'x", "ü", "two\nlines", "a*"} {
		if err := os.WriteFile(filepath.Join(dir, "data", name+".db"), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		tool, line string
		want       []string
	}{
		{"persist", "persist pu", []string{"put"}},
		{"persist", "persist ", []string{"put", "get", "rm", "ls", "stores", "append", "events", "export", "migrate", "completion", "help"}},
		{"persist", "persist put --if", []string{"--if-version"}},
		{"persist", "persist get --rec", []string{"--record"}},
		{"persist", "persist get ", []string{"my-app"}},
		// Names are quoted for the line; one holding a line break is left out.
		{"persist", "persist get my", []string{"my-app", `my\ app`}},
		{"persist", "persist get q", []string{`q\'x`}},
		{"persist", "persist get tw", nil},
		// A name with a glob's characters is itself, not the files it matches.
		{"persist", "persist get a", []string{`a\*`}},
		// After names in another script, the cursor is still at the end
		// (counted in bytes, it would fall inside the flag).
		{"persist", "persist export üüüüüü --out", []string{"--output"}},
		{"persist", "persist completion ", []string{"bash", "zsh", "fish"}},
		{"persist-load", "persist-load --mo", []string{"--mode"}},
		{"persist-load", "persist-load --mode ", []string{"merge", "replace"}},
		{"persist-dump", "persist-dump --col", []string{"--collection"}},
		{"persist-diff", "persist-diff --format ", []string{"human", "jsonl", "summary"}},
		{"persist-sum", "persist-sum --summ", []string{"--summary"}},
	} {
		got := completeBash(t, dir, c.tool, c.line)
		if strings.Contains(c.line, "ü") && !slices.Equal(got, c.want) {
			t.Errorf("completing %q: got %q, want exactly %q", c.line, got, c.want)
		}
		if c.want == nil && len(got) > 0 {
			t.Errorf("completing %q: got %q, want nothing", c.line, got)
		}
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("completing %q: got %q, want %q among them", c.line, got, w)
			}
		}
	}
}

// The zsh and fish scripts load in their shells and register a completion.
func TestZshFishCompletion(t *testing.T) {
	for _, tool := range tools {
		out := shell(t, t.TempDir(), "zsh", `autoload -U compinit && compinit -u -D && source <(`+tool+` completion zsh) && print -r -- ${_comps[`+tool+`]}`)
		if want := "_" + strings.ReplaceAll(tool, "-", "_") + "_complete"; strings.TrimSpace(out) != want {
			t.Errorf("zsh: %s completes with %q, want %s", tool, out, want)
		}
		out = shell(t, t.TempDir(), "fish", tool+` completion fish | source; and complete -c `+tool)
		if !strings.Contains(out, "__"+tool) && !strings.Contains(out, "_"+strings.ReplaceAll(tool, "-", "_")+"_complete") {
			t.Errorf("fish: no completion registered for %s: %q", tool, out)
		}
	}
	// fish asks the command itself, as bash does: a verb comes back.
	out := shell(t, t.TempDir(), "fish", `persist completion fish | source; complete -C'persist pu'`)
	if !strings.Contains(out, "put") {
		t.Errorf("fish completes 'persist pu' as %q", out)
	}
}

var flagName = regexp.MustCompile(`(?m)^\s+(?:-\S, )?(--[a-z][a-z0-9-]*)`)

// Every flag --help names is in the man page, which is made from the same
// grammar; for persist, every verb's flags too (persist help VERB).
func TestManPagesNameEveryFlag(t *testing.T) {
	for _, tool := range tools {
		man := mustRun(t, "", tool, "--man").stdout
		if !strings.HasPrefix(man, ".TH "+strings.ToUpper(tool)+" 1") {
			t.Fatalf("%s --man does not begin a man page: %.80q", tool, man)
		}
		helps := []string{mustRun(t, "", tool, "--help").stdout}
		if tool == "persist" {
			for _, verb := range []string{"put", "get", "rm", "ls", "stores", "append", "events", "export", "import", "verify", "migrate", "completion"} {
				h := mustRun(t, "", tool, "help", verb).stdout
				if !strings.Contains(h, "Usage: persist "+verb) {
					t.Errorf("persist help %s: %.100q", verb, h)
				}
				if !strings.Contains(man, `persist `+verb) {
					t.Errorf("the man page of persist has no section for %s", verb)
				}
				helps = append(helps, h)
			}
		}
		n := 0
		for _, h := range helps {
			for _, m := range flagName.FindAllStringSubmatch(h, -1) {
				n++
				if !strings.Contains(man, `\fB`+strings.ReplaceAll(m[1], "-", `\-`)+`\fR`) {
					t.Errorf("%s: --help names %s, the man page does not", tool, m[1])
				}
			}
		}
		if n < 5 {
			t.Fatalf("%s --help: only %d flags found; the test did not test", tool, n)
		}
		// groff renders it without a warning.
		cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = strings.NewReader(man)
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("groff on %s's man page: %v %s", tool, err, out)
		}
	}
}

// make install puts the binaries and one man page per binary where it is
// told to.
func TestMakeInstall(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("make", "install", "GOBIN="+filepath.Join(dir, "bin"), "MANDIR="+filepath.Join(dir, "man"))
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	for _, tool := range tools {
		if _, err := os.Stat(filepath.Join(dir, "bin", tool)); err != nil {
			t.Error(err)
		}
		page, err := os.ReadFile(filepath.Join(dir, "man", "man1", tool+".1"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), ".SH OPTIONS") {
			t.Errorf("%s.1 has no options", tool)
		}
	}
}

// One rule for the store a load goes to, in the commands and the Go API
// alike: #NAME or --store, else the only store the database holds, else
// the stream header's store, else "default"; a failed load leaves no new
// database file behind.
func TestOneStoreRule(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bare := write("bare.jsonl", `{"kind":"record","collection":"c","key":"k","value":1}`+"\n")
	headed := write("headed.jsonl", mustRun(t, bare, "persist-seal", "--unframed", "--store", "fromheader").stdout)
	bad := write("bad.jsonl", `{"kind":"record","collection":"c","key":"k","value":[1,}`+"\n")

	storesOf := func(loc string) string {
		infos, err := persist.Stores(ctx, loc)
		if err != nil {
			t.Fatalf("Stores(%s): %v", loc, err)
		}
		var names []string
		for _, i := range infos {
			names = append(names, i.Name)
		}
		return strings.Join(names, ",")
	}
	apiLoad := func(in, loc string) error {
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_, err = persist.Load(ctx, f, loc, persist.LoadOptions{})
		return err
	}
	for i, c := range []struct {
		in, want string
	}{{bare, persist.DefaultStore}, {headed, "fromheader"}} {
		for _, kind := range []string{"sqlite", "postgres"} {
			newLoc := func(tag string) string {
				if kind == "sqlite" {
					return "sqlite:" + filepath.Join(dir, kind+tag+string(rune('a'+i))+".db")
				}
				return pgtest.NewDatabase(t)
			}
			cmdLoc, apiLoc, openLoc := newLoc("cmd"), newLoc("api"), newLoc("open")
			mustRun(t, c.in, "persist-load", cmdLoc)
			if err := apiLoad(c.in, apiLoc); err != nil {
				t.Fatal(err)
			}
			if got := storesOf(cmdLoc); got != c.want {
				t.Errorf("%s: persist-load of %s made store %q, want %q", kind, filepath.Base(c.in), got, c.want)
			}
			if got := storesOf(apiLoc); got != c.want {
				t.Errorf("%s: persist.Load of %s made store %q, want %q", kind, filepath.Base(c.in), got, c.want)
			}
			if c.in == bare {
				s, err := persist.Open(ctx, openLoc)
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				if got := storesOf(openLoc); got != c.want {
					t.Errorf("%s: persist.Open made store %q, want %q", kind, got, c.want)
				}
			}
			// A database holding one store: that one, when the header names
			// it or none; a dump of another store is refused, nothing
			// written, until the location names the store.
			r := run(t, headed, "persist-load", cmdLoc)
			apiErr := apiLoad(headed, apiLoc)
			if c.want == "fromheader" {
				if r.code != 0 || apiErr != nil {
					t.Errorf("%s: a second load of the same store: exit %d, %v", kind, r.code, apiErr)
				}
			} else if r.code != 2 || !errors.Is(apiErr, persist.ErrStoreChoice) {
				t.Errorf("%s: a dump of store fromheader into a database of store %s: exit %d, %v; want exit 2 and ErrStoreChoice", kind, c.want, r.code, apiErr)
			}
			if got := storesOf(cmdLoc) + "|" + storesOf(apiLoc); got != c.want+"|"+c.want {
				t.Errorf("%s: after a second load, the one-store databases hold %q, want %q in both", kind, got, c.want)
			}
		}
	}
	// A failed load into a new file leaves no file, from the command or the API.
	for _, loc := range []string{filepath.Join(dir, "fail-cmd.db"), filepath.Join(dir, "fail-api.db")} {
		if strings.HasSuffix(loc, "cmd.db") {
			if r := run(t, bad, "persist-load", "sqlite:"+loc); r.code != 2 {
				t.Fatalf("a bad line loaded: exit %d", r.code)
			}
		} else if err := apiLoad(bad, "sqlite:"+loc); err == nil {
			t.Fatal("a bad line loaded through the API")
		}
		if m, _ := filepath.Glob(loc + "*"); len(m) > 0 {
			t.Errorf("a failed load left %v behind", m)
		}
	}
}

// Errors from the Go API speak of the API, never of the commands' flags.
func TestAPIErrorsNameNoFlags(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "a.db")
	s, err := persist.OpenStore(ctx, db, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "c", "k", 1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	other, _ := persist.OpenStore(ctx, db, "other")
	other.Close()
	patch := filepath.Join(dir, "patch.jsonl")
	f, _ := os.Create(patch)
	b := "sqlite:" + filepath.Join(dir, "b.db")
	if s, err := persist.Open(ctx, b); err == nil {
		s.Put(ctx, "c", "k", 2)
		s.Close()
	}
	if _, err := persist.Diff(ctx, db+"#app", b, f, persist.DiffOptions{Format: persist.DiffPatch}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var errs []error
	add := func(err error) {
		if err == nil {
			t.Errorf("call %d did not fail", len(errs)+1)
		}
		errs = append(errs, err)
	}
	_, err = persist.OpenStore(ctx, db+"#app", "other")
	add(err)
	_, err = persist.Sum(ctx, db)
	add(err)
	_, err = persist.Sum(ctx, patch)
	add(err)
	_, err = persist.Dump(ctx, db+"#app", ioDiscard{}, persist.DumpOptions{ReadOptions: persist.ReadOptions{Filter: persist.Filter{Collections: []string{"nosuch"}}}})
	add(err)
	// The patch was made for b as it was; b changes, and the patch is refused.
	if s, err := persist.Open(ctx, b); err == nil {
		s.Put(ctx, "c", "k", 3)
		s.Close()
	}
	pf, _ := os.Open(patch)
	_, err = persist.Load(ctx, pf, b, persist.LoadOptions{})
	pf.Close()
	add(err)
	_, err = persist.Load(ctx, strings.NewReader(""), b, persist.LoadOptions{})
	add(err)
	_, err = persist.Get(ctx, filepath.Join(dir, "nosuch.db"), "c", "k", persist.ReadOptions{})
	add(err)
	// A filtered dump replaces no store; its cursor, left out, starts no delta.
	var part strings.Builder
	filtered := persist.ReadOptions{Filter: persist.Filter{Collections: []string{"c"}}}
	if _, err := persist.Dump(ctx, db+"#app", &part, persist.DumpOptions{ReadOptions: filtered}); err != nil {
		t.Fatal(err)
	}
	_, err = persist.Load(ctx, strings.NewReader(part.String()), db+"#app", persist.LoadOptions{Mode: persist.Replace})
	add(err)
	part.Reset()
	filtered.NoCursor = true
	if _, err := persist.Dump(ctx, db+"#app", &part, persist.DumpOptions{ReadOptions: filtered}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(part.String()), "\n")
	var trailer struct{ Cursor string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &trailer); err != nil || trailer.Cursor == "" {
		t.Fatalf("the trailer's mark: %q, %v", lines[len(lines)-1], err)
	}
	_, err = persist.Dump(ctx, db+"#app", ioDiscard{}, persist.DumpOptions{ReadOptions: persist.ReadOptions{Since: trailer.Cursor, Filter: filtered.Filter}})
	add(err)
	for i, err := range errs {
		if err != nil && strings.Contains(err.Error(), "--") {
			t.Errorf("API error %d names a flag: %v", i+1, err)
		}
	}
	if !errors.Is(errs[4], persist.ErrPatchTarget) || !errors.Is(errs[2], persist.ErrPatch) {
		t.Errorf("sentinels lost: %v / %v", errs[4], errs[2])
	}
	if !errors.Is(errs[7], persist.ErrPartialStream) || !errors.Is(errs[8], persist.ErrCursor) {
		t.Errorf("the filtered dump's refusals: %v / %v, want ErrPartialStream / ErrCursor", errs[7], errs[8])
	}
}

type ioDiscard struct{}

func (ioDiscard) Write(p []byte) (int, error) { return len(p), nil }
