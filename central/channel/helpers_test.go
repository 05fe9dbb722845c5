package channel

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"allimi"
)

// testTemplate is the kakao template the fake knows in tests, as it would
// be registered with Kakao.
const (
	testTemplateCode = "ALLIMI_TEST_01"
	testTemplate     = "[알리미] #{name}님, 건강검진 안내입니다. 자세히 보기: #{link}"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeEnv is a fake provider server on loopback and adapters pointed at it.
type fakeEnv struct {
	fake     *Fake
	srv      *httptest.Server
	cfg      Config
	adapters map[allimi.Channel]Adapter
}

// newFakeEnv starts the fake (with opts) and builds adapters from
// DefaultConfig pointed at it, after change (if any) edits the config.
func newFakeEnv(t testing.TB, opts FakeOptions, change func(*Config)) *fakeEnv {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	if opts.Templates == nil {
		opts.Templates = map[string]string{testTemplateCode: testTemplate}
	}
	f := NewFake(opts)
	srv := httptest.NewServer(f.Handler())
	cfg := DefaultConfig()
	cfg.SetBaseURL(srv.URL)
	if change != nil {
		change(&cfg)
	}
	client := NewHTTPClient()
	ads, err := New(cfg, client)
	require.NoError(t, err)
	SetLogger(ads, quiet)
	t.Cleanup(func() {
		client.CloseIdleConnections()
		srv.Close()
		f.Close()
	})
	return &fakeEnv{fake: f, srv: srv, cfg: cfg, adapters: ads}
}

// testMessages makes n distinct messages for ch: keys prefix-0…, numbers
// 010-2000-0000…, texts naming each person.
func testMessages(ch allimi.Channel, prefix string, n int) []Message {
	msgs := make([]Message, n)
	for i := range msgs {
		name := fmt.Sprintf("홍길동%d", i)
		link := fmt.Sprintf("https://allimi.example/n/%s%d", prefix, i)
		m := Message{
			Key:       fmt.Sprintf("%s-%d", prefix, i),
			Recipient: fmt.Sprintf("010-2%03d-%04d", i/10000, i%10000),
			Title:     "건강검진 안내",
			Text:      "[알리미] " + name + "님, 건강검진 안내입니다. 자세히 보기: " + link,
			Link:      link,
		}
		switch ch {
		case allimi.ChannelKakao, allimi.ChannelNaver:
			m.Template = testTemplateCode
			m.Params = ParamsOf("name", name, "link", link)
		case allimi.ChannelSMS:
			m.LMS = i%2 == 1
		}
		msgs[i] = m
	}
	return msgs
}

// digitsOf is the form providers get.
func digitsOf(t testing.TB, mobile string) string {
	t.Helper()
	d, ok := mobileDigits(mobile)
	require.True(t, ok, mobile)
	return d
}

// recorder captures each request's path, headers and body before passing it
// on to next.
type recorder struct {
	next http.Handler
	reqs chan recorded
}

type recorded struct {
	method, uri string
	header      http.Header
	body        []byte
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	select {
	case rc.reqs <- recorded{r.Method, r.URL.RequestURI(), r.Header.Clone(), b}:
	default:
	}
	rc.next.ServeHTTP(w, r)
}

// closedURL is a base URL on loopback where nothing listens: a request
// there is refused (NHN down, as the kakao channel's failover sees it).
func closedURL(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}
