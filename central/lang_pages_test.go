package central_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/notify"
	"allimi/internal/loadgen"
)

// TestNotify_ASignupInEnglishGetsAnEnglishMessageAndDetailPage: a person
// who signed up at a kiosk in English is sent the English AlimTalk
// template and their detail page speaks English (the agency's own words
// as written); a person who signed up in Korean gets Korean, as before.
func TestNotify_ASignupInEnglishGetsAnEnglishMessageAndDetailPage(t *testing.T) {
	for _, store := range []string{"bolt", "postgres"} {
		t.Run(store, func(t *testing.T) { testEnglishNotice(t, store == "postgres") })
	}
}

func testEnglishNotice(t *testing.T, postgres bool) {
	f := newFanout(t, fanoutOptions{people: 2, postgres: postgres, langs: []string{"en"}})
	en, ko := f.people[0], f.people[1]
	body := `{"type":"traffic-fine","params":{"amount":"40,000","dueDate":"2026-12-31","violation":"신호위반"},
	  "audience":{"citizens":[` + listed(en, ko) + `]}, "urgent":true, "title":"교통 범칙금 안내",
	  "fields":[{"label":"단속 장소","value":"세종로 사거리"}], "paymentUrl":"https://www.efine.go.kr/pay"}`
	code, resp := f.post(t, body, "")
	require.Equal(t, http.StatusAccepted, code, resp)
	f.waitMetric(t, allimi.TypeTrafficFine, allimi.ChannelKakao, notify.MetricSent, 2)

	texts := map[string]string{}
	for _, m := range f.fake.Messages(allimi.ChannelKakao) {
		texts[m.Recipient] = m.Text
	}
	enText, koText := texts[en.Mobile], texts[ko.Mobile]
	assert.Contains(t, enText, "[Allimi] Traffic fine notice")
	assert.Contains(t, enText, "Dear "+en.Name+", you have been given a traffic fine.")
	assert.Contains(t, enText, "▶ Fine: 40,000 won")
	assert.NotContains(t, enText, "님")
	assert.Contains(t, koText, ko.Name+"님, 교통 범칙금이 부과되어 알려 드립니다.")

	link := func(text string) string {
		i := strings.Index(text, "http://"+f.tc.cfg.HTTP+"/n/")
		require.GreaterOrEqual(t, i, 0, text)
		return strings.Fields(text[i:])[0]
	}
	get := func(link string) string {
		r, err := http.Get(link)
		require.NoError(t, err)
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		assert.Equal(t, http.StatusOK, r.StatusCode)
		return string(b)
	}
	post := func(link, birth string) (int, string) {
		r, err := http.PostForm(link, url.Values{"birthDate": {birth}})
		require.NoError(t, err)
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}

	page := get(link(enText))
	assert.Contains(t, page, `<html lang="en">`)
	assert.Contains(t, page, "Please enter your date of birth.")
	status, page := post(link(enText), "1930-01-01")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, page, "The date of birth does not match. Tries left: 4")
	status, page = post(link(enText), en.BirthDate)
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{`<html lang="en">`, "<h1>교통 범칙금 안내</h1>", "<dt>Violation</dt>", "<dd>신호위반</dd>",
		"<dt>Amount (won)</dt>", "<dt>단속 장소</dt>", "<dd>세종로 사거리</dd>", ">Pay</a>", "You can see this notice until"} {
		assert.Contains(t, page, want)
	}

	page = get(link(koText))
	assert.Contains(t, page, `<html lang="ko">`)
	status, page = post(link(koText), ko.BirthDate)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "<dt>위반 내용</dt>")
	assert.Contains(t, page, ">납부하기</a>")
}

// TestReceiptPage_SpeaksTheSignupsLanguageAfterTheBirthDate: before the
// date of birth the page speaks the visitor's language (a guessed code
// learns nothing, not even a language); after it, the sign-up's.
func TestReceiptPage_SpeaksTheSignupsLanguageAfterTheBirthDate(t *testing.T) {
	f := newKioskFixture(t)
	person := loadgen.Person("sejong-01", 1)
	d := loadgen.SignupOf(person, []allimi.NotificationType{allimi.TypeHealthCheckup}, []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}, "en", time.Now())
	evs, err := f.outbox.Append(d)
	require.NoError(t, err)
	require.NoError(t, f.sender.WaitDrained(context.Background()))
	code := allimi.ReceiptCode(evs[0].Kiosk, evs[0].Seq)
	page := "http://" + f.srv.HTTPAddr() + "/r/" + code

	do := func(method, acceptLanguage string, form url.Values) (int, string) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, page, body)
		require.NoError(t, err)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if acceptLanguage != "" {
			req.Header.Set("Accept-Language", acceptLanguage)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	status, body := do(http.MethodGet, "", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<html lang="ko">`, "nothing of the sign-up before the check, not its language")
	assert.Contains(t, body, "생년월일")
	_, body = do(http.MethodGet, "en-GB,en;q=0.8", nil)
	assert.Contains(t, body, "Please enter your date of birth.")

	status, body = do(http.MethodPost, "", url.Values{"birthDate": {"1901-01-01"}})
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "남은 횟수: 4")

	status, body = do(http.MethodPost, "", url.Values{"birthDate": {person.BirthDate}})
	require.Equal(t, http.StatusOK, status, body)
	for _, want := range []string{`<html lang="en">`, "Your sign-up has been received", (allimi.Citizen{Name: person.Name}).MaskedName(),
		"National health check-up: KakaoTalk, Text message", "sejong-01", "We sent you a text message to confirm"} {
		assert.Contains(t, body, want)
	}
	assert.NotContains(t, body, "신청이 접수되어 있습니다")
}

// TestQuestions_SlipPageSpeaksTheQuestionsLanguage: a question's slip
// (no date of birth: its code is the secret) speaks the language the
// question was asked in.
func TestQuestions_SlipPageSpeaksTheQuestionsLanguage(t *testing.T) {
	f := newKioskFixture(t)
	cred := withOfficial(t, f, "kim")
	code := ask(t, f, allimi.QuestionPayload{Lang: "vi", Reply: "kiosk", Text: "Tôi lấy giấy tờ ở đâu?"}, allimi.Citizen{}, nil)
	base := "http://" + f.srv.HTTPAddr()
	require.Eventually(t, func() bool { return len(apiQuestions(t, base, cred.Token)) == 1 }, 20*time.Second, 20*time.Millisecond)
	resp, err := http.Get(base + "/r/" + code)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(b), `<html lang="vi">`)
	assert.Contains(t, string(b), "Chưa có câu trả lời.")
	assert.Contains(t, string(b), "Tôi lấy giấy tờ ở đâu?")
}
