package storetest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/detail"
	"allimi/sync/catalog"
)

// TestConformance_SuitesCallEveryMethod keeps the suites whole: a method
// added to a storage interface fails here until a suite calls it, so a
// backend cannot pass without being checked on it.
func TestConformance_SuitesCallEveryMethod(t *testing.T) {
	files, err := os.ReadDir(".")
	require.NoError(t, err)
	called := map[string]bool{}
	fset := token.NewFileSet()
	for _, fi := range files {
		if !strings.HasSuffix(fi.Name(), ".go") || strings.HasSuffix(fi.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, fi.Name(), nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					called[sel.Sel.Name] = true
				}
			}
			return true
		})
	}
	for _, iface := range []reflect.Type{
		reflect.TypeFor[allimi.Registry](), reflect.TypeFor[allimi.Confirmations](), reflect.TypeFor[allimi.Questions](),
		reflect.TypeFor[allimi.AuditLog](), reflect.TypeFor[allimi.Kiosks](), reflect.TypeFor[allimi.Agencies](),
		reflect.TypeFor[allimi.Officials](), reflect.TypeFor[allimi.Notifications](), reflect.TypeFor[allimi.Deliveries](),
		reflect.TypeFor[allimi.DeliveryQueue](), reflect.TypeFor[allimi.DeliveryReader](), reflect.TypeFor[allimi.DeliveryTx](),
		reflect.TypeFor[allimi.QueueIntents](), reflect.TypeFor[catalog.Keeper](), reflect.TypeFor[allimi.KioskUsers](),
		reflect.TypeFor[detail.Storage](), reflect.TypeFor[detail.Tx](),
	} {
		for i := range iface.NumMethod() {
			m := iface.Method(i).Name
			assert.True(t, called[m], "no suite calls %s.%s", iface.Name(), m)
		}
	}
}
