package kiosk

// HangulComposer turns the keys of a 두벌식 (standard 2-set) keyboard,
// one compatibility jamo (ㄱ, ㅏ, ...) at a time, into Hangul syllables, as
// a Korean input method does: ㄱ ㅣ ㅁ gives 김. It has no Fyne dependency
// so that the composition rules are tested on their own.
//
// Only the syllable at the end of the text is being composed; the text
// before it is final. Backspace takes back the last jamo of the syllable
// being composed (갃 → 각 → 가 → ㄱ → ""), and a whole character once
// nothing is being composed.
type HangulComposer struct {
	done []rune // the text before the syllable being composed
	cho  rune   // its initial consonant, 0 when none
	// jung and jong are the keys of the medial and the final as typed:
	// one, or two that combine (ㅗ ㅏ → ㅘ, ㄹ ㄱ → ㄺ), so that
	// backspace can take back one of a compound's two keys.
	jung []rune
	jong []rune
}

// Hangul syllables are U+AC00 + (initial × 21 + medial) × 28 + final,
// with the indices below (Unicode §3.12).
const (
	hangulBase   = 0xAC00
	hangulMedial = 21
	hangulFinal  = 28
	firstVowel   = 'ㅏ' // U+314F; the 21 medials follow in index order
	lastVowel    = 'ㅣ' // U+3163
)

// initials are the 19 initial consonants in index order.
var initials = []rune("ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ")

// finals are the 27 final consonants in index order (index 0 is none).
var finals = []rune("ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")

// compoundMedials are the vowels two keys make.
var compoundMedials = map[[2]rune]rune{
	{'ㅗ', 'ㅏ'}: 'ㅘ', {'ㅗ', 'ㅐ'}: 'ㅙ', {'ㅗ', 'ㅣ'}: 'ㅚ',
	{'ㅜ', 'ㅓ'}: 'ㅝ', {'ㅜ', 'ㅔ'}: 'ㅞ', {'ㅜ', 'ㅣ'}: 'ㅟ',
	{'ㅡ', 'ㅣ'}: 'ㅢ',
}

// compoundFinals are the final consonants two keys make.
var compoundFinals = map[[2]rune]rune{
	{'ㄱ', 'ㅅ'}: 'ㄳ', {'ㄴ', 'ㅈ'}: 'ㄵ', {'ㄴ', 'ㅎ'}: 'ㄶ',
	{'ㄹ', 'ㄱ'}: 'ㄺ', {'ㄹ', 'ㅁ'}: 'ㄻ', {'ㄹ', 'ㅂ'}: 'ㄼ', {'ㄹ', 'ㅅ'}: 'ㄽ',
	{'ㄹ', 'ㅌ'}: 'ㄾ', {'ㄹ', 'ㅍ'}: 'ㄿ', {'ㄹ', 'ㅎ'}: 'ㅀ',
	{'ㅂ', 'ㅅ'}: 'ㅄ',
}

func jamoIndex(list []rune, r rune) int {
	for i, x := range list {
		if x == r {
			return i
		}
	}
	return -1
}

func isVowelJamo(r rune) bool { return r >= firstVowel && r <= lastVowel }

// isInitialJamo: a consonant key. The compound consonants (ㄳ, ㄺ, ...)
// are no key of the keyboard and begin no syllable; given to Input they
// are kept as they are, like any other character.
func isInitialJamo(r rune) bool { return jamoIndex(initials, r) >= 0 }

// Reset makes text the composer's text, with nothing being composed: the
// field was changed by other means (a physical keyboard, a new screen).
func (h *HangulComposer) Reset(text string) {
	*h = HangulComposer{done: []rune(text)}
}

// String is the text including the syllable being composed.
func (h *HangulComposer) String() string {
	return string(h.done) + h.current()
}

// Composing reports whether a syllable is being composed.
func (h *HangulComposer) Composing() bool {
	return h.cho != 0 || len(h.jung) > 0
}

// Input adds one key: a jamo is composed into the last syllable, anything
// else (a space, a Latin letter, a digit) ends the syllable and is added
// as it is.
func (h *HangulComposer) Input(r rune) {
	switch {
	case isInitialJamo(r):
		h.consonant(r)
	case isVowelJamo(r):
		h.vowel(r)
	default:
		h.commit()
		h.done = append(h.done, r)
	}
}

func (h *HangulComposer) consonant(c rune) {
	switch {
	case h.cho == 0 || len(h.jung) == 0:
		// A lone vowel takes no final, and two consonants with no vowel
		// make no syllable: c begins a new one.
		h.commit()
		h.cho = c
	case len(h.jong) == 0 && jamoIndex(finals, c) >= 0:
		h.jong = []rune{c}
	case len(h.jong) == 1 && compoundFinals[[2]rune{h.jong[0], c}] != 0:
		h.jong = append(h.jong, c)
	default:
		// ㄸ ㅃ ㅉ are never finals; nor does a third consonant fit.
		h.commit()
		h.cho = c
	}
}

func (h *HangulComposer) vowel(v rune) {
	switch {
	case len(h.jong) > 0:
		// A vowel after a final takes the final's (last) consonant as its
		// initial: 간 + ㅏ → 가나, 닭 + ㅏ → 달가.
		moved := h.jong[len(h.jong)-1]
		h.jong = h.jong[:len(h.jong)-1]
		h.commit()
		h.cho, h.jung = moved, []rune{v}
	case h.cho != 0 && len(h.jung) == 0:
		h.jung = []rune{v}
	case len(h.jung) == 1 && compoundMedials[[2]rune{h.jung[0], v}] != 0:
		h.jung = append(h.jung, v)
	default:
		h.commit()
		h.jung = []rune{v}
	}
}

// Backspace takes back the last jamo of the syllable being composed, or
// deletes the last character when nothing is being composed.
func (h *HangulComposer) Backspace() {
	switch {
	case len(h.jong) > 0:
		h.jong = h.jong[:len(h.jong)-1]
	case len(h.jung) > 0:
		h.jung = h.jung[:len(h.jung)-1]
	case h.cho != 0:
		h.cho = 0
	case len(h.done) > 0:
		h.done = h.done[:len(h.done)-1]
	}
}

// commit makes the syllable being composed final.
func (h *HangulComposer) commit() {
	h.done = append(h.done, []rune(h.current())...)
	h.cho, h.jung, h.jong = 0, nil, nil
}

// combined is the jamo one or two keys make.
func combined(keys []rune, pairs map[[2]rune]rune) rune {
	if len(keys) == 2 {
		return pairs[[2]rune{keys[0], keys[1]}]
	}
	return keys[0]
}

// current is the syllable being composed: a full syllable once it has an
// initial and a medial, else the lone jamo typed so far.
func (h *HangulComposer) current() string {
	switch {
	case h.cho != 0 && len(h.jung) > 0:
		s := hangulBase + (jamoIndex(initials, h.cho)*hangulMedial+int(combined(h.jung, compoundMedials)-firstVowel))*hangulFinal
		if len(h.jong) > 0 {
			s += jamoIndex(finals, combined(h.jong, compoundFinals)) + 1
		}
		return string(rune(s))
	case h.cho != 0:
		return string(h.cho)
	case len(h.jung) > 0:
		return string(combined(h.jung, compoundMedials))
	}
	return ""
}
