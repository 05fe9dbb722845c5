package template

import (
	"unicode/utf8"

	"allimi"
)

// Kind is the kind of message a rendering is sent as.
type Kind string

// The kinds of message.
const (
	AlimTalk Kind = "alimtalk" // KakaoTalk or Naver AlimTalk
	Push     Kind = "push"     // Toss push
	SMS      Kind = "sms"      // short message, at most 90 bytes of EUC-KR
	LMS      Kind = "lms"      // long message, at most 2,000 bytes of EUC-KR
)

// Limits of the channels. A body is measured in characters (runes) for the
// apps and in EUC-KR bytes for SMS and LMS.
const (
	alimTalkRunes      = 1000 // Kakao's body limit; Naver takes the same
	alimTalkTitleRunes = 50   // emphasised title (강조표기형 타이틀)
	// Toss publishes no figure we design against: we hold its push to the
	// AlimTalk limits, so that one notice reads the same in every app.
	pushRunes      = 1000
	pushTitleRunes = 50
	smsBytes       = 90
	lmsBytes       = 2000
	lmsTitleBytes  = 40
)

// ellipsis marks a cut value or title. It is in KS X 1001 (0xA1A6), so it
// costs 2 bytes in SMS and 1 character elsewhere.
const ellipsis = "…"

// unit is what a channel's limits count.
type unit uint8

const (
	unitRunes unit = iota // characters (code points)
	unitEUCKR             // EUC-KR bytes, as EUCKRLen counts them
)

// size returns the length of s in u.
func (u unit) size(s string) int {
	if u == unitEUCKR {
		return EUCKRLen(s)
	}
	return utf8.RuneCountInString(s)
}

// prefix returns the longest prefix of s, without trailing spaces, whose
// size in u is at most max, and that size.
func (u unit) prefix(s string, max int) (string, int) {
	var set *[0x10000 / 64]uint64
	if u == unitEUCKR {
		set = euckrSet()
	}
	n, end := 0, 0
	for end < len(s) {
		r, w := utf8.DecodeRuneInString(s[end:])
		c := 1
		if u == unitEUCKR && inEUCKR(set, r) {
			c = 2
		}
		if n+c > max {
			break
		}
		n += c
		end += w
	}
	p := s[:end]
	for len(p) > 0 && p[len(p)-1] == ' ' {
		p = p[:len(p)-1]
		n--
	}
	return p, n
}

// channelRules are the limits and the unit of one channel.
type channelRules struct {
	kind       Kind
	unit       unit
	limit      int  // body; for sms the LMS limit, the SMS one is smsBytes
	titleLimit int  // in unit
	cutTitle   bool // a longer title is cut at load instead of refused
	needCode   bool // a provider template code is required
}

// rules returns the rules of ch.
func rules(ch allimi.Channel) channelRules {
	switch ch {
	case allimi.ChannelKakao, allimi.ChannelNaver:
		// The title is registered with the template; a cut one would no
		// longer match it.
		return channelRules{AlimTalk, unitRunes, alimTalkRunes, alimTalkTitleRunes, false, true}
	case allimi.ChannelToss:
		return channelRules{Push, unitRunes, pushRunes, pushTitleRunes, false, false}
	default: // allimi.ChannelSMS
		return channelRules{LMS, unitEUCKR, lmsBytes, lmsTitleBytes, true, false}
	}
}
