package template

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/assets"
)

// minimalFile is a valid template file whose bodies are only the link.
func minimalFile(t allimi.NotificationType) string {
	code := strings.ToUpper(strings.ReplaceAll(string(t), "-", "_"))
	return fmt.Sprintf(`
[kakao]
code = "K_%[1]s"
title = "제목"
body = "{{link}}"

[naver]
code = "N_%[1]s"
title = "제목"
body = "{{link}}"

[toss]
title = "제목"
body = "{{link}}"

[sms]
title = "제목"
body = "{{link}}"
`, code)
}

// testFS returns a valid template directory with files replaced or added
// by files (name → content; an empty content removes the file).
func testFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, ti := range allimi.Types() {
		fsys[string(ti.ID)+ext] = &fstest.MapFile{Data: []byte(minimalFile(ti.ID))}
	}
	for name, data := range files {
		if data == "" {
			delete(fsys, name)
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// withChannel returns a traffic-fine file whose channel ch has body (and
// the other channels the minimal ones).
func withChannel(ch allimi.Channel, table string) map[string]string {
	file := minimalFile(allimi.TypeTrafficFine)
	start := strings.Index(file, "["+string(ch)+"]")
	end := strings.Index(file[start+1:], "\n[")
	if end < 0 {
		end = len(file)
	} else {
		end += start + 1
	}
	return map[string]string{"traffic-fine.toml": file[:start] + "[" + string(ch) + "]\n" + table + "\n" + file[end:]}
}

func TestDefault_LoadsEmbeddedTemplates(t *testing.T) {
	s, err := Default()
	require.NoError(t, err)
	for _, ti := range allimi.Types() {
		for _, ch := range allimi.Channels {
			assert.NotNil(t, s.byKey[key{ti.ID, "", ch}], "%s %s", ti.ID, ch)
		}
	}
	again, err := Default()
	require.NoError(t, err)
	assert.Same(t, s, again, "Default loads once")
}

func TestLoad_AcceptsValidFiles(t *testing.T) {
	// The test helper's minimal files are accepted, so each failure below
	// is due to the one change it makes.
	_, err := Load(testFS(nil))
	require.NoError(t, err)
	_, err = Load(assets.Templates())
	require.NoError(t, err)
}

func TestLoad_Refuses(t *testing.T) {
	long := strings.Repeat("가", 1001)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // in the error
	}{
		{"unknown variable", withChannel(allimi.ChannelSMS, `title = "t"
body = "{{amout}}원 {{link}}"`),
			`traffic-fine.toml: sms: body line 1: unknown variable "amout" (allowed: name, link, amount, dueDate, violation)`},
		{"other type's variable", withChannel(allimi.ChannelKakao, `code = "C"
title = "t"
body = "{{semester}} {{link}}"`),
			`traffic-fine.toml: kakao: body line 1: unknown variable "semester"`},
		{"missing type", map[string]string{"welfare-card.toml": ""},
			`welfare-card.toml: missing: no templates for welfare-card`},
		{"unknown type", map[string]string{"parking.toml": minimalFile("parking")},
			`parking.toml: unknown notification type "parking"`},
		{"missing channel", map[string]string{"relief.toml": strings.Replace(minimalFile(allimi.TypeRelief), "[toss]", "[tosss]", 1)},
			`relief.toml: missing channel toss`},
		{"unknown channel", map[string]string{"relief.toml": minimalFile(allimi.TypeRelief) + "\n[email]\ntitle = \"t\"\nbody = \"{{link}}\"\n"},
			`relief.toml: unknown channel "email" (known: kakao, naver, toss, sms)`},
		{"unknown key", withChannel(allimi.ChannelToss, `title = "t"
bdy = "{{link}}"
body = "{{link}}"`),
			`traffic-fine.toml: toss: unknown key "bdy"`},
		{"not TOML", map[string]string{"relief.toml": "[kakao\n"}, `relief.toml: toml:`},
		{"unclosed placeholder", withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"{{name {{link}}\""),
			`traffic-fine.toml: sms: body: line 1: malformed placeholder "{{name {{link}}"`},
		{"unclosed at end", withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"{{link}} {{name\""),
			`traffic-fine.toml: sms: body: line 1: "{{" without its "}}"`},
		{"stray closing braces", withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"\"\"\n{{link}}\nname}} \"\"\""),
			`traffic-fine.toml: sms: body: line 2: "}}" without its "{{"`},
		{"empty placeholder", withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"{{}} {{link}}\""),
			`malformed placeholder "{{}}"`},
		{"two names", withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"{{name link}}\""),
			`malformed placeholder "{{name link}}"`},
		{"provider syntax", withChannel(allimi.ChannelKakao, "code = \"C\"\ntitle = \"t\"\nbody = \"#{name} {{link}}\""),
			`traffic-fine.toml: kakao: body: line 1: "#{" is the provider's placeholder syntax`},
		{"no link", withChannel(allimi.ChannelToss, "title = \"t\"\nbody = \"{{name}}님\""),
			`traffic-fine.toml: toss: body has no {{link}}`},
		{"no body", withChannel(allimi.ChannelToss, "title = \"t\""),
			`traffic-fine.toml: toss: body: missing`},
		{"no code", withChannel(allimi.ChannelNaver, "title = \"t\"\nbody = \"{{link}}\""),
			`traffic-fine.toml: naver: code: missing`},
		{"bad code", withChannel(allimi.ChannelKakao, "code = \"A B\"\ntitle = \"t\"\nbody = \"{{link}}\""),
			`traffic-fine.toml: kakao: code "A B"`},
		{"duplicate code", map[string]string{"relief.toml": strings.Replace(minimalFile(allimi.TypeRelief), "K_RELIEF", "K_TRAFFIC_FINE", 1)},
			`relief.toml: kakao: code "K_TRAFFIC_FINE" is also the code of traffic-fine`},
		{"no title", withChannel(allimi.ChannelToss, "body = \"{{link}}\""),
			`traffic-fine.toml: toss: title: missing`},
		{"variable in title", withChannel(allimi.ChannelToss, "title = \"{{name}}님\"\nbody = \"{{link}}\""),
			`traffic-fine.toml: toss: title: a title is fixed text`},
		{"AlimTalk title too long", withChannel(allimi.ChannelKakao, "code = \"C\"\ntitle = \""+strings.Repeat("가", 51)+"\"\nbody = \"{{link}}\""),
			`traffic-fine.toml: kakao: title: 51 characters, over the limit of 50`},
		{"AlimTalk body too long", withChannel(allimi.ChannelKakao, "code = \"C\"\ntitle = \"t\"\nbody = \""+long+"{{link}}\""),
			`traffic-fine.toml: kakao: body is 1001 characters without its variables, over the limit of 1000`},
		{"LMS body too long", withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \""+long+"{{link}}\""),
			`traffic-fine.toml: sms: body is 2002 bytes (EUC-KR) without its variables, over the limit of 2000`},
		{"emoji in sms", withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"안내 😀 {{link}}\""),
			`traffic-fine.toml: sms: body: line 1: '😀' (U+1F600) is not in EUC-KR`},
		{"syllable outside EUC-KR in sms title", withChannel(allimi.ChannelSMS, "title = \"똠\"\nbody = \"{{link}}\""),
			`traffic-fine.toml: sms: title: line 1: '똠' (U+B620) is not in EUC-KR`},
		{"control character", withChannel(allimi.ChannelToss, "title = \"t\"\nbody = \"a\\u0007 {{link}}\""),
			`traffic-fine.toml: toss: body: line 1: control character U+0007`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Load(testFS(tc.files))
			require.Error(t, err)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoad_ReportsEveryProblem(t *testing.T) {
	files := withChannel(allimi.ChannelSMS, "title = \"t\"\nbody = \"{{amout}} {{link}}\"")
	files["welfare-card.toml"] = ""
	_, err := Load(testFS(files))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown variable "amout"`)
	assert.Contains(t, err.Error(), `welfare-card.toml: missing`)
}

func TestLoad_IgnoresOtherFiles(t *testing.T) {
	_, err := Load(testFS(map[string]string{
		"README.md":                "# notes",
		".traffic-fine.toml.swp":   "junk",
		".hidden.toml":             "junk",
		"traffic-fine.toml.orig":   "junk",
		"drafts/traffic-fine.toml": "junk",
	}))
	assert.NoError(t, err)
}

func TestLoad_AcceptsSpacesInPlaceholdersAndCRLF(t *testing.T) {
	s, err := Load(testFS(withChannel(allimi.ChannelToss, "title = \"t\"\nbody = \"\"\"\r\n{{ name }}님\r\n{{link}}\r\n\"\"\"")))
	require.NoError(t, err)
	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelToss, map[string]string{"name": "홍길동", "link": "https://a.kr/x"})
	require.NoError(t, err)
	assert.Equal(t, "홍길동님\nhttps://a.kr/x", r.Text)
}

func TestLoad_CutsLongLMSTitle(t *testing.T) {
	s, err := Load(testFS(withChannel(allimi.ChannelSMS, "title = \""+strings.Repeat("가", 25)+"\"\nbody = \"{{name}} {{link}}\"")))
	require.NoError(t, err)
	r, err := s.Render(allimi.TypeTrafficFine, allimi.ChannelSMS, map[string]string{"name": strings.Repeat("a", 100), "link": "https://a.kr/x"})
	require.NoError(t, err)
	require.Equal(t, LMS, r.Kind)
	assert.Equal(t, strings.Repeat("가", 19)+"…", r.Title)
	assert.Equal(t, 40, EUCKRLen(r.Title))
}
