package template

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"allimi"
)

// Rendered is one notice ready for a provider.
type Rendered struct {
	Template string // provider template code (kakao, naver; toss if set)
	// Title is the AlimTalk emphasised title, the push headline or the LMS
	// subject; empty for an SMS, which has none.
	Title string
	Text  string
	Kind  Kind
	Bytes int // EUC-KR bytes of Text for SMS and LMS, else 0
	// Params are the body's variables with their values as they appear in
	// Text (cleaned, and cut if the text had to be shortened): AlimTalk's
	// templateParameter, with which the provider renders the same Text.
	Params Params
}

// Params are a template's variables, in the template's order, and their
// values. Names is the template's own slice: read only.
type Params struct {
	Names  []string
	Values []string
}

// Get returns the value of the variable name.
func (p Params) Get(name string) (string, bool) {
	for i, n := range p.Names {
		if n == name {
			return p.Values[i], true
		}
	}
	return "", false
}

// Map returns the variables as a map.
func (p Params) Map() map[string]string {
	m := make(map[string]string, len(p.Names))
	for i, n := range p.Names {
		m[n] = p.Values[i]
	}
	return m
}

// Render fills the template of type t for channel ch with vars.
//
// Every variable of the template must have a value in vars (an empty one
// is fine, except for the link); other entries are ignored. A value is
// text: control characters are dropped, and line breaks and tabs become
// one space, so that a value cannot add lines to the notice; spaces around
// it are trimmed. In SMS and LMS a character EUC-KR lacks is sent as '?'
// (see EUCKRLen).
//
// An SMS over 90 bytes is sent as LMS. A text over its channel's limit
// (AlimTalk and Toss 1,000 characters, LMS 2,000 bytes) is shortened by
// cutting the longest variable values first, each cut one ending in "…",
// until it fits; the link is never cut, and appears in Text byte for byte.
// If the text cannot fit even so, Render returns an error that wraps
// ErrTooLong.
func (s *Set) Render(t allimi.NotificationType, ch allimi.Channel, vars map[string]string) (Rendered, error) {
	return s.RenderNamed(t, "", ch, vars)
}

// RenderNamed is Render with the templates of the Variant called name
// (an empty name: the type's own).
func (s *Set) RenderNamed(t allimi.NotificationType, name string, ch allimi.Channel, vars map[string]string) (Rendered, error) {
	return s.RenderIn(t, name, allimi.DefaultLanguage, ch, vars)
}

