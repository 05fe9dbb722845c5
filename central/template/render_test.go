package template

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

const testLink = "https://allimi.kr/n/3fK9qZ"

// sampleVars are typical values of every parameter of every type.
var sampleVars = map[string]string{
	"name":       "홍길동",
	"link":       testLink,
	"amount":     "40,000",
	"dueDate":    "2026-12-31",
	"violation":  "신호위반",
	"year":       "2026",
	"dose":       "2",
	"date":       "2026-12-01",
	"semester":   "2026년 1학기",
	"applyUntil": "2026-12-31",
	"service":    "노인맞춤돌봄서비스",
	"count":      "2",
}

func TestRender_EveryTypeAndChannel(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	for _, ti := range allimi.Types() {
		for _, ch := range allimi.Channels {
			t.Run(string(ti.ID)+"/"+string(ch), func(t *testing.T) {
				r, err := s.Render(ti.ID, ch, sampleVars)
				require.NoError(t, err)
				assert.Contains(t, r.Text, testLink)
				assert.Contains(t, r.Text, "홍길동")
				assert.NotContains(t, r.Text, "{{")
				assert.Equal(t, testLink, r.Params.Map()["link"])
				for _, p := range ti.Params {
					if v, ok := r.Params.Get(p); ok {
						assert.Contains(t, r.Text, v)
					}
				}
				switch ch {
				case allimi.ChannelKakao, allimi.ChannelNaver:
					assert.Equal(t, AlimTalk, r.Kind)
					assert.NotEmpty(t, r.Template)
					assert.NotEmpty(t, r.Title)
					assert.Zero(t, r.Bytes)
				case allimi.ChannelToss:
					assert.Equal(t, Push, r.Kind)
					assert.NotEmpty(t, r.Title)
				case allimi.ChannelSMS:
					assert.Equal(t, EUCKRLen(r.Text), r.Bytes)
					if r.Bytes <= 90 {
						assert.Equal(t, SMS, r.Kind)
						assert.Empty(t, r.Title, "an SMS has no subject")
					} else {
						// Allowed, but ours are written to fit an SMS.
						assert.Equal(t, LMS, r.Kind)
						t.Logf("sent as LMS: %d bytes: %s", r.Bytes, r.Text)
					}
				}
			})
		}
	}
}

func TestRender_Text(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, sampleVars)
	require.NoError(t, err)
	assert.Equal(t, Rendered{
		Title:  "",
		Text:   "[알리미] 홍길동님 교통범칙금 40,000원 납부기한 2026-12-31 " + testLink,
		Kind:   SMS,
		Bytes:  84,
		Params: Params{Names: []string{"name", "amount", "dueDate", "link"}, Values: []string{"홍길동", "40,000", "2026-12-31", testLink}},
	}, r, "the variables in the template's order")

	r, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelKakao, sampleVars)
	require.NoError(t, err)
	assert.Equal(t, "ALLIMI_TRAFFIC_FINE_01", r.Template)
	assert.Equal(t, "교통 범칙금 부과 안내", r.Title)
	assert.Contains(t, r.Text, "홍길동님, 교통 범칙금이 부과되어 알려 드립니다.\n\n▶ 위반 내용: 신호위반\n▶ 범칙금: 40,000원\n")
	assert.Len(t, r.Params.Map(), 5)
}

// boundarySet has traffic-fine templates "{{name}} {{link}}" on every
// channel, so that a test sets the size of a rendering to the byte.
func boundarySet(t *testing.T) *Set {
	t.Helper()
	files := map[string]string{"traffic-fine.toml": `
[kakao]
code = "C"
title = "범칙금 안내"
body = "{{name}} {{link}}"
[naver]
code = "C"
title = "범칙금 안내"
body = "{{name}} {{link}}"
[toss]
title = "범칙금 안내"
body = "{{name}} {{link}}"
[sms]
title = "범칙금 안내"
body = "{{name}} {{link}}"
`}
	s, err := Load(testFS(files))
	require.NoError(t, err)
	return s
}

func TestRender_SMSBecomesLMSOver90Bytes(t *testing.T) {
	s := boundarySet(t)
	fixed := 1 + len(testLink) // the space and the link
	for _, tc := range []struct {
		name  string
		value string
		kind  Kind
		bytes int
	}{
		{"89 bytes", strings.Repeat("a", 89-fixed), SMS, 89},
		{"90 bytes", strings.Repeat("a", 90-fixed), SMS, 90},
		{"91 bytes", strings.Repeat("a", 91-fixed), LMS, 91},
		{"90 bytes of Hangul", "a" + strings.Repeat("가", (90-fixed-1)/2), SMS, 90},
		{"91 bytes of Hangul", strings.Repeat("가", (91-fixed)/2), LMS, 91},
		{"a syllable outside EUC-KR is one byte, '?'", strings.Repeat("가", (90-fixed-1)/2) + "똠", SMS, 90},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, map[string]string{"name": tc.value, "link": testLink})
			require.NoError(t, err)
			assert.Equal(t, tc.kind, r.Kind)
			assert.Equal(t, tc.bytes, r.Bytes)
			assert.Equal(t, tc.bytes, EUCKRLen(r.Text))
			if tc.kind == LMS {
				assert.Equal(t, "범칙금 안내", r.Title)
			} else {
				assert.Empty(t, r.Title)
			}
		})
	}
}

