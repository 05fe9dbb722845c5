package consult

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultLexicon(t *testing.T) {
	lx, err := ParseLexicon(defaultLexicon)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, lx.Len(), 100, "the issue asks for at least a hundred mappings")
}

func TestLexiconExpand(t *testing.T) {
	lx := DefaultLexicon()
	for _, tc := range []struct {
		name, question string
		has, hasNot    []string
	}{
		{"rent is housing benefit", "집세 보태 주는 거 있어요?", []string{"주거급여"}, nil},
		{"spacing ignored", "월 세 지원", []string{"주거급여"}, nil},
		{"everyday document names", "등본 떼려면", []string{"주민등록표 등본", "발급"}, nil},
		{"hospital bills are medical expenses", "병원비가 너무 많이 나와요", []string{"의료비"}, nil},
		{"one syllable: a whole word with a particle", "쌀을 싸게 사고 싶어요", []string{"복지용 쌀"}, nil},
		{"one syllable: not inside another word", "쌀쌀한 날씨", nil, []string{"복지용 쌀"}},
		{"word prefix", "증명서 뽑을 수 있나", []string{"발급"}, nil},
		{"how much is not how long", "결과 나오는 데 얼마나 걸려요", []string{"소요기간"}, []string{"지급 금액"}},
		{"how much", "지원금 얼마예요", []string{"지급 금액"}, nil},
		{"nothing everyday", "해양보호생물", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := lx.Expand(tc.question)
			for _, h := range tc.has {
				assert.Contains(t, got, h)
			}
			for _, h := range tc.hasNot {
				assert.NotContains(t, got, h)
			}
			if tc.has == nil && tc.hasNot == nil {
				assert.Empty(t, got)
			}
		})
	}
}

func TestLexiconExpand_NoRepeats(t *testing.T) {
	got := DefaultLexicon().Expand("월세 집세 방세")
	seen := make(map[string]bool)
	for _, g := range got {
		assert.False(t, seen[g], "repeated term %q", g)
		seen[g] = true
	}
}

func TestParseLexicon_Errors(t *testing.T) {
	for _, tc := range []struct{ name, in, says string }{
		{"no tab", "# c\n집세 주거급여\n", "lexicon line 2"},
		{"two tabs", "집세\t주거급여\t월세\n", "lexicon line 1"},
		{"empty word", "집세||월세\t주거급여\n", "empty everyday word"},
		{"empty term", "집세\t주거급여, ,월세\n", "empty term"},
		{"nothing", "# only comments\n\n", "no mappings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLexicon(tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

func TestNilLexiconExpandsNothing(t *testing.T) {
	var lx *Lexicon
	assert.Empty(t, lx.Expand("집세"))
}
