package template

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// unencodable replaces, in SMS and LMS text, a character EUC-KR lacks.
const unencodable = '?'

// euckrSet holds one bit per BMP code point that KS X 1001 encodes in two
// bytes (0xA1–0xFE, 0xA1–0xFE). It is built on first use from
// golang.org/x/text, whose EUC-KR is in fact CP949: its extra syllables
// (lead or trail byte below 0xA1) are left out on purpose.
var euckrSet = sync.OnceValue(func() *[0x10000 / 64]uint64 {
	src := make([]byte, 0, 94*94*2)
	for lead := 0xA1; lead <= 0xFE; lead++ {
		for trail := 0xA1; trail <= 0xFE; trail++ {
			src = append(src, byte(lead), byte(trail))
		}
	}
	// Every pair decodes to exactly one rune: an unassigned pair with a
	// trail byte ≥ 0x80 decodes as one RuneError of size 2.
	dst, err := korean.EUCKR.NewDecoder().Bytes(src)
	if err != nil {
		panic("template: decode the KS X 1001 table: " + err.Error())
	}
	var set [0x10000 / 64]uint64
	for _, r := range string(dst) {
		if r != utf8.RuneError && r < 0x10000 {
			set[r/64] |= 1 << (r % 64)
		}
	}
	return &set
})

// inEUCKR reports whether r has a two-byte EUC-KR (KS X 1001) code.
func inEUCKR(set *[0x10000 / 64]uint64, r rune) bool {
	return r >= 0x80 && r < 0x10000 && set[r/64]&(1<<(r%64)) != 0
}

// EUCKRLen returns the length in bytes of s as Render sends it by SMS or
// LMS: 1 for an ASCII character, 2 for a character of EUC-KR, and 1 for any
// other character, which is sent as '?'. So EUCKRLen("가나다") is 6,
// EUCKRLen("abc") is 3, EUCKRLen("가a") is 3 and EUCKRLen("똠") is 1.
//
// SMS and LMS travel in EUC-KR, that is KS X 1001: the 2,350 common Hangul
// syllables, 4,888 hanja and symbols such as "…" and "▶". The other 8,822
// modern syllables ("똠", "햏"), most hanja and every emoji have no code in
// it, and what becomes of them depends on the gateway and the phone: some
// send CP949, which has the syllables but no emoji; others put '?' in their
// place, drop them or refuse the message. So that the count is exact and
// the result the same everywhere, Render sends each of them as '?' in SMS
// and LMS text. KakaoTalk, Naver and Toss carry UTF-8 and keep them.
func EUCKRLen(s string) int {
	set := euckrSet()
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if inEUCKR(set, r) {
			n += 2
		} else {
			n++
		}
	}
	return n
}