// RenderIn is RenderNamed in language lang (one of allimi.Languages; empty
// is Korean): the template lang has for the channel, else, template by
// template, the Korean one. A variant is Korean only; so is the SMS of a
// language EUC-KR cannot carry.
func (s *Set) RenderIn(t allimi.NotificationType, name, lang string, ch allimi.Channel, vars map[string]string) (Rendered, error) {
	c := s.lookup(t, name, lang, ch)
	if c == nil && name != "" {
		return Rendered{}, fmt.Errorf("render %s %s: no template %q: %w", t, ch, name, allimi.ErrNotFound)
	}
	if c == nil {
		if err := t.Validate(); err != nil {
			return Rendered{}, fmt.Errorf("render: %w", err)
		}
		if err := ch.Validate(); err != nil {
			return Rendered{}, fmt.Errorf("render %s: %w", t, err)
		}
		return Rendered{}, fmt.Errorf("render %s %s: no template: %w", t, ch, allimi.ErrNotFound)
	}
	sms := c.rules.unit == unitEUCKR

	// The values go out with the notice; their sizes stay on the stack
	// (most templates have at most five variables).
	vals := make([]string, 0, len(c.vars))
	var sizeBuf [8]int
	sizes := sizeBuf[:0]
	if len(c.vars) > len(sizeBuf) {
		sizes = make([]int, 0, len(c.vars))
	}
	size := c.static
	for i, name := range c.vars {
		v, ok := vars[name]
		if !ok {
			return Rendered{}, fmt.Errorf("render %s %s: %w %q", t, ch, ErrMissingValue, name)
		}
		if i == c.link {
			if err := checkLink(v, sms); err != nil {
				// The value stays out of the message: a detail link is a key to a
				// person's notice, not something for logs.
				return Rendered{}, fmt.Errorf("render %s %s: link: %w: %w", t, ch, err, allimi.ErrInvalid)
			}
		} else {
			v = clean(v, sms)
		}
		n := c.rules.unit.size(v)
		vals, sizes = append(vals, v), append(sizes, n)
		size += c.counts[i] * n
	}

	r := Rendered{Template: c.code, Title: c.title, Kind: c.rules.kind}
	limit := c.rules.limit
	if sms && size <= smsBytes {
		r.Kind, r.Title = SMS, ""
	}
	if size > limit {
		n, err := c.shorten(vals, sizes, limit)
		if err != nil {
			return Rendered{}, fmt.Errorf("render %s %s: %w", t, ch, err)
		}
		size = n
	}

	n := c.staticBytes
	for i, v := range vals {
		n += c.counts[i] * len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for _, sg := range c.segs {
		if sg.v < 0 {
			b.WriteString(sg.text)
		} else {
			b.WriteString(vals[sg.v])
		}
	}
	r.Text = b.String()
	if sms {
		r.Bytes = size
	}
	r.Params = Params{Names: c.vars[:len(c.vars):len(c.vars)], Values: vals}
	return r, nil
}

// lookup finds the template of t (or its variant name) for ch in lang,
// falling back to Korean; nil when there is none.
func (s *Set) lookup(t allimi.NotificationType, name, lang string, ch allimi.Channel) *compiled {
	if lang != "" && lang != allimi.DefaultLanguage {
		if c := s.byKey[key{t, name, ch, lang}]; c != nil {
			return c
		}
	}
	return s.byKey[key{t, name, ch, allimi.DefaultLanguage}]
}

// Lang is the language RenderIn sends t's template (or its variant
// name's) for ch in, to a person who signed up in lang: lang when the
// template has it, else Korean.
func (s *Set) Lang(t allimi.NotificationType, name, lang string, ch allimi.Channel) string {
	if c := s.lookup(t, name, lang, ch); c != nil {
		return c.lang
	}
	return allimi.DefaultLanguage
}

// shorten cuts the values in vals, all but the link, so that the text fits
// limit, and returns the text's new size. It finds the largest cap such
// that cutting every value longer than the cap down to it (ellipsis
// included) fits: so the longest values are cut first, and no more than
// needed. sizes holds the size of each value; vals is changed in place.
func (c *compiled) shorten(vals []string, sizes []int, limit int) (int, error) {
	u := c.rules.unit
	ell := u.size(ellipsis)
	total := func(capSize int) int {
		n := c.static
		for i, v := range vals {
			if i == c.link || sizes[i] <= capSize {
				n += c.counts[i] * sizes[i]
				continue
			}
			_, pn := u.prefix(v, capSize-ell)
			n += c.counts[i] * (pn + ell)
		}
		return n
	}
	lo, hi := ell, 0 // total(lo) fits; total(hi) does not
	for i, n := range sizes {
		if i != c.link && n > hi {
			hi = n
		}
	}
	if floor := total(lo); hi <= lo || floor > limit {
		return 0, fmt.Errorf("%w: %d %s with every variable but the link cut to %q (link %d), over the limit of %d",
			ErrTooLong, floor, unitName(u), ellipsis, sizes[c.link], limit)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if total(mid) <= limit {
			lo = mid
		} else {
			hi = mid
		}
	}
	for i, v := range vals {
		if i != c.link && sizes[i] > lo {
			p, pn := u.prefix(v, lo-ell)
			vals[i], sizes[i] = p+ellipsis, pn+ell
		}
	}
	return total(lo), nil
}

// checkLink refuses a link that the text could not carry intact: cleaning
// or '?' would change it, so it must have no space or control character,
// and for SMS nothing outside EUC-KR.
func checkLink(v string, sms bool) error {
	if v == "" {
		return fmt.Errorf("empty")
	}
	ascii := true
	for i := 0; i < len(v) && ascii; i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f {
			ascii = false
		}
	}
	if ascii { // the common case: a short link is printable ASCII
		return nil
	}
	set := euckrSet()
	for _, r := range v {
		switch {
		case r == utf8.RuneError, unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
			return fmt.Errorf("has %U", r)
		case sms && r >= utf8.RuneSelf && !inEUCKR(set, r):
			return fmt.Errorf("has %q, which EUC-KR cannot carry", r)
		}
	}
	return nil
}

// clean makes a value plain text on one line: control characters and
// bidirectional overrides are dropped, line breaks and tabs become one
// space, invalid UTF-8 becomes U+FFFD, and for SMS any character EUC-KR
// lacks becomes '?'. Spaces around the value are trimmed. Most values need
// none of it and are returned as they are, without allocating.
func clean(v string, sms bool) string {
	var set *[0x10000 / 64]uint64
	if sms {
		set = euckrSet()
	}
	for i := 0; i < len(v); {
		c := v[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return cleanFrom(v, i, set)
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if action(r, size, set) != keep {
			return cleanFrom(v, i, set)
		}
		i += size
	}
	return strings.Trim(v, " ")
}

type cleanAction uint8

const (
	keep cleanAction = iota
	drop
	space
	replace
)

// action says what clean does with rune r of encoded length size; set is
// the EUC-KR table for SMS, nil otherwise.
func action(r rune, size int, set *[0x10000 / 64]uint64) cleanAction {
	switch {
	case r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
		return space
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Bidi_Control, r):
		return drop
	case r == utf8.RuneError && size == 1:
		return replace
	case set != nil && r >= utf8.RuneSelf && !inEUCKR(set, r):
		return replace
	}
	return keep
}

// cleanFrom is clean's slow path, from byte i of v on.
func cleanFrom(v string, i int, set *[0x10000 / 64]uint64) string {
	var b strings.Builder
	b.Grow(len(v))
	b.WriteString(v[:i])
	lastSpace := i > 0 && v[i-1] == ' '
	for i < len(v) {
		r, size := utf8.DecodeRuneInString(v[i:])
		i += size
		switch action(r, size, set) {
		case keep:
			b.WriteRune(r)
			lastSpace = r == ' '
		case space:
			if !lastSpace {
				b.WriteByte(' ')
				lastSpace = true
			}
		case replace:
			if set != nil {
				b.WriteByte(unencodable)
			} else {
				b.WriteRune(utf8.RuneError)
			}
			lastSpace = false
		case drop:
		}
	}
	return strings.Trim(b.String(), " ")
}
