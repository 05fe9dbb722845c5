package consult

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func suggested(s []Suggestion) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.Question)
	}
	return out
}

func TestAutocomplete_QuestionStartsFirst(t *testing.T) {
	_, ix := embedded(t)
	got := ix.Autocomplete("주거급", 5)
	require.Len(t, got, 5)
	for _, s := range got {
		assert.True(t, strings.HasPrefix(s.Question, "주거급여"), "%q", s.Question)
		e, ok := ix.Entry(s.EntryID)
		require.True(t, ok)
		assert.Equal(t, e.Question, s.Question)
	}
}

func TestAutocomplete_SyllableBeingComposed(t *testing.T) {
	_, ix := embedded(t)
	want := suggested(ix.Autocomplete("주거급", 3))
	// Typing ㄱ ㅡ ㅂ after 주거 shows 주걱, then 주거그, then 주거급.
	for _, typed := range []string{"주거ㄱ", "주걱", "주거그", "주 거 급"} {
		assert.Equal(t, want, suggested(ix.Autocomplete(typed, 3)), typed)
	}
}

func TestAutocomplete_WordStartsAndKeywords(t *testing.T) {
	_, ix := embedded(t)
	got := suggested(ix.Autocomplete("흑백", 3))
	require.NotEmpty(t, got)
	assert.Contains(t, got[0], "흑백", "a word of the question starts with it")
	// "김영란법" is only a keyword of the 청탁금지 entries.
	kw := suggested(ix.Autocomplete("김영란", 3))
	require.NotEmpty(t, kw)
	assert.Contains(t, kw[0], "청탁금지")
}

func TestAutocomplete_FallsBackToSearch(t *testing.T) {
	_, ix := embedded(t)
	got := suggested(ix.Autocomplete("집세", 3))
	require.NotEmpty(t, got, "no question starts with 집세, but the lexicon knows it")
	assert.Contains(t, strings.Join(got, "|"), "주거급여")
	// A single syllable does not search: too early to guess.
	assert.Empty(t, ix.Autocomplete("뷁", 3))
}

func TestAutocomplete_Limits(t *testing.T) {
	_, ix := embedded(t)
	assert.Empty(t, ix.Autocomplete("", 5))
	assert.Empty(t, ix.Autocomplete("  ?", 5))
	assert.Empty(t, ix.Autocomplete("민생", 0))
	got := ix.Autocomplete("민생", 4)
	assert.Len(t, got, 4)
	seen := make(map[string]bool)
	for _, s := range ix.Autocomplete("민생", 50) {
		assert.False(t, seen[s.EntryID], "no entry twice")
		seen[s.EntryID] = true
	}
}
