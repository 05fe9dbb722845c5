package consult

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/assets"
)

// embeddedKB and embeddedIndex are built once for the tests that only read.
var (
	embeddedOnce  sync.Once
	embeddedKBv   KB
	embeddedIndex *Index
)

func embedded(t testing.TB) (KB, *Index) {
	t.Helper()
	embeddedOnce.Do(func() {
		kb, err := DecodeCatalog(assets.ConsultKB())
		if err != nil {
			panic(err)
		}
		ix, err := NewIndex(kb, DefaultLexicon())
		if err != nil {
			panic(err)
		}
		embeddedKBv, embeddedIndex = kb, ix
	})
	return embeddedKBv, embeddedIndex
}

func questions(r Result) []string {
	var out []string
	for _, a := range r.Answers {
		out = append(out, a.Question)
	}
	return out
}

func TestSearch_SpokenQuestions(t *testing.T) {
	_, ix := embedded(t)
	for _, tc := range []struct {
		name, question string
		top            int    // rank within which an answer must be
		about          string // what that answer's question says
	}{
		{"the issue's example", "집세 보태 주는 거 있어요?", 3, "주거급여"},
		{"everyday document name", "등본 한 통 떼는 데 얼마예요", 1, "등초본"},
		{"misheard word", "에너지 바우쳐 신청은 어디서 해요", 1, "에너지바우처"},
		{"no spaces at all", "운전면허증잃어버렸는데어디서신고해요", 1, "운전면허증"},
		{"regional ending", "해파리 봤는디 신고는 어디다 혀요", 1, "해파리"},
		{"hospital bills", "병원비가 너무 많이 나와서 감당을 못 하겠어요", 3, "의료비"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ix.Search(tc.question, tc.top)
			require.NoError(t, err)
			require.NotEmpty(t, r.Answers)
			found := false
			for _, a := range r.Answers {
				found = found || strings.Contains(strings.ReplaceAll(a.Question, " ", ""), tc.about)
			}
			assert.True(t, found, "no answer about %s in the first %d: %q", tc.about, tc.top, questions(r))
		})
	}
}

func TestSearch_SpacingDoesNotMatter(t *testing.T) {
	_, ix := embedded(t)
	a, err := ix.Search("주민등록증 사진 흑백으로 찍어도 되나요", 3)
	require.NoError(t, err)
	b, err := ix.Search("주민 등록 증사진 흑 백으로찍어도되나요", 3)
	require.NoError(t, err)
	require.NotEmpty(t, a.Answers)
	assert.Equal(t, questions(a), questions(b))
}

func TestSearch_FindsEveryKBQuestionItself(t *testing.T) {
	kb, ix := embedded(t)
	self := 0
	for _, e := range kb.Entries {
		r, err := ix.Search(e.Question, 1)
		require.NoError(t, err)
		if len(r.Answers) > 0 && r.Answers[0].ID == e.ID {
			self++
		}
	}
	// A few KB questions have twins ("친환경농축산물 인증제도가 무엇인가요?"
	// and "...가 궁금합니다."), so not all of them can come first.
	assert.GreaterOrEqual(t, float64(self)/float64(len(kb.Entries)), 0.95, "%d of %d", self, len(kb.Entries))
}

func TestSearch_ScoresAndLimits(t *testing.T) {
	_, ix := embedded(t)
	r, err := ix.Search("소비쿠폰 언제까지 써요", 5)
	require.NoError(t, err)
	require.Len(t, r.Answers, 5)
	for i := 1; i < len(r.Answers); i++ {
		assert.GreaterOrEqual(t, r.Answers[i-1].Score, r.Answers[i].Score)
	}
	one, err := ix.Search("소비쿠폰 언제까지 써요", 0)
	require.NoError(t, err)
	assert.Len(t, one.Answers, 1, "n < 1 means 1")
	all, err := ix.Search("소비쿠폰 언제까지 써요", 10000)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(all.Answers), ix.Len())
}

