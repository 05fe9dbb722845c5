package consult

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"spoken ending and fillers go", "집세 보태 주는 거 있어요?", []string{"집세", "보태"}},
		{"particles go", "주거급여를 주민센터에서 신청", []string{"주거급여", "주민센터", "신청"}},
		{"regional endings go", "난방비 보태주는 거 있슈", []string{"난방비", "보태주"}},
		{"can-I endings go", "휴양림 할인받을수있나요", []string{"휴양림", "할인받"}},
		{"punctuation and case", "K-패스(KTX)·GMO?!", []string{"k", "패스", "ktx", "gmo"}},
		{"decomposed jamo are composed first", "\u1112\u1161\u11ab\u1100\u116e\u11a8 주거급여", []string{"한국", "주거급여"}},
		{"short words keep their last syllable", "필요 휴가 국가 연금은", []string{"필요", "휴가", "국가", "연금"}},
		{"nothing but fillers", "저기 그거 좀 알려주세요", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil {
				assert.Empty(t, words(tc.in))
				return
			}
			assert.Equal(t, tc.want, words(tc.in))
		})
	}
}

func TestCompactTextIgnoresSpacing(t *testing.T) {
	assert.Equal(t, compactText("주민등록증 사진"), compactText("주민 등록 증  사진"))
	assert.Equal(t, "주민등록증사진", compactText("주민 등록 증, 사진!"))
}

func TestAppendJamo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"연금", "ㅇㅕㄴㄱㅡㅁ"},
		{"닭", "ㄷㅏㄹㄱ"},    // compound final split
		{"돼", "ㄷㅗㅔ"},     // compound vowel split, ㅐ merged into ㅔ
		{"괘", "ㄱㅗㅔ"},     // the same sound spelt otherwise
		{"얘기", "ㅇㅖㄱㅣ"},   // ㅒ merged into ㅖ
		{"주거ㄱ", "ㅈㅜㄱㅓㄱ"}, // a jamo still being typed
		{"ㄳ", "ㄱㅅ"},      // typed compound jamo split too
		{"tv1", "tv1"},   // the rest is kept
		{"주걱", "ㅈㅜㄱㅓㄱ"},  // what an IME shows on the way to 주거급여
	} {
		assert.Equal(t, tc.want, string(appendJamo(nil, tc.in)), tc.in)
	}
}

func TestJamoTrigramsTolerateOneMisheardJamo(t *testing.T) {
	grams := func(s string) map[feature]bool {
		out := make(map[feature]bool)
		for _, f := range appendFeatures(nil, s, 1<<kindJ3) {
			out[f] = true
		}
		return out
	}
	right, typo, other := grams("농지연금"), grams("농지연굼"), grams("농업회생")
	shared := func(a, b map[feature]bool) int {
		n := 0
		for f := range a {
			if b[f] {
				n++
			}
		}
		return n
	}
	assert.Greater(t, shared(right, typo), len(right)/2, "most jamo trigrams survive one vowel")
	assert.Less(t, shared(right, other), shared(right, typo))
}
