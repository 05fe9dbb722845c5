package kiosk

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/text/unicode/norm"
)

// typeKeys feeds keys to a composer starting from text; '\b' is backspace.
func typeKeys(text, keys string) string {
	var h HangulComposer
	h.Reset(text)
	for _, r := range keys {
		if r == '\b' {
			h.Backspace()
			continue
		}
		h.Input(r)
	}
	return h.String()
}

func TestHangulComposer_Table(t *testing.T) {
	cases := []struct {
		name, start, keys, want string
	}{
		{"empty", "", "", ""},
		{"lone initial", "", "ㄱ", "ㄱ"},
		{"initial and medial", "", "ㄱㅏ", "가"},
		{"with final", "", "ㄱㅏㄴ", "간"},
		{"name 김순자", "", "ㄱㅣㅁㅅㅜㄴㅈㅏ", "김순자"},
		{"name 이영희", "", "ㅇㅣㅇㅕㅇㅎㅡㅣ", "이영희"},
		{"name 박정호", "", "ㅂㅏㄱㅈㅓㅇㅎㅗ", "박정호"},
		{"name 최원석", "", "ㅊㅗㅣㅇㅜㅓㄴㅅㅓㄱ", "최원석"},
		{"final moves: 간+ㅏ", "", "ㄱㅏㄴㅏ", "가나"},
		{"compound final splits: 닭+ㅏ", "", "ㄷㅏㄹㄱㅏ", "달가"},
		{"compound final splits: 값+ㅣ", "", "ㄱㅏㅂㅅㅣ", "갑시"},
		{"compound final splits: 앉+ㅏ", "", "ㅇㅏㄴㅈㅏ", "안자"},
		{"final then consonant", "", "ㄱㅏㄴㄷ", "간ㄷ"},
		{"third consonant starts a syllable", "", "ㄷㅏㄹㄱㄱ", "닭ㄱ"},
		{"no compound: ㄱ+ㄱ", "", "ㄱㅏㄱㄱㅏ", "각가"},
		{"ㄸ is no final", "", "ㄱㅏㄸ", "가ㄸ"},
		{"ㅃ is no final", "", "ㄱㅏㅃㅏ", "가빠"},
		{"ㅉ is no final", "", "ㄱㅏㅉ", "가ㅉ"},
		{"ㄲ and ㅆ are finals", "", "ㄲㅏㄲㅆㅏ", "깎싸"},
		{"ㅆ final", "", "ㅇㅣㅆ", "있"},
		{"two initials", "", "ㄱㄴ", "ㄱㄴ"},
		{"two initials then vowel", "", "ㄱㄴㅏ", "ㄱ나"},
		{"lone vowel", "", "ㅏ", "ㅏ"},
		{"lone vowels", "", "ㅏㅏ", "ㅏㅏ"},
		{"lone compound vowel", "", "ㅗㅏ", "ㅘ"},
		{"lone vowel takes no final", "", "ㅏㄴ", "ㅏㄴ"},
		{"lone vowel then syllable", "", "ㅏㄴㅏ", "ㅏ나"},
		{"two vowels that do not combine", "", "ㄱㅏㅗ", "가ㅗ"},
		{"compound medial then vowel", "", "ㄱㅗㅏㅏ", "과ㅏ"},
		{"compound medial with final", "", "ㄱㅗㅏㅇ", "광"},
		{"compound medial, compound final", "", "ㄱㅗㅏㄹㄱ", "괅"},
		{"vowel after compound medial's final", "", "ㄱㅗㅏㄴㅣ", "과니"},
		{"shifted vowels", "", "ㅇㅒㄱㅖ", "얘계"},

		{"space ends a syllable", "", "ㄱㅏ ㄴㅏ", "가 나"},
		{"space after final keeps it", "", "ㄱㅏㄴ ㅏ", "간 ㅏ"},
		{"Latin letters", "", "Kim", "Kim"},
		{"Latin after Hangul", "", "ㄱㅣㅁA", "김A"},
		{"digit", "", "ㄱㅏ1ㅏ", "가1ㅏ"},
		{"compound consonant as input is kept", "", "ㄱㅏㄳ", "가ㄳ"},
		{"hyphen", "", "ㄱㅏ-ㄴㅏ", "가-나"},

		{"backspace: 갃 → 각 → 가 → ㄱ → empty", "", "ㄱㅏㄱㅅ\b", "각"},
		{"backspace twice", "", "ㄱㅏㄱㅅ\b\b", "가"},
		{"backspace thrice", "", "ㄱㅏㄱㅅ\b\b\b", "ㄱ"},
		{"backspace four times", "", "ㄱㅏㄱㅅ\b\b\b\b", ""},
		{"backspace on empty", "", "\b\b", ""},
		{"backspace in compound medial", "", "ㄱㅗㅏ\b", "고"},
		{"backspace then other medial", "", "ㄱㅗㅏ\bㅣ", "괴"},
		{"backspace then other final", "", "ㄷㅏㄹㄱ\bㅁ", "닮"},
		{"backspace after move", "", "ㄷㅏㄹㄱㅏ\b", "달ㄱ"},
		{"backspace after move, twice", "", "ㄷㅏㄹㄱㅏ\b\b", "달"},
		{"backspace deletes a finished syllable whole", "", "ㄷㅏㄹㄱㅏ\b\b\b", ""},
		{"backspace, then composing goes on", "", "ㄱㅏㄴ\bㅇ", "강"},
		{"backspace deletes a space", "", "ㄱㅏ \b", "가"},
		{"backspace of lone vowel", "", "ㅗㅏ\b", "ㅗ"},

		{"start text is kept", "홍", "ㄱㅣㄹ", "홍길"},
		{"start text is final", "가", "ㄴㅏ", "가나"},
		{"start text: backspace deletes its last character", "김순자", "\b", "김순"},
		{"start text is not recomposed", "각", "ㅅ", "각ㅅ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, typeKeys(c.start, c.keys))
		})
	}
}

