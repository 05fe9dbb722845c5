package consult

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalisation of spoken, typed and misrecognised Korean.
//
// A question goes through the same steps as the entries it is matched
// against, so that whatever the steps get wrong, they get wrong on both
// sides:
//
//  1. Unicode NFC (a recogniser or an IME may give decomposed jamo), lower
//     case, and everything that is not a letter or a digit becomes a space.
//  2. Words: each space-separated word loses a spoken sentence ending
//     ("있어요", "되나요", "하는교", "있슈") and then a particle ("를",
//     "에서", "한테"), as long as enough of the word is left; fillers and
//     function words ("저기", "그거", "좀") go.
//  3. The words are joined without spaces ("compact" text), because seniors
//     and recognisers space words freely ("주민 등록 증", "인감증명서잃어버렸어요");
//     n-grams are taken over this text.
//  4. For typo tolerance, the compact text is also decomposed into jamo
//     (compatibility jamo, compound vowels and finals split, ㅐ/ㅔ and ㅒ/ㅖ
//     merged), whose n-grams survive a misheard consonant or vowel:
//     "연굼" still shares most jamo trigrams with "연금".

// normalizeText applies step 1.
func normalizeText(s string) string {
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		switch {
		case isHangulSyllable(r) || isCompatJamo(r):
			b.WriteRune(r)
			space = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// words applies steps 1 and 2 and returns the words that are left.
func words(s string) []string {
	fields := strings.Fields(normalizeText(s))
	out := fields[:0]
	for _, w := range fields {
		if stopWords[w] {
			continue
		}
		w = stripWord(w)
		if w == "" || stopWords[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

// compactText is step 1 with every space removed: what lexicon keys are
// looked for in.
func compactText(s string) string {
	return strings.ReplaceAll(normalizeText(s), " ", "")
}

// stripWord removes one sentence ending and then one particle from a word;
// a word that is only an ending ("있슈") becomes "".
func stripWord(w string) string {
	if w == "" {
		return w
	}
	n := utf8.RuneCountInString(w)
	last, _ := utf8.DecodeLastRuneInString(w)
	for _, e := range endings[last] {
		if strings.HasSuffix(w, e.s) {
			if left := n - e.n; left >= e.keep || left == 0 {
				w, n = w[:len(w)-len(e.s)], left
				break
			}
		}
	}
	if w == "" {
		return w
	}
	last, _ = utf8.DecodeLastRuneInString(w)
	for _, p := range particles[last] {
		if strings.HasSuffix(w, p.s) {
			if n-p.n >= 2 {
				w = w[:len(w)-len(p.s)]
				break
			}
		}
	}
	return w
}

type suffix struct {
	s    string
	n    int // runes
	keep int // runes that must remain
}

// suffixes groups a list by last rune, longest first within a group; an
// ending of two or more syllables may leave a single syllable ("안돼요" →
// "안"), a shorter one must leave two ("필요" keeps its "요").
func suffixes(list []string) map[rune][]suffix {
	out := make(map[rune][]suffix)
	for _, s := range list {
		n := utf8.RuneCountInString(s)
		keep := 2
		if n >= 2 {
			keep = 1
		}
		last, _ := utf8.DecodeLastRuneInString(s)
		out[last] = append(out[last], suffix{s: s, n: n, keep: keep})
	}
	for _, l := range out {
		slices.SortStableFunc(l, func(a, b suffix) int { return b.n - a.n })
	}
	return out
}

// endings are spoken sentence endings, standard and regional, that carry no
// topic. The question words (어디, 언제, 얼마, 누가, 어떻게) are not here:
// they tell "how much" from "until when" among entries about one benefit.
var endings = suffixes([]string{
	// have / is there
	"있었어요", "있어요", "있나요", "있나", "있을까요", "있습니까", "있는지요", "있는지", "있대요", "있다던데",
	"있다면서요", "있다는데", "있던데", "있잖아요", "있슈", "있어유", "있당가", "있는교", "있능교", "있노",
	"있제", "있지요", "있죠", "있어", "있는데",
	"없나요", "없어요", "없을까요", "없는지",
	// can I
	"수있나요", "수있어요", "수있나", "수있을까요", "수있는지", "수있습니까", "수있는교", "수있슈", "수있어",
	// do / become / is
	"하나요", "되나요", "하는지", "되는지", "할까요", "될까요", "인가요", "건가요", "는가요", "은가요",
	"합니까", "됩니까", "입니까", "습니까", "합니다", "됩니다", "입니다", "습니다",
	"해주세요", "해줘요", "주세요", "줘요", "하세요", "세요",
	"해야되나요", "해야하나요", "해야돼요", "해야해요", "해야되요", "해야",
	"한대요", "된대요", "하대요", "래요", "대요", "다던데", "던데", "다면서요", "다면서",
	"이에요", "이예요", "예요", "에요", "거예요", "건데요",
	"해요", "돼요", "되요", "해유", "돼유", "되유", "혀요", "허요",
	"하는교", "되는교", "하능교", "하노", "되노", "카노", "하니껴", "하남", "되남", "하당가", "당가", "랑가",
	"하는데", "는데요", "는데", "어요", "아요", "여요", "지요", "구요", "고요", "거든요", "거든",
	"나요", "까요", "죠", "요",
})

// particles are postpositions that may end a noun.
var particles = suffixes([]string{
	"에서는", "에서도", "에게는", "한테는", "으로는", "으로도", "까지는", "부터는", "이라도", "이랑은",
	"에서", "에게", "한테", "께서", "으로", "로는", "에는", "에도", "까지", "부터", "처럼", "보다", "이나",
	"이랑", "하고", "라도",
	"은", "는", "이", "가", "을", "를", "의", "도", "만", "에", "로", "와", "과", "랑", "나",
})

// stopWords are whole words that carry no topic: fillers, pronouns, and
// what is left of a verb once its ending is gone.
var stopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`
		저기 저기요 저 제 제가 저는 저도 내 내가 나 나는 나도 우리 우리는 너 당신
		그 그거 그게 그건 그걸 그것 그런 그런데 그러니까 그래서 그러면 그럼 근데 이거 이게 이건 이것 이런 저거 저런
		거 것 게 걸 건 데 수 줄 때 좀 좀요 혹시 그냥 막 이제 또 다 한 좀더 아 어 음 네 예 아니 아이고 글쎄 참 진짜 정말
		있 없 하 되 해 돼 할 될 한 된 안 못 잘 뭐 뭔 뭘 무슨 어떤 어느
		있는 있을 있고 있고요 없는 하는 되는 하고 되고 해서 돼서 하면 되면 해도 돼도 할때 하려면 되려면
		받을 받는 받고 받아 받으려면 주는 준다 주나 줘
		알려 알려줘 알려줘요 알고 알고싶어요 궁금 궁금해 궁금해요 궁금합니다 궁금한데 싶어 싶어요 싶은데 싶습니다
		말이에요 말입니다 말이야 말이죠 있잖아 있잖아요 여기 거기 여기서 거기서
	`) {
		m[w] = true
	}
	return m
}()

func isHangulSyllable(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }

// isCompatJamo covers the jamo an IME shows while a syllable is being typed.
func isCompatJamo(r rune) bool { return r >= 0x3131 && r <= 0x318E }

var (
	jamoInitial = []rune("ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ")
	// Vowels with compounds split and ㅐ/ㅔ, ㅒ/ㅖ merged (a recogniser and
	// a hurried typist confuse them alike).
	jamoMedial = []string{"ㅏ", "ㅔ", "ㅑ", "ㅖ", "ㅓ", "ㅔ", "ㅕ", "ㅖ", "ㅗ", "ㅗㅏ", "ㅗㅔ", "ㅗㅣ", "ㅛ", "ㅜ", "ㅜㅓ", "ㅜㅔ", "ㅜㅣ", "ㅠ", "ㅡ", "ㅡㅣ", "ㅣ"}
	jamoFinal  = []string{"", "ㄱ", "ㄲ", "ㄱㅅ", "ㄴ", "ㄴㅈ", "ㄴㅎ", "ㄷ", "ㄹ", "ㄹㄱ", "ㄹㅁ", "ㄹㅂ", "ㄹㅅ", "ㄹㅌ", "ㄹㅍ", "ㄹㅎ", "ㅁ", "ㅂ", "ㅂㅅ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"}
	// Compatibility jamo typed alone, split and merged the same way.
	jamoCompat = map[rune]string{
		'ㄳ': "ㄱㅅ", 'ㄵ': "ㄴㅈ", 'ㄶ': "ㄴㅎ", 'ㄺ': "ㄹㄱ", 'ㄻ': "ㄹㅁ", 'ㄼ': "ㄹㅂ", 'ㄽ': "ㄹㅅ", 'ㄾ': "ㄹㅌ",
		'ㄿ': "ㄹㅍ", 'ㅀ': "ㄹㅎ", 'ㅄ': "ㅂㅅ", 'ㅐ': "ㅔ", 'ㅒ': "ㅖ", 'ㅘ': "ㅗㅏ", 'ㅙ': "ㅗㅔ", 'ㅚ': "ㅗㅣ",
		'ㅝ': "ㅜㅓ", 'ㅞ': "ㅜㅔ", 'ㅟ': "ㅜㅣ", 'ㅢ': "ㅡㅣ",
	}
)

// appendJamo appends the jamo of s to dst (step 4); other characters are
// kept as they are.
func appendJamo(dst []rune, s string) []rune {
	for _, r := range s {
		switch {
		case isHangulSyllable(r):
			i := int(r - 0xAC00)
			dst = append(dst, jamoInitial[i/588])
			for _, j := range jamoMedial[(i%588)/28] {
				dst = append(dst, j)
			}
			for _, j := range jamoFinal[i%28] {
				dst = append(dst, j)
			}
		case isCompatJamo(r):
			if s, ok := jamoCompat[r]; ok {
				for _, j := range s {
					dst = append(dst, j)
				}
			} else {
				dst = append(dst, r)
			}
		default:
			dst = append(dst, r)
		}
	}
	return dst
}
