package detail

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/pagetext"
)

func TestText_EveryLanguageSaysEverything(t *testing.T) {
	var raw map[string]map[string]any
	_, err := toml.Decode(textSource, &raw)
	require.NoError(t, err)
	typ := reflect.TypeFor[pageText]()
	for _, lang := range allimi.Languages {
		require.Contains(t, raw, lang)
		for i := range typ.NumField() {
			f := typ.Field(i)
			if pagetext.Key(f) == "" || (f.Name == "Labels" && lang == allimi.DefaultLanguage) {
				continue
			}
			assert.Contains(t, raw[lang], pagetext.Key(f), "[%s] %s", lang, pagetext.Key(f))
		}
		if lang != allimi.DefaultLanguage {
			labels, _ := raw[lang]["labels"].(map[string]any)
			for _, pl := range paramLabels {
				assert.Contains(t, labels, pl.param, "[%s.labels]", lang)
			}
		}
		// Every format takes its arguments.
		tx := textFor(lang)
		c := clock{Year: 2026, Month: 12, Day: 2, PM: true, Hour: 3, Minute: 5, Hour24: 15, OtherDay: true}
		for _, s := range []string{tx.Fmt(tx.Wrong, 4), tx.Fmt(tx.FormNote, 5, 30), tx.Fmt(tx.Locked, 5, 30),
			tx.Fmt(tx.DetailsNote, tx.DateOf(c)), tx.Fmt(tx.TryAfter, tx.TimeOf(c)), tx.MonthOption(12), tx.Fmt(tx.DayOption, 31)} {
			assert.NotContains(t, s, "%!", "[%s] %s", lang, s)
		}
	}
}

func TestText_AKeyALanguageLacksIsKorean(t *testing.T) {
	src := strings.Replace(textSource, "[en]\nbrand = \"Allimi\"\ntitleForm = \"Confirm it is you\"\n", "[en]\nbrand = \"Allimi\"\n", 1)
	require.NotEqual(t, textSource, src)
	m, err := loadTexts(src)
	require.NoError(t, err)
	assert.Equal(t, "본인 확인", m["en"].TitleForm)
	assert.Equal(t, "Allimi", m["en"].Brand)
	assert.Equal(t, "en", m["en"].Lang)

	_, err = loadTexts(textSource + "\n[fr]\nbrand = \"Allimi\"\n")
	assert.ErrorContains(t, err, "[fr]: not one of ko, en, ja, zh, th, vi")
}

func TestHandler_PageSpeaksTheRecipientsLanguage(t *testing.T) {
	f := newFixture(t)
	d := penalty()
	d.Lang = "en"
	token := f.issue(d, kimBirth)

	res := f.get("/n/" + token)
	require.Equal(t, http.StatusOK, res.status)
	for _, want := range []string{`<html lang="en">`, "<title>Allimi — Confirm it is you</title>", "Please enter your date of birth.",
		`<option value="12">December</option>`, `<option value="31">31</option>`, "After 5 wrong dates of birth, checking stops for 30 minutes.",
		`<input type="hidden" name="lang" value="en">`} {
		assert.Contains(t, res.body, want)
	}
	assert.NotContains(t, res.body, "생년월일")

	res = f.postDate(token, "1950", "1", "3")
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Contains(t, res.body, "The date of birth does not match. Tries left: 4")

	res = f.postDate(token, "1950", "1", "2")
	require.Equal(t, http.StatusOK, res.status)
	for _, want := range []string{`<html lang="en">`, "<h1>교통 과태료 안내</h1>", "Sent by: <strong>경찰청</strong>",
		"<dt>과태료</dt>", ">Pay</a>", "You can see this notice until 2 December 2026."} {
		assert.Contains(t, res.body, want, "the page's words in English, the agency's as written")
	}
}

func TestHandler_LockedPageInThai(t *testing.T) {
	f := newFixture(t)
	d := checkup()
	d.Lang = "th"
	token := f.issue(d, kimBirth)
	for range 5 {
		f.postDate(token, "1950", "1", "3")
	}
	res := f.get("/n/" + token)
	require.Equal(t, http.StatusTooManyRequests, res.status)
	assert.Contains(t, res.body, `<html lang="th">`)
	assert.Contains(t, res.body, "กรุณาลองใหม่หลัง 15:30 น.") // t0 is 15:00 KST; locked 30 minutes
}

func TestHandler_LangQueryAndAcceptLanguage(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth) // a Korean recipient

	res := f.get("/n/" + token + "?lang=ja")
	assert.Contains(t, res.body, `<html lang="ja">`)
	assert.Contains(t, res.body, `action="/n/`+token+`?lang=ja"`, "the answer keeps the language asked for")
	res = f.post("/n/"+token+"?lang=ja", url.Values{"year": {"1950"}, "month": {"1"}, "day": {"2"}})
	assert.Contains(t, res.body, "送信機関:")

	// The browser's language does not override the recipient's…
	res = f.getWith("/n/"+token, "en-US,en;q=0.9")
	assert.Contains(t, res.body, `<html lang="ko">`)
	// …but speaks for a page without one.
	res = f.getWith("/n/nosuchtoken", "vi-VN,vi;q=0.9,en;q=0.5")
	assert.Equal(t, http.StatusNotFound, res.status)
	assert.Contains(t, res.body, `<html lang="vi">`)
	assert.Contains(t, res.body, "Không tìm thấy đường link")
	res = f.getWith("/n/nosuchtoken", "fr-FR")
	assert.Contains(t, res.body, `<html lang="ko">`)
	res = f.get("/n/nosuchtoken?lang=xx")
	assert.Contains(t, res.body, `<html lang="ko">`, "an unknown language is ignored")
}

