package template

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// otherLanguages are the languages a template file may add to its Korean.
var otherLanguages = allimi.Languages[1:]

// withTables returns a traffic-fine file with tables appended to the
// minimal one.
func withTables(tables string) map[string]string {
	return map[string]string{"traffic-fine.toml": minimalFile(allimi.TypeTrafficFine) + "\n" + tables + "\n"}
}

func TestDefault_EveryTypeInEveryLanguage(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	for _, ti := range allimi.Types() {
		for _, lang := range otherLanguages {
			for _, ch := range []allimi.Channel{allimi.ChannelKakao, allimi.ChannelNaver, allimi.ChannelToss} {
				c := s.byKey[key{ti.ID, "", ch, lang}]
				if assert.NotNil(t, c, "%s [%s.%s]", ti.ID, lang, ch) && ch != allimi.ChannelToss {
					assert.Equal(t, s.byKey[key{ti.ID, "", ch, allimi.DefaultLanguage}].code+"_"+strings.ToUpper(lang), c.code)
				}
			}
			sms := s.byKey[key{ti.ID, "", allimi.ChannelSMS, lang}]
			switch lang {
			case "en":
				assert.NotNil(t, sms, "%s [en.sms]: English fits EUC-KR", ti.ID)
			case "th", "vi", "zh":
				assert.Nil(t, sms, "%s [%s.sms]: EUC-KR cannot carry it", ti.ID, lang)
			}
		}
	}
}

func TestRenderIn_EveryTypeLanguageAndChannel(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	for _, ti := range allimi.Types() {
		for _, lang := range otherLanguages {
			for _, ch := range allimi.Channels {
				r, err := s.RenderIn(ti.ID, "", lang, ch, sampleVars)
				require.NoError(t, err, "%s %s %s", ti.ID, lang, ch)
				assert.Contains(t, r.Text, testLink)
				assert.Contains(t, r.Text, "홍길동")
				assert.NotContains(t, r.Text, "{{")
				if ch == allimi.ChannelSMS {
					assert.Equal(t, EUCKRLen(r.Text), r.Bytes)
					if s.Lang(ti.ID, "", lang, ch) == lang {
						assert.LessOrEqual(t, r.Bytes, 90, "%s [%s.sms] is written to fit an SMS: %s", ti.ID, lang, r.Text)
					}
				} else {
					assert.NotContains(t, r.Text, "님", "%s %s %s is not the Korean text", ti.ID, lang, ch)
				}
			}
		}
	}
}

func TestRenderIn_ThaiRecipient(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	vars := map[string]string{"name": "สมชาย", "link": testLink, "amount": "40,000", "dueDate": "2026-12-31", "violation": "신호위반"}

	k, err := s.RenderIn(allimi.TypeTrafficFine, "", "th", allimi.ChannelKakao, vars)
	require.NoError(t, err)
	assert.Equal(t, "ALLIMI_TRAFFIC_FINE_01_TH", k.Template)
	assert.Contains(t, k.Text, "เรียน คุณสมชาย")
	assert.Contains(t, k.Text, "40,000 วอน")
	assert.Equal(t, "th", s.Lang(allimi.TypeTrafficFine, "", "th", allimi.ChannelKakao))

	// No Thai SMS: EUC-KR cannot carry Thai; the SMS goes in Korean, and
	// the Thai name in it as '?'.
	sms, err := s.RenderIn(allimi.TypeTrafficFine, "", "th", allimi.ChannelSMS, vars)
	require.NoError(t, err)
	ko, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, vars)
	require.NoError(t, err)
	assert.Equal(t, ko, sms)
	assert.Contains(t, sms.Text, "[알리미] ?????님 교통범칙금 40,000원")
	assert.Equal(t, allimi.DefaultLanguage, s.Lang(allimi.TypeTrafficFine, "", "th", allimi.ChannelSMS))
}

