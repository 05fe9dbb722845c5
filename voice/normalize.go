package voice

import (
	"regexp"
	"strconv"
	"strings"
)

// Korean is read differently from how it is written: "43,850원" is
// 사만 삼천팔백오십 원, "2026. 3. 1." is 이천이십육 년 삼 월 일 일, and a phone
// number is read digit by digit, 0 as 공. espeak-ng does not know these
// conventions, so the text is rewritten before it is spoken.

var (
	digitNames = []string{"영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"}
	phoneDigit = []string{"공", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"}
	smallUnits = []string{"", "십", "백", "천"}
	bigUnits   = []string{"", "만", "억", "조", "경"}
)

// SinoKorean reads n in Sino-Korean numerals: 43850 → 사만삼천팔백오십. By
// custom a leading 일 is dropped before 십, 백, 천 and 만 (만 원, not 일만 원).
func SinoKorean(n uint64) string {
	if n == 0 {
		return "영"
	}
	var groups []string
	for i := 0; n > 0; i++ {
		g := n % 10000
		n /= 10000
		if g == 0 {
			continue
		}
		s := fourDigits(int(g))
		if i == 1 && g == 1 {
			s = "" // 만, not 일만
		}
		groups = append([]string{s + bigUnits[i]}, groups...)
	}
	return strings.Join(groups, " ")
}

func fourDigits(g int) string {
	var b strings.Builder
	for pos := 3; pos >= 0; pos-- {
		d := g / pow10(pos) % 10
		if d == 0 {
			continue
		}
		if !(d == 1 && pos > 0) {
			b.WriteString(digitNames[d])
		}
		b.WriteString(smallUnits[pos])
	}
	return b.String()
}

func pow10(n int) int {
	p := 1
	for ; n > 0; n-- {
		p *= 10
	}
	return p
}

// digitwise reads every digit of s on its own, 0 as 공 (phone numbers).
func digitwise(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteString(phoneDigit[r-'0'])
		}
	}
	return b.String()
}

var (
	// 010-1234-5678, 02-123-4567, 1588-1234, and 3–4 digit service numbers
	// after a telephone word (국번 없이 129, ☎ 110).
	phonePattern   = regexp.MustCompile(`\b0\d{1,2}-\d{3,4}-\d{4}\b|\b1\d{3}-\d{4}\b`)
	servicePattern = regexp.MustCompile(`(☎|전화|국번\s*없이|콜센터)\s*(\d{3,4})\b`)
	// 2026. 3. 1. / 2026.3.1 / 2026-03-01
	datePattern = regexp.MustCompile(`\b(\d{4})\s*[.\-]\s*(\d{1,2})\s*[.\-]\s*(\d{1,2})\.?`)
	// 43,850원, 1,000,000 원
	moneyPattern = regexp.MustCompile(`(\d{1,3}(?:,\d{3})+|\d+)\s*원`)
	// any other number, with thousands separators
	numberPattern = regexp.MustCompile(`\d{1,3}(?:,\d{3})+|\d+`)
)

// Normalize rewrites text so that espeak-ng's Korean voice reads numbers,
// money, dates and phone numbers as a person would.
func Normalize(text string) string {
	text = phonePattern.ReplaceAllStringFunc(text, func(m string) string {
		parts := strings.Split(m, "-")
		for i, p := range parts {
			parts[i] = digitwise(p)
		}
		return strings.Join(parts, ", ")
	})
	text = servicePattern.ReplaceAllStringFunc(text, func(m string) string {
		sm := servicePattern.FindStringSubmatch(m)
		return sm[1] + " " + digitwise(sm[2])
	})
	text = datePattern.ReplaceAllStringFunc(text, func(m string) string {
		sm := datePattern.FindStringSubmatch(m)
		y, _ := strconv.ParseUint(sm[1], 10, 64)
		mo, _ := strconv.ParseUint(sm[2], 10, 64)
		d, _ := strconv.ParseUint(sm[3], 10, 64)
		if mo < 1 || mo > 12 || d < 1 || d > 31 {
			return m
		}
		// 6월 and 10월 are read 유월 and 시월.
		month := SinoKorean(mo)
		switch mo {
		case 6:
			month = "유"
		case 10:
			month = "시"
		}
		return SinoKorean(y) + " 년 " + month + " 월 " + SinoKorean(d) + " 일"
	})
	text = moneyPattern.ReplaceAllStringFunc(text, func(m string) string {
		sm := moneyPattern.FindStringSubmatch(m)
		n, err := strconv.ParseUint(strings.ReplaceAll(sm[1], ",", ""), 10, 64)
		if err != nil {
			return m
		}
		return SinoKorean(n) + " 원"
	})
	return numberPattern.ReplaceAllStringFunc(text, func(m string) string {
		n, err := strconv.ParseUint(strings.ReplaceAll(m, ",", ""), 10, 64)
		if err != nil {
			return m
		}
		return SinoKorean(n)
	})
}
