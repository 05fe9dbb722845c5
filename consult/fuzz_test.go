package consult

import (
	"testing"
	"unicode/utf8"

	"allimi/assets"
)

// Questions are whatever a person types or a recogniser hears; the
// knowledge base comes from central. Neither may crash the kiosk.

func FuzzSearch(f *testing.F) {
	kb, err := LoadKB(assets.ConsultKB())
	if err != nil {
		f.Fatal(err)
	}
	ix, err := NewIndex(kb, DefaultLexicon())
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"집세 보태 주는 거 있어요?", "등본 떼려면", "ㅈㅂ", "", "\xff\xfe", "병원비 병원비 병원비"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		res, err := ix.Search(q, 3)
		if err != nil {
			return
		}
		if len(res.Answers) > 3 {
			t.Fatalf("%d answers for top 3", len(res.Answers))
		}
		for _, a := range res.Answers {
			if a.Retired {
				t.Fatalf("retired entry %s answered", a.ID)
			}
		}
		for _, s := range ix.Autocomplete(q, 5) {
			if !utf8.ValidString(s.Question) || s.EntryID == "" {
				t.Fatalf("autocomplete suggestion %+v", s)
			}
		}
	})
}

func FuzzLoadKB(f *testing.F) {
	f.Add([]byte(`{"format":"allimi-consult-kb","v":1,"provenance":"p","entries":[{"id":"a","question":"q","answer":"a"}]}`))
	f.Add([]byte(`[{"recordId":"1","consQustCntn":"질문","nobdAnsrCntn":"답<br />변","kywdNm":"a,b"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		kb, err := LoadKB(b)
		if err != nil {
			return
		}
		body, err := EncodeCatalog(kb)
		if err != nil {
			return // an entry the encoder refuses is refused, not a crash
		}
		if _, err := DecodeCatalog(body); err != nil {
			t.Fatalf("an encoded knowledge base does not decode: %v", err)
		}
		if _, err := NewIndex(kb, nil); err != nil && len(kb.Active()) > 0 {
			t.Logf("index refused: %v", err)
		}
	})
}