func TestRender_LMSLimit2000Bytes(t *testing.T) {
	s := boundarySet(t)
	fixed := 1 + len(testLink)

	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, map[string]string{"name": strings.Repeat("가", (2000-fixed)/2) + "a", "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, LMS, r.Kind)
	assert.Equal(t, 2000, r.Bytes)
	assert.NotContains(t, r.Text, "…", "2,000 bytes fit: nothing cut")

	r, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, map[string]string{"name": strings.Repeat("가", (2000-fixed)/2+1), "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, LMS, r.Kind)
	assert.LessOrEqual(t, r.Bytes, 2000)
	assert.GreaterOrEqual(t, r.Bytes, 1999, "cut no more than needed")
	assert.Equal(t, EUCKRLen(r.Text), r.Bytes)
	assert.True(t, strings.HasSuffix(r.Text, "… "+testLink), "the value is cut, the link kept: %q", r.Text[len(r.Text)-40:])
	assert.Equal(t, r.Params.Map()["name"]+" "+testLink, r.Text, "Params hold the value as sent")
}

func TestRender_AlimTalkLimit1000Characters(t *testing.T) {
	s := boundarySet(t)
	fixed := 1 + len(testLink)
	for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelNaver, allimi.ChannelToss} {
		t.Run(string(ch), func(t *testing.T) {
			r, err := s.Render(allimi.TypeTrafficFine, ch, map[string]string{"name": strings.Repeat("가", 1000-fixed), "link": testLink})
			require.NoError(t, err)
			assert.Equal(t, 1000, len([]rune(r.Text)))
			assert.NotContains(t, r.Text, "…")

			r, err = s.Render(allimi.TypeTrafficFine, ch, map[string]string{"name": strings.Repeat("가", 1001-fixed), "link": testLink})
			require.NoError(t, err)
			assert.Equal(t, 1000, len([]rune(r.Text)))
			assert.Equal(t, strings.Repeat("가", 1000-fixed-1)+"… "+testLink, r.Text)
		})
	}
}

func TestRender_CutsLongestValuesFirstNeverTheLink(t *testing.T) {
	files := withChannel(allimi.ChannelKakao, `code = "C"
title = "t"
body = "{{violation}}|{{amount}}|{{dueDate}}|{{link}}|{{name}}"`)
	s, err := Load(testFS(files))
	require.NoError(t, err)
	link := "https://allimi.kr/n/" + strings.Repeat("x", 300) // longer than what is cut

	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelKakao, map[string]string{
		"violation": strings.Repeat("위", 600),
		"amount":    strings.Repeat("1", 400),
		"dueDate":   "2026-12-31",
		"name":      "홍길동",
		"link":      link,
	})
	require.NoError(t, err)
	// Both are cut to one length: 663 does not halve, so one character
	// of the limit stays unused.
	assert.Equal(t, 999, len([]rune(r.Text)))
	assert.Contains(t, r.Text, "|"+link+"|", "the link is intact")
	assert.Equal(t, link, r.Params.Map()["link"])
	assert.Equal(t, "2026-12-31", r.Params.Map()["dueDate"], "short values are not cut")
	assert.Equal(t, "홍길동", r.Params.Map()["name"])
	// 1000 - 4 separators - 320 link - 10 date - 3 name = 663 characters for
	// the two long values: each is cut to 331, ellipsis included.
	v, a := []rune(r.Params.Map()["violation"]), []rune(r.Params.Map()["amount"])
	assert.True(t, strings.HasSuffix(string(v), "…") && strings.HasSuffix(string(a), "…"))
	assert.Len(t, v, 331)
	assert.Len(t, a, 331)
	assert.Equal(t, r.Params.Map()["violation"]+"|"+r.Params.Map()["amount"]+"|2026-12-31|"+link+"|홍길동", r.Text)

	// Only the longest is cut when that is enough.
	r, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelKakao, map[string]string{
		"violation": strings.Repeat("위", 700),
		"amount":    strings.Repeat("1", 200),
		"dueDate":   "2026-12-31",
		"name":      "홍길동",
		"link":      link,
	})
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("1", 200), r.Params.Map()["amount"])
	assert.Equal(t, 1000, len([]rune(r.Text)))
	assert.Contains(t, r.Text, "|"+link+"|")
}

func TestRender_TooLongEvenCut(t *testing.T) {
	s := boundarySet(t)
	link := "https://allimi.kr/n/" + strings.Repeat("x", 1000)
	_, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelKakao, map[string]string{"name": "홍길동", "link": link})
	require.ErrorIs(t, err, ErrTooLong)
	assert.Contains(t, err.Error(), "render traffic-fine kakao")
	assert.Contains(t, err.Error(), "1022 characters")
	assert.Contains(t, err.Error(), "(link 1020), over the limit of 1000")

	_, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, map[string]string{"name": "홍길동", "link": link + strings.Repeat("y", 1000)})
	require.ErrorIs(t, err, ErrTooLong)
	assert.Contains(t, err.Error(), "render traffic-fine sms")
	assert.Contains(t, err.Error(), "bytes (EUC-KR)")
}

