package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"
)

// completeEnv is set by the completion scripts when they ask a command for
// completions; without it a command never reads COMP_LINE, so that a
// variable left in an environment cannot turn a run into a completion.
const completeEnv = "PERSIST_COMPLETE"

// Shells are the shells a completion script is printed for.
var Shells = []string{"bash", "zsh", "fish"}

// CompletionScript is the script that makes shell complete command name:
// the shell hands the command line to name itself, which answers from its
// own kong grammar (kongplete), so completion knows every verb, flag and
// enum value --help knows. Locations complete as file names.
//
// Each script hands on the line up to the cursor alone, as COMP_LINE: the
// shells count the cursor's place in characters, the completer in bytes,
// and a line with a name in another script than Latin's would be cut at
// the wrong place. The answers are one per line; bash and zsh quote them
// for the line (a store named "my app" is my\ app), as fish does itself.
func CompletionScript(shell, name string) (string, error) {
	fn := "_" + strings.NewReplacer("-", "_", ".", "_").Replace(name) + "_complete"
	switch shell {
	case "bash":
		return fmt.Sprintf(`# bash completion for %[1]s: source <(%[1]s completion bash)
%[2]s() {
    local line q quote=
    [[ ${COMP_WORDS[COMP_CWORD]} == [\"\']* ]] && quote=1
    COMPREPLY=()
    while IFS= read -r line; do
        if [[ -z $quote ]]; then printf -v q %%q "$line"; else q=$line; fi
        COMPREPLY+=("$q")
    done < <(%[3]s=bash COMP_LINE="${COMP_LINE:0:COMP_POINT}" command %[1]s 2>/dev/null)
}
complete -o default -o bashdefault -F %[2]s %[1]s
`, name, fn, completeEnv), nil
	case "zsh":
		return fmt.Sprintf(`#compdef %[1]s
# zsh completion for %[1]s: source <(%[1]s completion zsh), after compinit
%[2]s() {
    local -a reply
    reply=("${(@f)$(%[3]s=zsh COMP_LINE="$LBUFFER" command %[1]s 2>/dev/null)}")
    if (( ${#reply} )) && [[ -n "${reply[1]}" ]]; then
        compadd -- "${reply[@]}"
    else
        _files
    fi
}
compdef %[2]s %[1]s
`, name, fn, completeEnv), nil
	case "fish":
		return fmt.Sprintf(`# fish completion for %[1]s: %[1]s completion fish | source
function %[2]s
    set -lx %[3]s fish
    set -lx COMP_LINE (commandline -cp)
    command %[1]s 2>/dev/null
end
complete -c %[1]s -a '(%[2]s)'
`, name, fn, completeEnv), nil
	}
	return "", fmt.Errorf("completion for %q: the shells are %s", shell, strings.Join(Shells, ", "))
}

// complete answers a completion script's request from parser's grammar, if
// this run is one; it reports whether it was.
func completeRequest(parser *kong.Kong) bool {
	if os.Getenv(completeEnv) == "" || os.Getenv("COMP_LINE") == "" {
		return false
	}
	// The scripts send the line up to the cursor (CompletionScript).
	os.Setenv("COMP_POINT", strconv.Itoa(len(os.Getenv("COMP_LINE"))))
	answered := false
	kongplete.Complete(parser,
		kongplete.WithPredictor("file", complete.PredictFiles("*")),
		kongplete.WithPredictor("store", storeNames{}),
		kongplete.WithExitFunc(func(int) { answered = true }))
	return answered
}

// storeNames predicts the store names the persist command finds by
// itself: the files ./data/NAME.db.
type storeNames struct{}

func (storeNames) Predict(complete.Args) []string {
	paths, _ := filepath.Glob(filepath.Join("data", "*.db"))
	var out []string
	for _, p := range paths {
		// An answer is a line: a name holding a line break cannot be one.
		if name := strings.TrimSuffix(filepath.Base(p), ".db"); !strings.ContainsAny(name, "\n\r") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Extras answers what every command answers besides its own work, before
// its arguments are parsed:
//
//	NAME completion bash|zsh|fish   the completion script (a file to read
//	                                named "completion" is ./completion)
//	NAME --man                      the man page, in roff (make install)
//	a completion script's request   the completions
//
// It reports whether it answered, and the exit status.
func Extras(name, description string, grammar any, args []string, stdout, stderr io.Writer) (int, bool) {
	if len(args) == 2 && args[0] == "completion" && slices.Contains(Shells, args[1]) {
		script, _ := CompletionScript(args[1], name)
		io.WriteString(stdout, script)
		return ExitOK, true
	}
	if len(args) >= 1 && args[0] == "completion" && (len(args) == 1 || !strings.HasPrefix(args[1], "-")) && hasCommand(name) {
		Report(stderr, name, Hint(fmt.Errorf("completion: name a shell: %s", strings.Join(Shells, ", ")), "%s completion bash", name))
		return ExitTrouble, true
	}
	if len(args) == 1 && args[0] == "--man" {
		parser := mustParser(name, description, grammar, stdout, stderr, func(int) {})
		io.WriteString(stdout, ManPage(parser.Model, VersionString(name)))
		return ExitOK, true
	}
	if os.Getenv(completeEnv) != "" {
		parser := mustParser(name, description, grammar, stdout, stderr, func(int) {})
		if completeRequest(parser) {
			return ExitOK, true
		}
	}
	return 0, false
}

// hasCommand reports whether the tool is the persist command, whose
// completion is a verb: a persist-X tool may read a file named completion.
func hasCommand(name string) bool { return name == "persist" }
