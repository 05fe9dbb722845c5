package channel

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config holds every provider's endpoint, credentials and limits. It reads
// from TOML, YAML or JSON with the same names (durations as "10s" in TOML and
// YAML).
//
// The kakao channel has two providers: NHN Cloud ([kakao]) and, when its
// credentials are set, Naver Cloud SENS ([naver], a name kept from when
// SENS was the naver channel's provider), to which it fails over while NHN
// is down (failover.go). The naver channel is the Naver app notice
// ([naverApp], naver.go).
type Config struct {
	Kakao KakaoConfig `toml:"kakao" yaml:"kakao" json:"kakao"`
	// Naver is Naver Cloud SENS AlimTalk: the kakao channel's second
	// provider. Leave its credentials empty for none.
	Naver    NaverConfig    `toml:"naver" yaml:"naver" json:"naver"`
	SMS      SMSConfig      `toml:"sms" yaml:"sms" json:"sms"`
	Toss     TossConfig     `toml:"toss" yaml:"toss" json:"toss"`
	NaverApp NaverAppConfig `toml:"naverApp" yaml:"naverApp" json:"naverApp"`
}

// Endpoint is what every channel has: where the provider is, how long one
// request may take, and how fast we may send.
type Endpoint struct {
	// URL is the provider's base URL, without the API path
	// (https://api-alimtalk.cloud.toast.com, https://sens.apigw.ntruss.com …).
	URL string `toml:"url" yaml:"url" json:"url"`
	// Timeout bounds one HTTP request (default 10s).
	Timeout time.Duration `toml:"timeout" yaml:"timeout" json:"timeout"`
	// Rate is the most messages per second (token bucket); 0 or less means
	// no limit.
	Rate float64 `toml:"rate" yaml:"rate" json:"rate"`
	// Burst is the bucket's size in messages (default: MaxBatch). A batch
	// larger than Burst waits for its tokens in Burst-sized parts.
	Burst int `toml:"burst" yaml:"burst" json:"burst"`
}

// KakaoConfig is NHN Cloud Notification AlimTalk (see kakao.go).
type KakaoConfig struct {
	Endpoint  `yaml:",inline"`
	AppKey    string `toml:"appKey" yaml:"appKey" json:"appKey"`
	SecretKey string `toml:"secretKey" yaml:"secretKey" json:"secretKey"`
	SenderKey string `toml:"senderKey" yaml:"senderKey" json:"senderKey"` // the KakaoTalk channel's sender key (40 characters)
	// ResendSendNo is the SMS sender number for fallbacks (resendSendNo);
	// empty uses the one set in NHN's console.
	ResendSendNo string `toml:"resendSendNo" yaml:"resendSendNo" json:"resendSendNo"`
	// Raw sends the full rendered text (POST …/raw-messages, recipientList[].content)
	// instead of template parameters (POST …/messages, templateParameter).
	Raw bool `toml:"raw" yaml:"raw" json:"raw"`
	// FailoverAfter is how many NHN requests in a row must fail (5xx,
	// timeout, connection refused or dropped) before the kakao channel
	// sends through SENS without trying NHN first (default 3; with no SENS
	// configured there is no failover). See failover.go.
	FailoverAfter int `toml:"failoverAfter" yaml:"failoverAfter" json:"failoverAfter"`
	// FailoverCooldown is how long it then keeps to SENS before it tries
	// NHN again (default 30s).
	FailoverCooldown time.Duration `toml:"failoverCooldown" yaml:"failoverCooldown" json:"failoverCooldown"`
}

// NaverConfig is Naver Cloud SENS AlimTalk (see sens.go): the kakao
// channel's second provider. Empty credentials (serviceId, accessKey,
// secretKey, plusFriendId) mean none.
type NaverConfig struct {
	Endpoint     `yaml:",inline"`
	ServiceID    string `toml:"serviceId" yaml:"serviceId" json:"serviceId"`
	AccessKey    string `toml:"accessKey" yaml:"accessKey" json:"accessKey"`
	SecretKey    string `toml:"secretKey" yaml:"secretKey" json:"secretKey"`
	PlusFriendID string `toml:"plusFriendId" yaml:"plusFriendId" json:"plusFriendId"`
	// FailoverFrom is the SMS sender number for fallbacks (failoverConfig.from);
	// empty uses the project's default.
	FailoverFrom string `toml:"failoverFrom" yaml:"failoverFrom" json:"failoverFrom"`
}

