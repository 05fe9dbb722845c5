package consult

import (
	_ "embed" // the lexicon
	"fmt"
	"strings"
	"unicode/utf8"
)

//go:embed lexicon.tsv
var defaultLexicon string

// Lexicon maps everyday words to the administrative terms of the answers
// ("집세" → "주거급여"). It is data (lexicon.tsv holds the default one and
// explains the format), so that officials can extend it without code.
type Lexicon struct {
	rules []lexRule
}

type lexRule struct {
	line  int
	keys  []lexKey
	terms []string
}

// lexKey is one everyday word, or several that must all occur ("a+b").
type lexKey []lexPart

type lexPart struct {
	s    string // compact: normalised, no spaces
	mode byte   // 's' substring, 'w' whole word, 'p' word prefix
}

// ParseLexicon reads a lexicon in the format of lexicon.tsv. A line that
// does not have its two tab-separated columns, or an empty word or term, is
// an error naming the line.
func ParseLexicon(text string) (*Lexicon, error) {
	lx := &Lexicon{}
	for i, line := range strings.Split(text, "\n") {
		n := i + 1
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		left, right, ok := strings.Cut(line, "\t")
		if !ok || strings.Contains(right, "\t") {
			return nil, fmt.Errorf("lexicon line %d: want everyday words, one tab, then terms", n)
		}
		r := lexRule{line: n}
		for _, k := range strings.Split(left, "|") {
			var key lexKey
			for _, part := range strings.Split(k, "+") {
				part = strings.TrimSpace(part)
				mode := byte('s')
				switch {
				case strings.HasPrefix(part, "="):
					part, mode = part[1:], 'w'
				case strings.HasSuffix(part, "~"):
					part, mode = strings.TrimSuffix(part, "~"), 'p'
				}
				c := compactText(part)
				if c == "" {
					return nil, fmt.Errorf("lexicon line %d: empty everyday word in %q", n, left)
				}
				if mode == 's' && utf8.RuneCountInString(c) < 2 {
					mode = 'w'
				}
				key = append(key, lexPart{s: c, mode: mode})
			}
			r.keys = append(r.keys, key)
		}
		for _, t := range strings.Split(right, ",") {
			t = strings.TrimSpace(t)
			if normalizeText(t) == "" {
				return nil, fmt.Errorf("lexicon line %d: empty term in %q", n, right)
			}
			r.terms = append(r.terms, t)
		}
		lx.rules = append(lx.rules, r)
	}
	if len(lx.rules) == 0 {
		return nil, fmt.Errorf("lexicon: no mappings")
	}
	return lx, nil
}

// DefaultLexicon returns the lexicon built into the package (lexicon.tsv).
func DefaultLexicon() *Lexicon {
	lx, err := ParseLexicon(defaultLexicon)
	if err != nil {
		panic("consult: lexicon.tsv: " + err.Error()) // tested
	}
	return lx
}

// Len returns the number of mappings.
func (lx *Lexicon) Len() int { return len(lx.rules) }

// Expand returns the administrative terms of every mapping whose everyday
// word occurs in question, in lexicon order, without repeats.
func (lx *Lexicon) Expand(question string) []string {
	if lx == nil {
		return nil
	}
	compact := compactText(question)
	raw := strings.Fields(normalizeText(question))
	var stripped []string
	for _, w := range raw {
		stripped = append(stripped, stripWord(w))
	}
	var out []string
	seen := make(map[string]bool)
	for _, r := range lx.rules {
		if !r.matches(compact, raw, stripped) {
			continue
		}
		for _, t := range r.terms {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

func (r lexRule) matches(compact string, raw, stripped []string) bool {
	for _, k := range r.keys {
		all := true
		for _, p := range k {
			if !p.matches(compact, raw, stripped) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (p lexPart) matches(compact string, raw, stripped []string) bool {
	switch p.mode {
	case 's':
		return strings.Contains(compact, p.s)
	case 'w':
		for i := range raw {
			if isWordWithParticle(raw[i], p.s) || isWordWithParticle(stripped[i], p.s) {
				return true
			}
		}
	case 'p':
		for _, w := range raw {
			if strings.HasPrefix(w, p.s) {
				return true
			}
		}
	}
	return false
}

// isWordWithParticle reports whether w is key, or key and one particle.
func isWordWithParticle(w, key string) bool {
	rest, ok := strings.CutPrefix(w, key)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	last, _ := utf8.DecodeLastRuneInString(rest)
	for _, p := range particles[last] {
		if rest == p.s {
			return true
		}
	}
	return false
}
