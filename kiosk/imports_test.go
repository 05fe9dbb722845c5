package kiosk

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoAppImport keeps the real Fyne app (cgo, OpenGL) out of package
// kiosk, so its screens stay testable with Fyne's test driver without cgo
// or a display. Only cmd/allimi-kiosk may import it.
func TestNoAppImport(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "fyne.io/fyne/v2/app" {
				t.Errorf("%s imports %s; keep the real app in cmd/allimi-kiosk", name, path)
			}
		}
	}
}
