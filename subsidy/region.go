package subsidy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Region is where a kiosk stands: its 시도 and, optionally, its 시군구.
// The zero Region is everywhere.
type Region struct {
	Sido    string // as given, e.g. "경기" or "경기도"
	Sigungu string // as given, e.g. "성남시"; "" when not configured

	keys uint32   // sidoKey bits of Sido
	sgg  []string // normalised 시군구 words of Sigungu
}

// sido is one 시도: the names 소관기관명 and a kiosk's configuration use for
// it, and the regions it covers (a merged 시도 covers two).
type sido struct {
	full  []string // official names, also as a prefix ("서울특별시교육청")
	short []string // short names, only as a whole word
	keys  uint32
}

// Region keys: one bit per historical 시도.
const (
	keySeoul uint32 = 1 << iota
	keyBusan
	keyDaegu
	keyIncheon
	keyGwangju
	keyDaejeon
	keyUlsan
	keySejong
	keyGyeonggi
	keyGangwon
	keyChungbuk
	keyChungnam
	keyJeonbuk
	keyJeonnam
	keyGyeongbuk
	keyGyeongnam
	keyJeju
)

var sidos = []sido{
	{[]string{"서울특별시"}, []string{"서울", "서울시"}, keySeoul},
	{[]string{"부산광역시"}, []string{"부산", "부산시"}, keyBusan},
	{[]string{"대구광역시"}, []string{"대구", "대구시"}, keyDaegu},
	{[]string{"인천광역시"}, []string{"인천", "인천시"}, keyIncheon},
	{[]string{"광주광역시"}, []string{"광주"}, keyGwangju},
	{[]string{"대전광역시"}, []string{"대전", "대전시"}, keyDaejeon},
	{[]string{"울산광역시"}, []string{"울산", "울산시"}, keyUlsan},
	{[]string{"세종특별자치시"}, []string{"세종", "세종시"}, keySejong},
	{[]string{"경기도"}, []string{"경기"}, keyGyeonggi},
	{[]string{"강원특별자치도", "강원도"}, []string{"강원"}, keyGangwon},
	{[]string{"충청북도"}, []string{"충북"}, keyChungbuk},
	{[]string{"충청남도"}, []string{"충남"}, keyChungnam},
	{[]string{"전북특별자치도", "전라북도"}, []string{"전북"}, keyJeonbuk},
	{[]string{"전라남도"}, []string{"전남"}, keyJeonnam},
	{[]string{"경상북도"}, []string{"경북"}, keyGyeongbuk},
	{[]string{"경상남도"}, []string{"경남"}, keyGyeongnam},
	{[]string{"제주특별자치도", "제주도"}, []string{"제주"}, keyJeju},
	// 광주광역시 and 전라남도 merged; its agencies serve kiosks of either.
	{[]string{"전남광주통합특별시"}, []string{"전남광주"}, keyGwangju | keyJeonnam},
}

// ParseRegion reads a kiosk's region, "시도" or "시도/시군구" (e.g.
// "경기/성남시", "서울특별시/종로구"). The 시도 is one of Korea's, by its
// official or short name; "" is everywhere.
func ParseRegion(s string) (Region, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Region{}, nil
	}
	sd, sgg, _ := strings.Cut(s, "/")
	sd, sgg = strings.TrimSpace(sd), strings.TrimSpace(sgg)
	var keys uint32
	for _, x := range sidos {
		for _, names := range [][]string{x.full, x.short} {
			for _, n := range names {
				if n == sd {
					keys = x.keys
				}
			}
		}
	}
	if keys == 0 {
		return Region{}, fmt.Errorf("region %q: %q is not a 시도 (e.g. 서울, 경기, 전남광주통합특별시): %w", s, sd, ErrUnknownRegion)
	}
	if strings.Contains(sgg, "/") {
		return Region{}, fmt.Errorf("region %q: write 시도/시군구, with one slash: %w", s, ErrUnknownRegion)
	}
	return Region{Sido: sd, Sigungu: sgg, keys: keys, sgg: sigunguWords(sgg, false)}, nil
}

