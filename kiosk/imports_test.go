package kiosk

import (
	"go/parser"
	"go/token"
	"io/fs"
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

// TestNoCentralImport keeps the kiosk apart from central: no package under
// kiosk/, tests included, imports allimi/central or a package under it.
// The kiosk talks to central over MQTT and HTTP only (package sync and
// kiosk.Enrol), so a change inside central never reaches a kiosk build;
// the tests that need a real central live in tests/kioskcentral.
func TestNoCentralImport(t *testing.T) {
	fset := token.NewFileSet()
	var checked int
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if parts := strings.Split(p, "/"); len(parts) >= 2 && parts[0] == "allimi" && parts[1] == "central" {
				t.Errorf("%s imports %s; the kiosk reaches central over the network only (tests needing a central: tests/kioskcentral)", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no Go files found under kiosk/")
	}
}
