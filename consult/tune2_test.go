package consult

import (
	"fmt"
	"os"
	"testing"

	"allimi/assets"
)

func devScore(t *testing.T, kb KB, p params, split string) (float64, float64, float64) {
	ix, err := newIndex(kb, DefaultLexicon(), p)
	if err != nil {
		t.Fatal(err)
	}
	var n, h1, h3, rr float64
	for _, q := range DefaultDevSet() {
		if q.Split != split || len(q.IDs) == 0 {
			continue
		}
		r, _ := ix.Search(q.Question, 10)
		a, b := hits(r.Answers, q.IDs)
		n++
		h1 += float64(a)
		h3 += float64(b)
		for i, ans := range r.Answers {
			for _, id := range q.IDs {
				if ans.ID == id {
					rr += 1 / float64(i+1)
					goto next
				}
			}
		}
	next:
	}
	return h1 / n, h3 / n, rr / n
}

func TestTuneParams(t *testing.T) {
	if os.Getenv("CONSULT_TUNE") != "params" {
		t.Skip()
	}
	kb, _ := DecodeCatalog(assets.ConsultKB())
	base := defaultParams
	try := func(name string, p params) {
		a, b, c := devScore(t, kb, p, SplitDev)
		fmt.Printf("%-30s top1 %.3f top3 %.3f mrr %.3f\n", name, a, b, c)
	}
	try("default", base)
	for _, ak := range []uint8{0, 1 << kindWord, 1<<kindWord | 1<<kindS2} {
		for _, fa := range []float64{0.1, 0.15, 0.25} {
			p := base
			p.fieldKinds[fieldAnswer] = ak
			p.field[fieldAnswer] = fa
			try(fmt.Sprintf("ans %03b fa %.2f", ak, fa), p)
		}
	}
}