func TestSearch_EmptyQuestion(t *testing.T) {
	_, ix := embedded(t)
	for _, q := range []string{"", "   ", "\n\t"} {
		_, err := ix.Search(q, 3)
		assert.ErrorIs(t, err, ErrEmptyQuestion, "%q", q)
	}
	r, err := ix.Search("?!…", 3)
	require.NoError(t, err, "punctuation is a question, about nothing")
	assert.Empty(t, r.Answers)
	assert.False(t, r.Confident)
}

func TestSearch_Confidence(t *testing.T) {
	_, ix := embedded(t)
	sure, err := ix.Search("해파리 신고를 하고 싶어요", 3)
	require.NoError(t, err)
	assert.True(t, sure.Confident, "a KB question, word for word: confidence %.2f", sure.Confidence)
	for _, q := range []string{"노래 한 곡 틀어줘", "오늘 점심 뭐 먹지", "손주 생일 선물 추천해 줘"} {
		r, err := ix.Search(q, 3)
		require.NoError(t, err)
		assert.False(t, r.Confident, "%q is not in the KB: confidence %.2f, first %q", q, r.Confidence, questions(r))
		assert.Less(t, r.Confidence, sure.Confidence)
	}
}

func TestSearch_NeverReturnsRetiredEntries(t *testing.T) {
	kb, _ := embedded(t)
	var target Entry
	for _, e := range kb.Entries {
		if strings.HasPrefix(e.Question, "해파리 신고") {
			target = e
		}
	}
	require.NotEmpty(t, target.ID)
	kb2, err := kb.Apply(Update{Retire: []string{target.ID}})
	require.NoError(t, err)
	ix, err := NewIndex(kb2, DefaultLexicon())
	require.NoError(t, err)
	assert.Equal(t, len(kb.Entries)-1, ix.Len())
	r, err := ix.Search(target.Question, 10000)
	require.NoError(t, err)
	for _, a := range r.Answers {
		assert.NotEqual(t, target.ID, a.ID)
	}
	_, ok := ix.Entry(target.ID)
	assert.False(t, ok)
	for _, s := range ix.Autocomplete("해파리", 100) {
		assert.NotEqual(t, target.ID, s.EntryID)
	}
}

func TestSearch_LexiconHelpsEverydayWords(t *testing.T) {
	kb, with := embedded(t)
	without, err := NewIndex(kb, nil)
	require.NoError(t, err)
	rank := func(ix *Index) int {
		r, err := ix.Search("집세 보태 주는 거 있어요", 20)
		require.NoError(t, err)
		for i, a := range r.Answers {
			if strings.Contains(a.Question, "주거급여") {
				return i
			}
		}
		return 99
	}
	assert.Less(t, rank(with), rank(without))
}

func TestSearch_Concurrent(t *testing.T) {
	_, ix := embedded(t)
	want, err := ix.Search("여권 잃어버렸어요", 3)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := ix.Search("여권 잃어버렸어요", 3)
				assert.NoError(t, err)
				assert.Equal(t, questions(want), questions(got))
			}
		}()
	}
	wg.Wait()
}

func TestNewIndex_RefusesInvalidKB(t *testing.T) {
	_, err := NewIndex(KB{Entries: []Entry{{ID: "a", Question: "q", Answer: "x"}, {ID: "a", Question: "q", Answer: "y"}}}, nil)
	assert.ErrorIs(t, err, ErrDuplicateID)
	ix, err := NewIndex(KB{}, nil)
	require.NoError(t, err, "an empty knowledge base is valid")
	r, err := ix.Search("주거급여", 3)
	require.NoError(t, err)
	assert.Empty(t, r.Answers)
}

func TestBM25_Baseline(t *testing.T) {
	kb, _ := embedded(t)
	b := NewBM25(kb)
	got, err := b.Search("해파리 신고", 3)
	require.NoError(t, err)
	require.NotEmpty(t, got)
	assert.Contains(t, got[0].Question, "해파리")
	_, err = b.Search(" ", 3)
	assert.ErrorIs(t, err, ErrEmptyQuestion)
	// Whitespace words only: a particle or a missing space defeats it,
	// which is what the retriever is for.
	none, err := b.Search("해파리신고를", 3)
	require.NoError(t, err)
	assert.Empty(t, none)
}
