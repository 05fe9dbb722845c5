package central_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/sync/wire"
)

// webFixture is a central with one kiosk that has sent a sign-up and a
// question (asked at askedAt), and one official.
type webFixture struct {
	tc       *testCentral
	admin    string
	official allimi.OfficialCredentials
	kiosk    string
	code     string // the question's slip code
}

// askedAt is 23:30 UTC on 1 March, 08:30 on 2 March in Korea.
var askedAt = time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)

func newWebFixture(t *testing.T, change func(*central.Config)) *webFixture {
	t.Helper()
	data := t.TempDir()
	f := &webFixture{kiosk: "gangnam-kiosk-7", code: "CDEFG-HJKLM"}
	cred := addKiosk(t, data, f.kiosk)
	f.official = withOfficialInStore(t, data, "kim.minji")
	f.tc = startCentral(t, data, change)
	f.admin = adminToken(t, data)
	// Central's own client must be on the broker before the kiosk sends.
	require.Eventually(t, func() bool {
		resp, err := http.Get(f.tc.http + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 10*time.Millisecond)
	rk := connectRaw(t, f.tc.mqtt, cred)
	up := wire.UpTopic(f.kiosk)
	rk.publish(t, up, marshal(t, event(t, f.kiosk, 1, 1)))
	q := allimi.Event{V: 1, Kiosk: f.kiosk, Seq: 2, HLC: allimi.NextHLC(0, askedAt), Kind: allimi.KindQuestion,
		Payload: []byte(`{"code":"` + f.code + `","lang":"ko","text":"기초연금은 어디서 신청하나요?","reply":"kiosk","audioBytes":0,"chunks":0}`)}
	rk.publish(t, up, marshal(t, q))
	rk.waitAck(t, 2)
	return f
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn signs the official in with b and returns the session cookie.
func (f *webFixture) signIn(t *testing.T, b *http.Client) *http.Cookie {
	t.Helper()
	resp, err := b.PostForm(f.tc.http+"/officials/login", url.Values{"id": {f.official.ID}, "token": {f.official.Token}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	for _, c := range resp.Cookies() {
		if c.Name == "allimi_official" {
			return c
		}
	}
	require.FailNow(t, "no session cookie")
	return nil
}

// page GETs path with b and returns the status, the headers and the body.
func page(t *testing.T, b *http.Client, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := b.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// post sends a form with b, with extra headers, and returns the status and body.
func post(t *testing.T, b *http.Client, u string, form url.Values, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestStaffEndpoints_RefuseAnonymousCallersAndAdmitAdminAndOfficials(t *testing.T) {
	f := newWebFixture(t, func(*central.Config) {})
	signedIn := browser()
	f.signIn(t, signedIn)
	for _, path := range []string{"/api/v1/conflicts", "/api/v1/rejections", "/api/v1/stats/subscribers", "/api/v1/stats/messages"} {
		t.Run(path, func(t *testing.T) {
			resp := getAs(t, f.tc.http+path, "")
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Contains(t, string(body), "the admin token")
			assert.NotContains(t, string(body), f.kiosk)

			for who, token := range map[string]string{"admin": f.admin, "official's token": f.official.Token} {
				resp := getAs(t, f.tc.http+path, token)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, who)
			}
			code, _, _ := page(t, signedIn, f.tc.http+path)
			assert.Equal(t, http.StatusOK, code, "an official's session")
		})
	}
	// The statistics' totals stay open (the first central's contract); the
	// kiosks and their sequence numbers are there only for staff.
	var st allimi.RegistryStats
	getJSONAs(t, f.tc.http+"/api/v1/stats", f.admin, &st)
	assert.EqualValues(t, 2, st.Kiosks[f.kiosk])
	st = allimi.RegistryStats{}
	getJSONAs(t, f.tc.http+"/api/v1/stats", f.official.Token, &st)
	assert.EqualValues(t, 2, st.Kiosks[f.kiosk])
	st = allimi.RegistryStats{}
	getJSONAs(t, f.tc.http+"/api/v1/stats", "", &st)
	assert.EqualValues(t, 2, st.Records.Stored)
	assert.Empty(t, st.Kiosks)

	for _, path := range []string{"/healthz", "/metrics", "/stats", "/api/v1/stats", "/api/v1/consult/feedback"} {
		code, _, body := page(t, http.DefaultClient, f.tc.http+path)
		assert.Equal(t, http.StatusOK, code, path)
		assert.NotContains(t, body, f.kiosk, "%s names no kiosk", path)
	}
}

func TestOfficials_CookieReplayedAfterSignOutIsRefused(t *testing.T) {
	f := newWebFixture(t, func(*central.Config) {})
	b := browser()
	stolen := f.signIn(t, b)
	code, _, body := page(t, b, f.tc.http+"/officials/questions")
	require.Equal(t, http.StatusOK, code)

	code, _ = post(t, b, f.tc.http+"/officials/logout", url.Values{"csrf": {csrfOf(t, body)}}, nil)
	require.Equal(t, http.StatusSeeOther, code)

	// Someone who copied the cookie before the sign-out replays it.
	replay := &http.Client{CheckRedirect: b.CheckRedirect}
	req, err := http.NewRequest(http.MethodGet, f.tc.http+"/officials/questions", nil)
	require.NoError(t, err)
	req.AddCookie(stolen)
	resp, err := replay.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/officials/login", resp.Header.Get("Location"))

	req, err = http.NewRequest(http.MethodGet, f.tc.http+"/api/v1/questions", nil)
	require.NoError(t, err)
	req.AddCookie(stolen)
	resp, err = replay.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestOfficials_FormsWithoutTheTokenOrFromAnotherSiteAreRefused(t *testing.T) {
	f := newWebFixture(t, func(*central.Config) {})
	b := browser()
	f.signIn(t, b)
	var qs struct{ Questions []allimi.Question }
	getJSONAs(t, f.tc.http+"/api/v1/questions", f.official.Token, &qs)
	require.Len(t, qs.Questions, 1)
	id := qs.Questions[0].ID
	_, _, body := page(t, b, fmt.Sprintf("%s/officials/questions/%d", f.tc.http, id))
	token := csrfOf(t, body)
	answer := fmt.Sprintf("%s/officials/questions/%d/answer", f.tc.http, id)
	// A wrong token differs in its first letter (a token that started with
	// the letter put there was once "wrong" and right: 1 run in 64).
	wrong := "x" + token[1:]
	if token[0] == 'x' {
		wrong = "y" + token[1:]
	}

	cases := []struct {
		name   string
		form   url.Values
		header map[string]string
	}{
		{"no token", url.Values{"answer": {"거짓 답변"}}, nil},
		{"a wrong token", url.Values{"answer": {"거짓 답변"}, "csrf": {wrong}}, nil},
		{"another site's page", url.Values{"answer": {"거짓 답변"}, "csrf": {token}}, map[string]string{"Origin": "https://evil.example"}},
		{"another site's page, by Referer", url.Values{"answer": {"거짓 답변"}, "csrf": {token}}, map[string]string{"Referer": "https://evil.example/x"}},
		{"a sandboxed frame", url.Values{"answer": {"거짓 답변"}, "csrf": {token}}, map[string]string{"Origin": "null"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := post(t, b, answer, c.form, c.header)
			assert.Equal(t, http.StatusForbidden, code)
			assert.Contains(t, body, "did not come from central's own page")
			var q allimi.Question
			getJSONAs(t, fmt.Sprintf("%s/api/v1/questions/%d", f.tc.http, id), f.official.Token, &q)
			assert.Nil(t, q.AnsweredAt, "the question is still unanswered")
		})
	}
	// The JSON API, called with the session cookie (a page of another
	// site can post text/plain that decodes as JSON), wants the token too.
	apiAnswer := fmt.Sprintf("%s/api/v1/questions/%d/answer", f.tc.http, id)
	for name, header := range map[string]string{"without the token": "", "with the token": token} {
		req, err := http.NewRequest(http.MethodPost, apiAnswer, strings.NewReader(`{"answer":"거짓 답변"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", "https://evil.example")
		if header != "" {
			req.Header.Set("X-CSRF-Token", header)
		}
		resp, err := b.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
	}
	var q allimi.Question
	getJSONAs(t, fmt.Sprintf("%s/api/v1/questions/%d", f.tc.http, id), f.official.Token, &q)
	require.Nil(t, q.AnsweredAt, "the question is still unanswered")

	// Sign-out and sign-in are guarded too.
	code, _ := post(t, b, f.tc.http+"/officials/logout", url.Values{}, nil)
	assert.Equal(t, http.StatusForbidden, code, "a forged sign-out")
	code, _, _ = page(t, b, f.tc.http+"/officials/questions")
	assert.Equal(t, http.StatusOK, code, "the session survives a forged sign-out")
	code, _ = post(t, browser(), f.tc.http+"/officials/login", url.Values{"id": {f.official.ID}, "token": {f.official.Token}},
		map[string]string{"Origin": "https://evil.example"})
	assert.Equal(t, http.StatusForbidden, code, "a sign-in from another site")

	// The real form, from central's own page, goes through.
	code, _ = post(t, b, answer, url.Values{"answer": {"주민센터 2층 복지팀에서 신청하세요."}, "csrf": {token}},
		map[string]string{"Origin": f.tc.http})
	assert.Equal(t, http.StatusSeeOther, code)
}

func TestOfficials_SessionCookieIsSecureWhenThePublicURLIsHTTPS(t *testing.T) {
	for _, c := range []struct {
		linkBase string
		secure   bool
	}{{"http://127.0.0.1:8080", false}, {"https://allimi.example.kr", true}} {
		t.Run(c.linkBase, func(t *testing.T) {
			f := newWebFixture(t, func(cfg *central.Config) { cfg.Dispatch.LinkBase = c.linkBase })
			cookie := f.signIn(t, browser())
			assert.Equal(t, c.secure, cookie.Secure)
			assert.True(t, cookie.HttpOnly)
			assert.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
		})
	}
}

func TestPages_CarrySecurityHeadersAndTheirStylesMatchTheCSP(t *testing.T) {
	f := newWebFixture(t, func(*central.Config) {})
	b := browser()
	f.signIn(t, b)
	code, h, _ := page(t, browser(), f.tc.http+"/officials/login")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'", "the sign-in page")
	for _, path := range []string{"/officials/questions", "/officials/questions/1", "/r/" + f.code, "/r/ABCDE-FGHJK", "/stats", "/api/v1/stats"} {
		t.Run(path, func(t *testing.T) {
			code, h, body := page(t, b, f.tc.http+path)
			require.Equal(t, http.StatusOK, code, body)
			csp := h.Get("Content-Security-Policy")
			assert.Contains(t, csp, "default-src 'none'")
			assert.Contains(t, csp, "frame-ancestors 'none'")
			assert.Contains(t, csp, "form-action 'self'")
			assert.NotContains(t, csp, "script-src")
			assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
			assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			if m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body); m != nil {
				sum := sha256.Sum256([]byte(m[1]))
				assert.Contains(t, csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", "the page's style is allowed by its hash")
			}
		})
	}
	// /n/ (central/detail) keeps its own policy, as strict.
	code, h, _ = page(t, b, f.tc.http+"/n/nothing-here")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
}

func TestPages_QuestionTimesAreShownInKoreanTime(t *testing.T) {
	f := newWebFixture(t, func(*central.Config) {})
	b := browser()
	f.signIn(t, b)
	const kst, utc = "2026년 3월 2일 08:30", "2026년 3월 1일 23:30"
	_, _, officials := page(t, b, f.tc.http+"/officials/questions/1")
	_, _, slip := page(t, b, f.tc.http+"/r/"+f.code)
	for name, body := range map[string]string{"officials' page": officials, "slip page": slip} {
		assert.Contains(t, body, kst, name)
		assert.NotContains(t, body, utc, name)
	}
}
