package consult

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDevSet_Shape(t *testing.T) {
	kb, _ := embedded(t)
	qs, err := ParseDevSet(defaultDevSet)
	require.NoError(t, err)
	answerable, entries := 0, make(map[string]bool)
	splits := make(map[string]int)
	for _, q := range qs {
		splits[q.Split]++
		if len(q.IDs) > 0 {
			answerable++
		}
		for _, id := range q.IDs {
			e, ok := kb.Entry(id)
			require.True(t, ok, "%q is labelled with %s, which the KB does not have", q.Question, id)
			assert.False(t, e.Retired)
			entries[id] = true
		}
	}
	assert.GreaterOrEqual(t, answerable, 150, "answerable questions")
	assert.GreaterOrEqual(t, len(entries), 120, "distinct entries labelled")
	assert.Greater(t, splits[SplitDev], 0)
	assert.Greater(t, splits[SplitTest], 0)
}

// The dev set is paraphrases: none of its questions is a KB question, even
// once normalised (spacing, punctuation, endings and particles aside).
func TestDevSet_NoKBQuestionVerbatim(t *testing.T) {
	kb, _ := embedded(t)
	kbq := make(map[string]string)
	for _, e := range kb.Entries {
		kbq[compactText(e.Question)] = e.Question
		kbq[strings.Join(words(e.Question), "")] = e.Question
	}
	for _, q := range DefaultDevSet() {
		for _, key := range []string{compactText(q.Question), strings.Join(words(q.Question), "")} {
			if orig, ok := kbq[key]; ok {
				t.Errorf("dev question %q is the KB question %q", q.Question, orig)
			}
		}
	}
}

func TestParseDevSet_Errors(t *testing.T) {
	for _, tc := range []struct{ name, in, says string }{
		{"two columns", "dev\t주거급여\n", "line 1: want split, ids and question"},
		{"unknown split", "# c\ntrain\ta1\t질문\n", "line 2: split \"train\""},
		{"empty question", "dev\ta1\t  \n", "empty question"},
		{"bad id", "test\ta1,b 2\t질문\n", `entry id "b 2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDevSet(tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
	qs, err := ParseDevSet("dev\t-\t오늘 날씨\ntest\ta1,b2\t질문\n")
	require.NoError(t, err)
	assert.Equal(t, []DevQuestion{{Split: SplitDev, Question: "오늘 날씨"}, {Split: SplitTest, IDs: []string{"a1", "b2"}, Question: "질문"}}, qs)
}

// The retriever against the plain BM25 baseline, in the same run, on both
// splits; and the goals on the held-out split.
func TestEvaluate_RetrieverBeatsBaseline(t *testing.T) {
	kb, _ := embedded(t)
	ev, err := Evaluate(kb, DefaultLexicon(), DefaultDevSet())
	require.NoError(t, err)
	for _, split := range []string{SplitDev, SplitTest} {
		r, b, nl := ev.Retriever[split], ev.Baseline[split], ev.NoLexicon[split]
		t.Logf("%s (%d questions): retriever top-1 %.3f top-3 %.3f | without lexicon %.3f %.3f | BM25 %.3f %.3f | confident: right %.2f wrong %.2f unanswerable %.2f of %d",
			split, r.Questions, r.Top1, r.Top3, nl.Top1, nl.Top3, b.Top1, b.Top3,
			r.Confidence.ConfidentRight, r.Confidence.ConfidentWrong, r.Confidence.ConfidentUnanswerable, r.Confidence.Unanswerable)
		assert.Greater(t, r.Top1, b.Top1, split)
		assert.Greater(t, r.Top3, b.Top3, split)
		assert.GreaterOrEqual(t, r.Top3, nl.Top3, "%s: the lexicon does not hurt", split)
		assert.Greater(t, r.Confidence.ConfidentRight, r.Confidence.ConfidentWrong, "%s: confidence separates", split)
	}
	held := ev.Retriever[SplitTest]
	assert.GreaterOrEqual(t, held.Top3, 0.85, "goal: top-3 on held-out paraphrases")
	assert.GreaterOrEqual(t, held.Top1, 0.70, "goal: top-1 on held-out paraphrases")
	assert.Equal(t, 531, ev.Entries)
	t.Logf("index build %.1f ms, %.0f ns/query (BM25 %.0f ns/query)", ev.BuildMs, ev.NsPerQuery, ev.BaselineNsPerQuery)
}

func BenchmarkSearch(b *testing.B) {
	_, ix := embedded(b)
	qs := DefaultDevSet()
	i := 0
	for b.Loop() {
		if _, err := ix.Search(qs[i%len(qs)].Question, 3); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSearchBM25 is the baseline's time per query, for comparison in
// the same run.
func BenchmarkSearchBM25(b *testing.B) {
	kb, _ := embedded(b)
	base := NewBM25(kb)
	qs := DefaultDevSet()
	i := 0
	for b.Loop() {
		if _, err := base.Search(qs[i%len(qs)].Question, 3); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkNewIndex(b *testing.B) {
	kb, _ := embedded(b)
	lx := DefaultLexicon()
	for b.Loop() {
		if _, err := NewIndex(kb, lx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutocomplete(b *testing.B) {
	_, ix := embedded(b)
	typed := []string{"주", "주거", "주거ㄱ", "주거그", "주거급", "주거급여", "민생", "집세"}
	i := 0
	for b.Loop() {
		ix.Autocomplete(typed[i%len(typed)], 5)
		i++
	}
}