func TestRender_MissingValue(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	vars := map[string]string{"name": "홍길동", "link": testLink, "amount": "40,000"}
	_, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, vars)
	require.ErrorIs(t, err, ErrMissingValue)
	assert.EqualError(t, err, `render traffic-fine sms: missing variable value "dueDate"`)

	vars["dueDate"] = "" // empty is a value
	_, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, vars)
	assert.NoError(t, err)
}

func TestRender_RefusesALinkItCannotCarry(t *testing.T) {
	s := boundarySet(t)
	for _, tc := range []struct {
		name string
		ch   allimi.Channel
		link string
	}{
		{"empty", allimi.ChannelKakao, ""},
		{"newline", allimi.ChannelKakao, testLink + "\n[가짜] 다른 안내"},
		{"space", allimi.ChannelToss, "https://a.kr/ x"},
		{"outside EUC-KR in SMS", allimi.ChannelSMS, "https://a.kr/똠"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Render(allimi.TypeTrafficFine, tc.ch, map[string]string{"name": "홍길동", "link": tc.link})
			require.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), "link")
		})
	}
}

func TestRender_UnknownTypeOrChannel(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	_, err = s.Render("parking", allimi.ChannelSMS, sampleVars)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	_, err = s.Render(allimi.TypeRelief, "email", sampleVars)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
}

func TestRender_StripsControlCharacters(t *testing.T) {
	s := boundarySet(t)
	for _, tc := range []struct {
		name, value, want string
	}{
		{"newline becomes a space", "홍길동\n[정부] 환급금 신청", "홍길동 [정부] 환급금 신청"},
		{"CRLF becomes one space", "홍길동\r\n입니다", "홍길동 입니다"},
		{"tab", "홍\t길동", "홍 길동"},
		{"Unicode line separator", "홍길동\u2028다음 줄", "홍길동 다음 줄"},
		{"NUL, bell, escape, DEL dropped", "홍\x00길\x07동\x1b[31m\x7f", "홍길동[31m"},
		{"C1 control dropped", "홍길동\u0085", "홍길동"},
		{"bidirectional override dropped", "홍길동\u202eabc\u202c", "홍길동abc"},
		{"surrounding spaces trimmed", "  홍길동\n", "홍길동"},
		{"plain value unchanged", "Hong Gil-dong", "Hong Gil-dong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS} {
				r, err := s.Render(allimi.TypeTrafficFine, ch, map[string]string{"name": tc.value, "link": testLink})
				require.NoError(t, err)
				assert.Equal(t, tc.want+" "+testLink, r.Text, "%s", ch)
				assert.Equal(t, tc.want, r.Params.Map()["name"])
			}
		})
	}
}

func TestRender_CharactersOutsideEUCKR(t *testing.T) {
	s := boundarySet(t)
	vars := map[string]string{"name": "김똠순😀", "link": testLink}

	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, vars)
	require.NoError(t, err)
	assert.Equal(t, "김?순? "+testLink, r.Text, "SMS sends what EUC-KR lacks as '?'")
	assert.Equal(t, 2+1+2+1+1+len(testLink), r.Bytes)

	r, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelKakao, vars)
	require.NoError(t, err)
	assert.Equal(t, "김똠순😀 "+testLink, r.Text, "the apps carry UTF-8")

	r, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelToss, map[string]string{"name": "홍\xff길동", "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, "홍\uFFFD길동 "+testLink, r.Text, "invalid UTF-8 is replaced")
}

func TestRender_ValuesAreNotTemplates(t *testing.T) {
	s := boundarySet(t)
	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelKakao, map[string]string{"name": "{{link}} #{name}", "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, "{{link}} #{name} "+testLink, r.Text)
}

func TestRender_RepeatedVariable(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	r, err := s.Render(allimi.TypeHealthCheckup, allimi.ChannelKakao, sampleVars)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(r.Text, "2026년"))
	assert.Equal(t, map[string]string{"name": "홍길동", "year": "2026", "link": testLink}, r.Params.Map())
}

func TestRender_RepeatedVariableCountsEachTime(t *testing.T) {
	files := withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"{{name}}{{name}} {{link}}\"")
	s, err := Load(testFS(files))
	require.NoError(t, err)
	fixed := 1 + len(testLink)
	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, map[string]string{"name": strings.Repeat("a", (90-fixed)/2), "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, SMS, r.Kind)
	assert.Equal(t, fixed+2*((90-fixed)/2), r.Bytes)

	r, err = s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, map[string]string{"name": strings.Repeat("가", 1000), "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, LMS, r.Kind)
	assert.LessOrEqual(t, r.Bytes, 2000)
	assert.Equal(t, r.Params.Map()["name"]+r.Params.Map()["name"]+" "+testLink, r.Text)
}