// SMSConfig is NHN Cloud SMS (see sms.go).
type SMSConfig struct {
	Endpoint  `yaml:",inline"`
	AppKey    string `toml:"appKey" yaml:"appKey" json:"appKey"`
	SecretKey string `toml:"secretKey" yaml:"secretKey" json:"secretKey"`
	SendNo    string `toml:"sendNo" yaml:"sendNo" json:"sendNo"` // registered sender number
	// SMSTemplateID and LMSTemplateID name NHN SMS templates whose body is
	// "##body##": with them a whole batch of personalised texts goes in one
	// request per type and title (templateParameter per recipient). Empty
	// sends one request per distinct text.
	SMSTemplateID string `toml:"smsTemplateId" yaml:"smsTemplateId" json:"smsTemplateId"`
	LMSTemplateID string `toml:"lmsTemplateId" yaml:"lmsTemplateId" json:"lmsTemplateId"`
}

// NaverAppConfig is the Naver app notice webhook (see naver.go): the
// naver channel.
type NaverAppConfig struct {
	Endpoint `yaml:",inline"`
	Token    string `toml:"token" yaml:"token" json:"token"`
}

// TossConfig is the Toss push webhook (see toss.go).
type TossConfig struct {
	Endpoint `yaml:",inline"`
	Token    string `toml:"token" yaml:"token" json:"token"`
}

// Credentials the fake accepts by default (DefaultConfig uses them).
const (
	defaultBaseURL = "http://127.0.0.1:9090"
	defaultRate    = 100_000
	defaultBurst   = 10_000
)

// DefaultConfig points every channel at the fake providers on
// http://127.0.0.1:9090 with the fake's made-up credentials and a rate of
// 100,000 messages per second.
func DefaultConfig() Config {
	ep := Endpoint{URL: defaultBaseURL, Timeout: 10 * time.Second, Rate: defaultRate, Burst: defaultBurst}
	return Config{
		Kakao: KakaoConfig{Endpoint: ep, AppKey: "fakeKakaoAppKey", SecretKey: "fakeKakaoSecret",
			SenderKey: "0000000000000000000000000000000000a11131", ResendSendNo: "15880000"},
		Naver: NaverConfig{Endpoint: ep, ServiceID: "ncp:kkobizmsg:kr:0000000:allimi",
			AccessKey: "fakeNaverAccessKey", SecretKey: "fakeNaverSecretKey", PlusFriendID: "@allimi", FailoverFrom: "15880000"},
		SMS: SMSConfig{Endpoint: ep, AppKey: "fakeSmsAppKey", SecretKey: "fakeSmsSecret", SendNo: "15880000",
			SMSTemplateID: "ALLIMI_SMS_BODY", LMSTemplateID: "ALLIMI_LMS_BODY"},
		Toss:     TossConfig{Endpoint: ep, Token: "fakeTossToken"},
		NaverApp: NaverAppConfig{Endpoint: ep, Token: "fakeNaverAppToken"},
	}
}

// SetBaseURL points every provider at one base URL (central's
// --provider-url): the fake providers serve them all.
func (c *Config) SetBaseURL(u string) {
	c.Kakao.URL, c.Naver.URL, c.SMS.URL, c.Toss.URL, c.NaverApp.URL = u, u, u, u, u
}

// NewHTTPClient returns the client the adapters share: enough idle
// connections per host for many concurrent batches (Go's default of 2 made
// loopback throughput collapse, ../shared/notes/performance-ceilings.md), and
// no client-wide timeout (each request has its own, from the config).
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t}
}

// baseURL checks and returns the endpoint's URL without a trailing slash.
func (e Endpoint) baseURL(section string) (string, error) {
	u, err := url.Parse(e.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("channel config [%s] url %q: must be an http:// or https:// URL", section, e.URL)
	}
	return strings.TrimRight(e.URL, "/"), nil
}

func required(section string, fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if strings.TrimSpace(fields[i+1]) == "" {
			return fmt.Errorf("channel config [%s] %s: empty: the provider requires it", section, fields[i])
		}
	}
	return nil
}
