package consult

import (
	"math"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// BM25 is the plain baseline the Index is measured against: Okapi BM25
// (k1 = 1.2, b = 0.75) over whitespace-separated words of the question,
// keywords and answer of each active entry taken as one document, lower
// case, NFC, punctuation trimmed from the ends of each word. No
// normalisation of Korean, no n-grams, no lexicon.
type BM25 struct {
	entries  []Entry
	postings map[string][]bm25Posting
	idf      map[string]float64
}

type bm25Posting struct {
	doc int32
	w   float32 // the document side of the BM25 term score, times idf
}

// BM25 parameters of the baseline.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// NewBM25 builds the baseline over kb's active entries.
func NewBM25(kb KB) *BM25 {
	x := &BM25{entries: kb.Active(), postings: make(map[string][]bm25Posting), idf: make(map[string]float64)}
	n := len(x.entries)
	tfs := make([]map[string]int, n)
	lens := make([]int, n)
	total := 0
	df := make(map[string]int)
	for i, e := range x.entries {
		toks := bm25Tokens(e.Question + " " + strings.Join(e.Keywords, " ") + " " + e.Answer)
		tf := make(map[string]int)
		for _, t := range toks {
			tf[t]++
		}
		for t := range tf {
			df[t]++
		}
		tfs[i], lens[i] = tf, len(toks)
		total += len(toks)
	}
	avg := 1.0
	if n > 0 && total > 0 {
		avg = float64(total) / float64(n)
	}
	for t, c := range df {
		x.idf[t] = math.Log(1 + (float64(n)-float64(c)+0.5)/(float64(c)+0.5))
	}
	for i, tf := range tfs {
		norm := 1 - bm25B + bm25B*float64(lens[i])/avg
		for t, c := range tf {
			f := float64(c)
			w := x.idf[t] * f * (bm25K1 + 1) / (f + bm25K1*norm)
			x.postings[t] = append(x.postings[t], bm25Posting{doc: int32(i), w: float32(w)})
		}
	}
	return x
}

// bm25Tokens splits text into the baseline's words.
func bm25Tokens(s string) []string {
	s = norm.NFC.String(strings.ToLower(s))
	var out []string
	for _, f := range strings.Fields(s) {
		f = strings.TrimFunc(f, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) })
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Search returns the n best entries for question, best first (each query
// word counted once per occurrence, as in Okapi BM25).
func (x *BM25) Search(question string, n int) ([]Answer, error) {
	if strings.TrimSpace(question) == "" {
		return nil, ErrEmptyQuestion
	}
	if n < 1 {
		n = 1
	}
	scores := make([]float64, len(x.entries))
	for _, t := range bm25Tokens(question) {
		for _, p := range x.postings[t] {
			scores[p.doc] += float64(p.w)
		}
	}
	var out []Answer
	for _, d := range topN(scores, n) {
		out = append(out, Answer{Entry: x.entries[d], Score: scores[d]})
	}
	return out, nil
}