func TestRenderIn_KoreanAndEmptyAreTheKoreanTemplates(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	want, err := s.Render(allimi.TypeRelief, allimi.ChannelKakao, sampleVars)
	require.NoError(t, err)
	for _, lang := range []string{"", "ko", "fr"} {
		got, err := s.RenderIn(allimi.TypeRelief, "", lang, allimi.ChannelKakao, sampleVars)
		require.NoError(t, err)
		assert.Equal(t, want, got, "lang %q", lang)
	}
}

func TestLoad_LanguageFallsBackPerTemplate(t *testing.T) {
	s, err := Load(testFS(withTables(`
[en.kakao]
code = "K_TRAFFIC_FINE_EN"
title = "Title"
body = "Hello {{name}} {{link}}"
`)))
	require.NoError(t, err)
	vars := map[string]string{"name": "Kim", "link": testLink}
	r, err := s.RenderIn(allimi.TypeTrafficFine, "", "en", allimi.ChannelKakao, vars)
	require.NoError(t, err)
	assert.Equal(t, Rendered{Template: "K_TRAFFIC_FINE_EN", Title: "Title", Text: "Hello Kim " + testLink, Kind: AlimTalk,
		Params: Params{Names: []string{"name", "link"}, Values: []string{"Kim", testLink}}}, r)
	// Naver has no English table: the Korean one.
	r, err = s.RenderIn(allimi.TypeTrafficFine, "", "en", allimi.ChannelNaver, vars)
	require.NoError(t, err)
	assert.Equal(t, "N_TRAFFIC_FINE", r.Template)
	assert.Equal(t, "제목", r.Title)
	// Another type has no English at all.
	r, err = s.RenderIn(allimi.TypeRelief, "", "en", allimi.ChannelKakao, vars)
	require.NoError(t, err)
	assert.Equal(t, "K_RELIEF", r.Template)

	// The provider registers every language's templates.
	pt := s.ProviderTemplates(allimi.ChannelKakao)
	assert.Equal(t, "Hello #{name} #{link}", pt["K_TRAFFIC_FINE_EN"])
	assert.Equal(t, "#{link}", pt["K_TRAFFIC_FINE"])
}