// IsZero reports whether r is everywhere.
func (r Region) IsZero() bool { return r.keys == 0 }

func (r Region) String() string {
	if r.Sigungu == "" {
		return r.Sido
	}
	return r.Sido + "/" + r.Sigungu
}

// place is where a service is offered, for the region filter.
type place struct {
	local bool     // 소관기관유형 지방자치단체
	keys  uint32   // 시도 named by 소관기관명; 0 when it names none
	sgg   []string // 시군구 words named by 소관기관명
}

// orgTypeLocal is the 소관기관유형 of local governments.
const orgTypeLocal = "지방자치단체"

func placeOf(s *Service) place {
	if strings.TrimSpace(s.OrgType) != orgTypeLocal {
		return place{}
	}
	keys, rest := orgSido(strings.TrimSpace(s.Org))
	return place{local: true, keys: keys, sgg: sigunguWords(rest, true)}
}

// orgSido finds the 시도 an agency name starts with and returns what
// follows it. Official names may run into the rest ("부산광역시교육청"),
// short ones must stand as a word ("경기 성남시").
func orgSido(org string) (keys uint32, rest string) {
	best := 0
	for _, x := range sidos {
		for _, n := range x.full {
			if len(n) > best && strings.HasPrefix(org, n) {
				best, keys, rest = len(n), x.keys, org[len(n):]
			}
		}
		for _, n := range x.short {
			if len(n) > best && (org == n || strings.HasPrefix(org, n+" ")) {
				best, keys, rest = len(n), x.keys, org[len(n):]
			}
		}
	}
	return keys, rest
}

// sigunguWords returns the 시·군·구 words of s, each without its last
// syllable 시, 군 or 구, so that "성남시" and "성남" compare equal. In an
// agency name (strict) only the leading words that end so count, so that
// a remainder that is no 시군구 ("교육청") gives none; a kiosk's own
// 시군구 may be written short ("성남").
func sigunguWords(s string, strict bool) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		last, size := utf8.DecodeLastRuneInString(w)
		isSGG := last == '시' || last == '군' || last == '구'
		if strict && !isSGG {
			break
		}
		if stem := w[:len(w)-size]; isSGG && stem != "" {
			w = stem
		}
		out = append(out, w)
	}
	return out
}

// covers reports whether a service offered at p is listed for a kiosk in r.
// Central agencies and public bodies serve everywhere; a local government
// only where its name names the kiosk's 시도, and its 시군구 when the name
// has one (spec "Where"). A kiosk configured without 시군구 lists every
// local service of its 시도.
func (r Region) covers(p place) bool {
	if r.IsZero() || !p.local {
		return true
	}
	if p.keys&r.keys == 0 {
		return false
	}
	for i := range min(len(p.sgg), len(r.sgg)) {
		if p.sgg[i] != r.sgg[i] {
			return false
		}
	}
	return true
}

// Canonical is r with its 시도 by its official name ("경기/성남시" →
// "경기도/성남시"), so that a region written short or long is one region
// (central counts sign-ups per kiosk region). A merged 시도 keeps its own
// name; the zero Region is "".
func (r Region) Canonical() string {
	if r.IsZero() {
		return ""
	}
	sd := r.Sido
	for _, x := range sidos {
		if x.keys == r.keys {
			sd = x.full[0]
			break
		}
	}
	if r.Sigungu == "" {
		return sd
	}
	return sd + "/" + r.Sigungu
}

// CanonicalRegion checks a region as ParseRegion does, and as a sign-up's
// payload.region is checked (at most 100 bytes), and returns it Canonical.
func CanonicalRegion(s string) (string, error) {
	if len(s) > 100 {
		return "", fmt.Errorf("region: longer than 100 bytes: %w", ErrUnknownRegion)
	}
	r, err := ParseRegion(s)
	if err != nil {
		return "", err
	}
	return r.Canonical(), nil
}