func TestStore_InlineRecordKeepsTheLanguage_AndOldRecordsAreKorean(t *testing.T) {
	f := newFixture(t)
	d := checkup()
	d.Lang = "vi"
	vi := f.issue(d, kimBirth)
	got, err := f.st.Check(vi, kimBirth)
	require.NoError(t, err)
	assert.Equal(t, "vi", got.Lang)
	assert.Equal(t, checkup().Fields, got.Fields)

	// A record written before languages: the detail, nothing after it.
	var old string
	require.NoError(t, f.db.Update(func(tx *bbolt.Tx) error {
		var err error
		old, _, err = f.st.put(BoltTx(tx), formatInline, d.Expires, kimBirth, "", appendDetail(nil, checkup()))
		return err
	}))
	got, err = f.st.Check(old, kimBirth)
	require.NoError(t, err)
	assert.Equal(t, allimi.DefaultLanguage, got.Lang)
	assert.Equal(t, checkup().Title, got.Title)
	assert.Contains(t, f.get("/n/"+old).body, `<html lang="ko">`)

	d.Lang = "fr"
	_, _, err = f.st.Issue(BoltTx(nil), d, kimBirth)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
}

func TestStore_ResolvedTokenSpeaksItsLanguage(t *testing.T) {
	f, res, tokens := resolverFixture(t)
	for seq, r := range res.recs {
		if r.secret[0] == 2 {
			r.lang = "zh"
			res.recs[seq] = r
		}
	}
	srv := httptest.NewServer(f.st.Handler())
	t.Cleanup(srv.Close)
	get := func(path string) string {
		r, err := srv.Client().Get(srv.URL + path)
		require.NoError(t, err)
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.Contains(t, get("/n/"+tokens[1]), "请输入您的出生日期")
	assert.Contains(t, get("/n/"+tokens[0]), "생년월일을 입력해 주세요", "no language: Korean")
	d, err := f.st.Check(tokens[1], kimBirth)
	require.NoError(t, err)
	assert.Equal(t, "zh", d.Lang)
}

func TestRecipientFieldsIn_LabelsInTheLanguage(t *testing.T) {
	n := &allimi.Notification{Type: allimi.TypeTrafficFine, Params: map[string]string{"amount": "40,000", "violation": "신호위반"}}
	assert.Equal(t, []Field{{"위반 내용", "신호위반"}, {"금액(원)", "40,000"}}, RecipientFields(n, nil))
	assert.Equal(t, []Field{{"Violation", "신호위반"}, {"Amount (won)", "40,000"}}, RecipientFieldsIn(n, nil, "en"))
	assert.Equal(t, RecipientFields(n, nil), RecipientFieldsIn(n, nil, ""))
}

// getWith is get with an Accept-Language header.
func (f *fixture) getWith(path, acceptLanguage string) response {
	f.t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	require.NoError(f.t, err)
	req.Header.Set("Accept-Language", acceptLanguage)
	res, err := f.srv.Client().Do(req)
	require.NoError(f.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(f.t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// The optional params of a type (a relief payment's application period,
// how to apply; a check-up's cancer screenings) are on the page when the
// agency gives them, and a type an administrator put labels its own.
func TestRecipientFields_OptionalParamsAndAnAdministratorsLabels(t *testing.T) {
	relief := &allimi.Notification{Type: allimi.TypeRelief, Params: map[string]string{"amount": "250,000",
		"applyUntil": "2027-03-31", "applyFrom": "2027-03-02", "validUntil": "2027-08-31", "howToApply": "행정복지센터 방문"}}
	assert.Equal(t, []Field{{"금액(원)", "250,000"}, {"신청 시작", "2027-03-02"}, {"신청 기한", "2027-03-31"},
		{"사용 기한", "2027-08-31"}, {"신청 방법", "행정복지센터 방문"}}, RecipientFields(relief, nil))
	assert.Contains(t, RecipientFieldsIn(relief, nil, "en"), Field{"How to apply", "행정복지센터 방문"})
	checkup := &allimi.Notification{Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2027"}}
	assert.Equal(t, []Field{{"대상 연도", "2027"}, {"받으실 암 검진", "위암, 대장암"}}, RecipientFields(checkup, map[string]string{"cancers": "위암, 대장암"}))

	t.Cleanup(allimi.ResetTypes)
	require.NoError(t, allimi.PutType(allimi.TypeInfo{ID: "parking-fine", Name: "주정차 위반 과태료", Params: []string{"amount", "street"},
		Labels: map[string]string{"street": "단속 도로"}}))
	parking := &allimi.Notification{Type: "parking-fine", Params: map[string]string{"amount": "40,000", "street": "세종대로"}}
	assert.Equal(t, []Field{{"금액(원)", "40,000"}, {"단속 도로", "세종대로"}}, RecipientFields(parking, nil))
}
