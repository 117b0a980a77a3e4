package persist_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sources parses every non-test Go file of the module (not bench data or
// test data).
func sources(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "data" || d.Name() == "out" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files[path] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("only %d source files found", len(files))
	}
	return fset, files
}

// complexity is 1 + each if, for, range, case and select case (not the
// default ones), && and || in fn, function literals in it included.
func complexity(fn *ast.FuncDecl) int {
	c := 1
	ast.Inspect(fn, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil {
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

// No function is a reader's whole afternoon: none above complexity 45,
// at most three above 25.
func TestFunctionComplexity(t *testing.T) {
	fset, files := sources(t)
	type fn struct {
		name string
		c    int
	}
	var over []fn
	for _, f := range files {
		for _, d := range f.Decls {
			if d, ok := d.(*ast.FuncDecl); ok && d.Body != nil {
				if c := complexity(d); c > 25 {
					over = append(over, fn{fset.Position(d.Pos()).String() + " " + d.Name.Name, c})
				}
			}
		}
	}
	sort.Slice(over, func(i, j int) bool { return over[i].c > over[j].c })
	if len(over) > 3 || len(over) > 0 && over[0].c > 45 {
		t.Errorf("functions above complexity 25 (at most 3 allowed, none above 45): %v", over)
	}
}

// The concrete adapters sit behind the registry: outside internal/adapters
// at most one non-test file imports one of them.
func TestAdaptersBehindTheRegistry(t *testing.T) {
	_, files := sources(t)
	importers := map[string][]string{}
	for path, f := range files {
		if strings.HasPrefix(filepath.ToSlash(path), "internal/adapters/") {
			continue
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if strings.HasPrefix(p, "github.com/cuitty/persist/internal/adapters/") &&
				!strings.HasSuffix(p, "/all") && !strings.HasSuffix(p, "/adapterstest") {
				importers[path] = append(importers[path], p)
			}
		}
	}
	if len(importers) > 1 {
		t.Errorf("more than one file outside internal/adapters names a concrete adapter: %v", importers)
	}
}
