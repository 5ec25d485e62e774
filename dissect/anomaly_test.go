package dissect

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryAnomalyConstantDeclared parses the package's sources and checks
// that every anomaly id it passes to newAnomaly is a declared constant, and
// every An* constant is in the table with the value it names.
func TestEveryAnomalyConstantDeclared(t *testing.T) {
	var reg AnomalyRegistry
	if err := reg.Add(Anomalies()...); err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	h2names, err := filepath.Glob("../h2/*.go")
	if err != nil {
		t.Fatal(err)
	}
	names = append(names, h2names...)
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	consts := map[string]string{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if strings.HasPrefix(name.Name, "An") && i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							consts[name.Name] = v
						}
					}
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "newAnomaly" && len(n.Args) > 0 {
					arg, ok := n.Args[0].(*ast.Ident)
					sel, isSel := n.Args[0].(*ast.SelectorExpr)
					switch {
					case isSel && sel.Sel.Name == "ID" && fset.Position(n.Pos()).Filename == "h2.go":
						// The ids the h2 layer reports: its An* constants, checked below.
					case !ok:
						t.Errorf("%s: newAnomaly with a computed id", fset.Position(n.Pos()))
					case !strings.HasPrefix(arg.Name, "An") && arg.Name != "id":
						t.Errorf("%s: newAnomaly(%s): not an anomaly constant", fset.Position(n.Pos()), arg.Name)
					}
				}
			}
			return true
		})
	}
	if len(consts) < 30 {
		t.Fatalf("found only %d anomaly constants; the parser missed them", len(consts))
	}
	for name, id := range consts {
		if !reg.Has(id) {
			t.Errorf("%s = %q is not declared in the anomaly table", name, id)
		}
	}
	if err := reg.Add(AnomalyInfo{ID: AnTCPGap}); err == nil {
		t.Error("a second declaration of an id was accepted")
	}
}
