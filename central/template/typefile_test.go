package template

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

const parkingFile = `
[type]
id = "parking-fine"

[kakao]
code = "ALLIMI_PARKING_01"
title = "주정차 위반 안내"
body = """
{{name}}님, {{place}}에서 주정차 위반으로 과태료 {{amount}}원이 부과되었습니다.
자세히 보기: {{link}}
"""

[naver]
code = "ALLIMI_PARKING_01"
title = "주정차 위반 안내"
body = "{{name}}님 주정차 위반 과태료 {{amount}}원 {{link}}"

[toss]
title = "주정차 위반 안내"
body = "{{name}}님 주정차 위반 과태료 {{amount}}원 {{link}}"

[sms]
title = "[알리미] 주정차 위반"
body = "[알리미] {{name}}님 과태료 {{amount}}원 {{link}}"
`

// A type's file from an administrator: its templates join the set (the
// [type] table is not a channel), checked as the shipped ones are.
func TestWithType_AddsAnAdministratorsType(t *testing.T) {
	base, err := Default()
	require.NoError(t, err)
	info := allimi.TypeInfo{ID: "parking-fine", Name: "주정차 위반 과태료", Params: []string{"amount", "place"}}
	set, err := base.WithType(info, "parking-fine.toml", []byte(parkingFile))
	require.NoError(t, err)
	r, err := set.Render("parking-fine", allimi.ChannelKakao, map[string]string{"name": "김영희", "place": "종로", "amount": "40,000", "link": "https://a.kr/n/x"})
	require.NoError(t, err)
	assert.Contains(t, r.Text, "종로에서 주정차 위반으로 과태료 40,000원")
	_, err = base.Render("parking-fine", allimi.ChannelKakao, nil)
	assert.Error(t, err, "the base set is unchanged")

	for _, c := range []struct{ name, file, want string }{
		{"unknown variable", strings.Replace(parkingFile, "{{place}}에서", "\n{{street}}에서", 1), `parking-fine.toml: kakao: body line 2: unknown variable "street"`},
		{"link cut", strings.Replace(parkingFile, `body = "{{name}}님 주정차 위반 과태료 {{amount}}원 {{link}}"`,
			`body = "`+strings.Repeat("가", 960)+` {{link}}"`, 1), "naver: body line 1: the link would be cut"},
		{"code of another type", strings.Replace(parkingFile, `code = "ALLIMI_PARKING_01"`, `code = "ALLIMI_TRAFFIC_FINE_01"`, 1), `is also the code of`},
		{"missing channel", parkingFile[:strings.Index(parkingFile, "[sms]")], "missing channel sms"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := base.WithType(info, "parking-fine.toml", []byte(c.file))
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}
