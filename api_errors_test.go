package persist_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Errors from the Go API speak of the API, never of the commands' flags
// ("--store", "--rejects"): the commands add those as hints. Every error
// made in the root package and the internal packages under it (not the
// commands' own: internal/tools, internal/cli) is looked at.
func TestErrorsNameNoFlags(t *testing.T) {
	var files []string
	for _, dir := range []string{".", "internal/load", "internal/source", "internal/record", "internal/location", "internal/diff", "internal/adapters", "internal/adapters/sqlite", "internal/adapters/postgres"} {
		m, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	fset := token.NewFileSet()
	checked := 0
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok || !(pkg.Name == "fmt" && sel.Sel.Name == "Errorf" || pkg.Name == "errors" && sel.Sel.Name == "New") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			checked++
			if strings.Contains(s, "--") {
				t.Errorf("%s: an API error names a flag: %q", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
	if checked < 100 {
		t.Fatalf("only %d error strings found; the test did not test", checked)
	}
}