func TestRenderIn_VariantFallsBackToKorean(t *testing.T) {
	s, err := Load(testFS(nil))
	require.NoError(t, err)
	v := Variant{Type: allimi.TypeVaccination, Name: "vaccination/dose1.reminder", Source: "test", Channels: map[allimi.Channel]Source{
		allimi.ChannelKakao: {Code: "V_K", Title: "예약", Body: "{{name}}님 {{link}}"},
		allimi.ChannelNaver: {Code: "V_N", Title: "예약", Body: "{{name}}님 {{link}}"},
		allimi.ChannelToss:  {Title: "예약", Body: "{{name}}님 {{link}}"},
		allimi.ChannelSMS:   {Title: "예약", Body: "{{name}}님 {{link}}"},
	}}
	s, err = s.With(v)
	require.NoError(t, err)
	r, err := s.RenderIn(allimi.TypeVaccination, v.Name, "en", allimi.ChannelKakao, map[string]string{"name": "Kim", "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, "V_K", r.Template)
	assert.Equal(t, "Kim님 "+testLink, r.Text)
	_, err = s.RenderIn(allimi.TypeVaccination, "no-such", "en", allimi.ChannelKakao, map[string]string{"name": "Kim", "link": testLink})
	require.ErrorIs(t, err, allimi.ErrNotFound)
}

func TestLoad_RefusesInLanguages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tables string
		want   string // in the error
	}{
		{"unknown language", "[fr.kakao]\ncode = \"F\"\ntitle = \"t\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: unknown channel "fr" (known: kakao, naver, toss, sms) or language (known: en, ja, zh, th, vi)`},
		{"korean as a language", "[ko.kakao]\ncode = \"F\"\ntitle = \"t\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: [ko]: Korean is the file's own tables`},
		{"unknown channel of a language", "[en.email]\ntitle = \"t\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: [en.email]: unknown channel "email"`},
		{"unknown key", "[ja.toss]\ntitle = \"t\"\nbdy = \"{{link}}\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: [ja.toss]: unknown key "bdy"`},
		{"thai sms", "[th.sms]\ntitle = \"t\"\nbody = \"เรียน คุณ{{name}} {{link}}\"",
			`traffic-fine.toml: [th.sms]: body: line 1: 'เ' (U+0E40) is not in EUC-KR and cannot be sent by SMS; write no [th.sms] table`},
		{"vietnamese sms title", "[vi.sms]\ntitle = \"Thông báo\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: [vi.sms]: title: line 1: 'ô' (U+00F4) is not in EUC-KR`},
		{"unknown variable", "[zh.toss]\ntitle = \"t\"\nbody = \"{{amout}} {{link}}\"",
			`traffic-fine.toml: [zh.toss]: body line 1: unknown variable "amout"`},
		{"no link", "[vi.toss]\ntitle = \"t\"\nbody = \"{{name}}\"",
			`traffic-fine.toml: [vi.toss]: body has no {{link}}`},
		{"no title", "[en.toss]\nbody = \"{{link}}\"", `traffic-fine.toml: [en.toss]: title: missing`},
		{"no code", "[en.naver]\ntitle = \"t\"\nbody = \"{{link}}\"", `traffic-fine.toml: [en.naver]: code: missing`},
		{"title over the limit", "[en.kakao]\ncode = \"E\"\ntitle = \"" + strings.Repeat("a", 51) + "\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: [en.kakao]: title: 51 characters, over the limit of 50`},
		{"code of the Korean", "[en.kakao]\ncode = \"K_TRAFFIC_FINE\"\ntitle = \"t\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: [en.kakao]: code "K_TRAFFIC_FINE" is also the code of traffic-fine`},
		{"code of another language", "[en.kakao]\ncode = \"X\"\ntitle = \"t\"\nbody = \"{{link}}\"\n[ja.kakao]\ncode = \"X\"\ntitle = \"t\"\nbody = \"{{link}}\"",
			`traffic-fine.toml: [ja.kakao]: code "X" is also the code of traffic-fine [en.kakao]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(testFS(withTables(tc.tables)))
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoad_RefusesALanguageThatIsNotATable(t *testing.T) {
	_, err := Load(testFS(map[string]string{"traffic-fine.toml": "en = \"hello\"\n" + minimalFile(allimi.TypeTrafficFine)}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `traffic-fine.toml: [en]: want a table per channel`)
}

func TestLoad_CodesUniqueAcrossTypesAndLanguages(t *testing.T) {
	files := withTables("[en.kakao]\ncode = \"SHARED\"\ntitle = \"t\"\nbody = \"{{link}}\"")
	files["relief.toml"] = minimalFile(allimi.TypeRelief) + "\n[vi.kakao]\ncode = \"SHARED\"\ntitle = \"t\"\nbody = \"{{link}}\"\n"
	_, err := Load(testFS(files))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `relief.toml: [vi.kakao]: code "SHARED" is also the code of traffic-fine [en.kakao]`)
}

func TestLoad_JapaneseKanaFitSMS(t *testing.T) {
	s, err := Load(testFS(withTables("[ja.sms]\ntitle = \"おしらせ\"\nbody = \"{{name}}さま {{link}}\"")))
	require.NoError(t, err)
	r, err := s.RenderIn(allimi.TypeTrafficFine, "", "ja", allimi.ChannelSMS, map[string]string{"name": "やまだ", "link": testLink})
	require.NoError(t, err)
	assert.Equal(t, "やまださま "+testLink, r.Text)
	assert.Equal(t, 5*2+1+len(testLink), r.Bytes) // kana: 2 bytes each
}
