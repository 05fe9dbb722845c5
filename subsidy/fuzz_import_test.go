package subsidy

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"allimi/assets"
)

// gov24 pages come from the network (Fetch) or from files an official
// brings (Import): whatever the bytes, an import gives a catalog or errors
// that name the file, never a panic; a catalog it gives encodes and
// decodes again.

// firstRows is the first page of endpoint ep in the demo pages, cut to
// two rows (mutations of a short page go further), or an empty page when
// the demo has none of ep.
func firstRows(f *testing.F, ep string) []byte {
	f.Helper()
	demo := assets.SubsidyDemo()
	names, err := fs.Glob(demo, ep+"*.json")
	if err != nil {
		f.Fatal(err)
	}
	if len(names) == 0 {
		return []byte(`{"page":1,"perPage":10,"totalCount":0,"currentCount":0,"data":[]}`)
	}
	b, err := fs.ReadFile(demo, names[0])
	if err != nil {
		f.Fatal(err)
	}
	var page map[string]any
	if err := json.Unmarshal(b, &page); err != nil {
		f.Fatal(err)
	}
	if rows, ok := page["data"].([]any); ok && len(rows) > 2 {
		page["data"], page["currentCount"], page["totalCount"] = rows[:2], 2, 2
	}
	out, err := json.Marshal(page)
	if err != nil {
		f.Fatal(err)
	}
	return out
}

func FuzzImportPages(f *testing.F) {
	if len(Endpoints) != 3 {
		f.Fatalf("the fuzz target feeds 3 endpoints, there are %d", len(Endpoints))
	}
	seed := [][]byte{firstRows(f, Endpoints[0]), firstRows(f, Endpoints[1]), firstRows(f, Endpoints[2])}
	f.Add(seed[0], seed[1], seed[2])
	f.Add([]byte(`{"page":1,"perPage":1,"totalCount":1,"currentCount":1,"matchCount":1,"data":[{"서비스ID":"000000000001","서비스명":"노인 일자리"}]}`),
		[]byte(`{"data":[]}`), []byte(`{"data":[{"서비스ID":"000000000001","JA0110":"65","JA0111":"200"}]}`))
	f.Add([]byte(`{"data":null}`), []byte(`[]`), []byte(`{"data":[{"서비스ID":1}]}`))
	pages := func(list, detail, conds []byte) fstest.MapFS {
		fsys := fstest.MapFS{}
		for i, b := range [][]byte{list, detail, conds} {
			fsys[Endpoints[i]+"_00001.json"] = &fstest.MapFile{Data: b}
		}
		return fsys
	}
	// The first seed imports: the round trip below is reached.
	if cat, _, err := ImportFS(pages(seed[0], seed[1], seed[2])); err != nil || cat.Len() == 0 {
		f.Fatalf("the demo's first rows do not import: %v", err)
	}
	f.Fuzz(func(t *testing.T, list, detail, conds []byte) {
		cat, _, err := ImportFS(pages(list, detail, conds))
		if err != nil {
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("an error message that is not text: %q", err.Error())
			}
			if !strings.Contains(err.Error(), ".json") && !strings.Contains(err.Error(), "hold no service") &&
				!strings.Contains(err.Error(), "no pages") && !strings.Contains(err.Error(), "import") {
				t.Fatalf("an error that names no file: %v", err)
			}
			return
		}
		b, err := Encode(cat)
		if err != nil {
			t.Fatalf("an imported catalog does not encode: %v", err)
		}
		again, err := Decode(b)
		if err != nil {
			t.Fatalf("an imported catalog does not decode: %v", err)
		}
		if again.Len() != cat.Len() {
			t.Fatalf("%d services imported, %d after a round trip", cat.Len(), again.Len())
		}
	})
}

func FuzzFetchedPage(f *testing.F) {
	f.Add(firstRows(f, Endpoints[0]))
	f.Add([]byte(`{"code":-4,"msg":"등록되지 않은 인증키입니다."}`))
	f.Add([]byte("<html><body>502 Bad Gateway</body></html>"))
	f.Add([]byte("\xff\xfe{\"msg\":1}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := parsePage(b); err == nil {
			if p.rows < 0 || p.PerPage < 0 && p.rows > 0 && p.TotalCount < 0 {
				t.Fatalf("a page with %d rows: %+v", p.rows, p)
			}
		}
		msg := apiMessage(b)
		if !utf8.ValidString(msg) {
			t.Fatalf("the API's message is not text: %q", msg)
		}
		if len(b) > 0 && strings.TrimSpace(string(b)) != "" && msg == "" && utf8.Valid(b) && !strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
			t.Fatalf("a body that says something gives no message: %q", b)
		}
	})
}
