package consult

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"allimi/assets"
)

func TestTune(t *testing.T) {
	if os.Getenv("CONSULT_TUNE") == "" {
		t.Skip()
	}
	kb, _ := DecodeCatalog(assets.ConsultKB())
	ev, err := Evaluate(kb, DefaultLexicon(), DefaultDevSet())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(ev, "", " ")
	fmt.Println(string(b))
	if os.Getenv("CONSULT_TUNE") != "fail" {
		return
	}
	ix, _ := NewIndex(kb, DefaultLexicon())
	for _, q := range DefaultDevSet() {
		if q.Split != SplitDev {
			continue
		}
		r, _ := ix.Search(q.Question, 3)
		h1, _ := hits(r.Answers, q.IDs)
		if h1 == 1 && len(q.IDs) > 0 {
			continue
		}
		want := "-"
		if len(q.IDs) > 0 {
			if e, ok := ix.Entry(q.IDs[0]); ok {
				want = e.Question
			}
		}
		fmt.Printf("Q %s  (conf %.2f)\n  want: %s\n", q.Question, r.Confidence, want)
		for _, a := range r.Answers {
			fmt.Printf("  %.2f %s\n", a.Score, a.Question)
		}
		fmt.Printf("  exp: %v\n", ix.lex.Expand(q.Question))
	}
}
