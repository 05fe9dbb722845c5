package template

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestEUCKRLen(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"가나다", 6},
		{"abc", 3},
		{"가a", 3},
		{"[알리미] 홍길동님 40,000원", 26},
		{"…▶※", 6},                     // KS X 1001 symbols
		{"漢字", 4},                      // KS X 1001 hanja
		{"똠", 1},                       // a CP949-only syllable: sent as '?'
		{"햏a", 2},                      // likewise
		{"😀", 1},                       // emoji: sent as '?'
		{"\n\t", 2},                    // ASCII controls are one byte each
		{string([]byte{0xff, 'a'}), 2}, // invalid UTF-8: one '?'
		{"https://allimi.kr/n/3fK9qZ", 26},
	} {
		assert.Equal(t, tc.want, EUCKRLen(tc.s), "EUCKRLen(%q)", tc.s)
	}
}

// KS X 1001 has exactly 2,350 of the 11,172 modern Hangul syllables; the
// table must not take in CP949's extra ones.
func TestEUCKR_Has2350Syllables(t *testing.T) {
	set := euckrSet()
	n := 0
	for r := rune(0xAC00); r <= 0xD7A3; r++ {
		if inEUCKR(set, r) {
			n++
		}
	}
	assert.Equal(t, 2350, n)
	for _, r := range "가각힝흰" {
		assert.True(t, inEUCKR(set, r), "%q", r)
	}
	for _, r := range "똠햏뷁" {
		assert.False(t, inEUCKR(set, r), "%q", r)
	}
	assert.False(t, inEUCKR(set, 'a'), "ASCII is one byte, not in the two-byte set")
	assert.False(t, inEUCKR(set, utf8.RuneError))
}
