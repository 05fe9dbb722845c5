package channel

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The same file in the three formats gives the same Config: section names,
// the inlined endpoint fields and durations.
func TestConfig_ReadsFromTOMLYAMLAndJSON(t *testing.T) {
	want := DefaultConfig()
	want.Kakao.URL, want.Kakao.Timeout, want.Kakao.Rate, want.Kakao.Burst = "https://api-alimtalk.cloud.toast.com", 5*time.Second, 300, 1000
	want.Kakao.AppKey, want.Kakao.Raw = "APPKEY", true
	want.Naver.ServiceID = "ncp:kkobizmsg:kr:123:x"
	want.SMS.SMSTemplateID = ""
	want.Toss.Token = "TOKEN"
	want.Kakao.FailoverAfter, want.Kakao.FailoverCooldown = 5, time.Minute
	want.NaverApp.URL, want.NaverApp.Token = "https://notice.naver.example", "NTOKEN"

	tomlText := `
[kakao]
url = "https://api-alimtalk.cloud.toast.com"
timeout = "5s"
rate = 300
burst = 1000
appKey = "APPKEY"
raw = true
failoverAfter = 5
failoverCooldown = "1m"
[naver]
serviceId = "ncp:kkobizmsg:kr:123:x"
[sms]
smsTemplateId = ""
[toss]
token = "TOKEN"
[naverApp]
url = "https://notice.naver.example"
token = "NTOKEN"
`
	yamlText := `
kakao:
  url: https://api-alimtalk.cloud.toast.com
  timeout: 5s
  rate: 300
  burst: 1000
  appKey: APPKEY
  raw: true
  failoverAfter: 5
  failoverCooldown: 1m
naver:
  serviceId: "ncp:kkobizmsg:kr:123:x"
sms:
  smsTemplateId: ""
toss:
  token: TOKEN
naverApp:
  url: https://notice.naver.example
  token: NTOKEN
`
	got := DefaultConfig()
	_, err := toml.Decode(tomlText, &got)
	require.NoError(t, err)
	assert.Equal(t, want, got, "toml")

	got = DefaultConfig()
	require.NoError(t, yaml.Unmarshal([]byte(yamlText), &got))
	assert.Equal(t, want, got, "yaml")

	b, err := json.Marshal(want)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"kakao":{"url":"https://api-alimtalk.cloud.toast.com","timeout":5000000000,"rate":300,"burst":1000,"appKey":"APPKEY"`)
	got = Config{}
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, want, got, "json")
}

func TestConfig_SetBaseURLPointsEveryChannel(t *testing.T) {
	c := DefaultConfig()
	c.SetBaseURL("http://127.0.0.1:1234")
	for _, u := range []string{c.Kakao.URL, c.Naver.URL, c.SMS.URL, c.Toss.URL, c.NaverApp.URL} {
		assert.Equal(t, "http://127.0.0.1:1234", u)
	}
}

func TestNewHTTPClient_KeepsEnoughIdleConnections(t *testing.T) {
	tr, ok := NewHTTPClient().Transport.(*http.Transport)
	require.True(t, ok)
	assert.GreaterOrEqual(t, tr.MaxIdleConnsPerHost, 64)
}
