package consult

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Suggestion is one completion of what a person is typing.
type Suggestion struct {
	// Question is the entry's question, to show; choosing it shows the
	// entry's answer.
	Question string `json:"question"`
	EntryID  string `json:"id"`
}

// suggestion is what Autocomplete matches typed text against, per entry.
type suggestion struct {
	doc      int
	question string   // jamo of the question, without spaces
	starts   []int    // byte offsets in question where its words start
	keywords []string // jamo of each keyword, without spaces
	length   int      // runes of the question, for ranking
}

func (ix *Index) buildSuggestions() {
	ix.suggest = make([]suggestion, len(ix.entries))
	for i, e := range ix.entries {
		s := suggestion{doc: i, length: utf8.RuneCountInString(e.Question)}
		var q []rune
		for _, w := range strings.Fields(normalizeText(e.Question)) {
			s.starts = append(s.starts, len(string(q)))
			q = appendJamo(q, w)
		}
		s.question = string(q)
		for _, k := range e.Keywords {
			if kj := string(appendJamo(nil, compactText(k))); kj != "" {
				s.keywords = append(s.keywords, kj)
			}
		}
		ix.suggest[i] = s
	}
}

// Autocomplete returns up to n questions to offer while a person types
// text, best first. It matches what is typed, spacing ignored, against the
// start of the questions' words and of the keywords, jamo by jamo, so that a
// syllable still being composed matches ("주거그" is on its way to
// "주거급여", and "주걱" too). Questions that start with the text come
// first, then those with a word that does, then those with such a keyword;
// shorter questions first within each. When fewer than n match and the
// text has two syllables or more, the rest are filled with Search results,
// so that everyday words ("집세") also get suggestions.
func (ix *Index) Autocomplete(text string, n int) []Suggestion {
	typed := string(appendJamo(nil, compactText(text)))
	if typed == "" || n < 1 {
		return nil
	}
	type hit struct{ rank, doc, length int }
	var hits []hit
	for _, s := range ix.suggest {
		rank := -1
		for i, at := range s.starts {
			if strings.HasPrefix(s.question[at:], typed) {
				rank = min(i, 1)
				break
			}
		}
		if rank < 0 {
			for _, k := range s.keywords {
				if strings.HasPrefix(k, typed) {
					rank = 2
					break
				}
			}
		}
		if rank >= 0 {
			hits = append(hits, hit{rank: rank, doc: s.doc, length: s.length})
		}
	}
	sort.SliceStable(hits, func(a, b int) bool {
		if hits[a].rank != hits[b].rank {
			return hits[a].rank < hits[b].rank
		}
		return hits[a].length < hits[b].length
	})
	out := make([]Suggestion, 0, n)
	seen := make(map[int]bool)
	for _, h := range hits {
		if len(out) == n {
			return out
		}
		seen[h.doc] = true
		e := ix.entries[h.doc]
		out = append(out, Suggestion{Question: e.Question, EntryID: e.ID})
	}
	if len(out) < n && utf8.RuneCountInString(compactText(text)) >= 2 {
		r, err := ix.Search(text, n)
		if err == nil {
			for _, a := range r.Answers {
				if len(out) == n {
					break
				}
				if d := ix.byID[a.ID]; !seen[d] {
					seen[d] = true
					out = append(out, Suggestion{Question: a.Question, EntryID: a.ID})
				}
			}
		}
	}
	return out
}