// TestHangulComposer_EveryCompoundMedial types each of the seven vowels
// made of two keys after ㅇ.
func TestHangulComposer_EveryCompoundMedial(t *testing.T) {
	cases := map[string]string{
		"ㅇㅗㅏ": "와", "ㅇㅗㅐ": "왜", "ㅇㅗㅣ": "외",
		"ㅇㅜㅓ": "워", "ㅇㅜㅔ": "웨", "ㅇㅜㅣ": "위",
		"ㅇㅡㅣ": "의",
	}
	assert.Len(t, cases, len(compoundMedials))
	for keys, want := range cases {
		assert.Equal(t, want, typeKeys("", keys), keys)
		// Backspace takes back the second key only.
		assert.Equal(t, string(typeKeys("", string([]rune(keys)[:2]))), typeKeys("", keys+"\b"), keys)
	}
}

// TestHangulComposer_EveryFinal types 가 with each of the 27 finals: the
// expected syllables are U+AC01…U+AC1B, written out.
func TestHangulComposer_EveryFinal(t *testing.T) {
	want := []rune("각갂갃간갅갆갇갈갉갊갋갌갍갎갏감갑값갓갔강갖갗갘같갚갛")
	keys := []string{"ㄱ", "ㄲ", "ㄱㅅ", "ㄴ", "ㄴㅈ", "ㄴㅎ", "ㄷ", "ㄹ", "ㄹㄱ", "ㄹㅁ", "ㄹㅂ", "ㄹㅅ", "ㄹㅌ",
		"ㄹㅍ", "ㄹㅎ", "ㅁ", "ㅂ", "ㅂㅅ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"}
	assert.Len(t, want, 27)
	compounds := 0
	for i, k := range keys {
		assert.Equal(t, string(want[i]), typeKeys("", "ㄱㅏ"+k), "가 + %s", k)
		ks := []rune(k)
		if len(ks) == 2 {
			compounds++
			// Backspace takes back the final's second key; a vowel
			// takes it to the next syllable.
			assert.Equal(t, typeKeys("", "ㄱㅏ"+string(ks[0])), typeKeys("", "ㄱㅏ"+k+"\b"), "가 + %s, backspace", k)
			assert.Equal(t, typeKeys("", "ㄱㅏ"+string(ks[0]))+typeKeys("", string(ks[1])+"ㅏ"), typeKeys("", "ㄱㅏ"+k+"ㅏ"), "가 + %s + ㅏ", k)
		} else {
			assert.Equal(t, "가"+typeKeys("", k+"ㅏ"), typeKeys("", "ㄱㅏ"+k+"ㅏ"), "가 + %s + ㅏ", k)
		}
	}
	assert.Equal(t, len(compoundFinals), compounds)
}

// TestHangulComposer_EveryInitialAndMedial checks all 19 × 21 syllables
// without a final against Unicode's own composition: the compatibility
// jamo a key types decomposes (NFKC) into the conjoining jamo that NFC
// composes into the syllable.
func TestHangulComposer_EveryInitialAndMedial(t *testing.T) {
	n := 0
	for _, c := range initials {
		for v := firstVowel; v <= lastVowel; v++ {
			want := norm.NFC.String(norm.NFKC.String(string(c)) + norm.NFKC.String(string(v)))
			assert.Equal(t, want, typeKeys("", string(c)+string(v)), "%c + %c", c, v)
			n++
		}
	}
	assert.Equal(t, 19*21, n)
}

func TestHangulComposer_Composing(t *testing.T) {
	var h HangulComposer
	assert.False(t, h.Composing())
	h.Input('ㄱ')
	assert.True(t, h.Composing())
	h.Input(' ')
	assert.False(t, h.Composing())
	assert.Equal(t, "ㄱ ", h.String())
}
