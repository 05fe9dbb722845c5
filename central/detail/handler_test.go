package detail

import (
	"crypto/sha256"
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandler_FormAsksForBirthDate(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)

	res := f.get("/n/" + token)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "text/html; charset=utf-8", res.header.Get("Content-Type"))
	for _, want := range []string{
		`<html lang="ko">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"<title>알리미 — 본인 확인</title>",
		"개인정보를 지키기 위해",
		`method="post" action="/n/` + token + `"`,
		`name="year"`, `name="month"`, `name="day"`,
		`inputmode="numeric"`,
	} {
		assert.Contains(t, res.body, want)
	}
	assert.NotContains(t, res.body, "<script")
	assert.NotContains(t, res.body, penalty().Title, "nothing of the notice before the check")
	assert.NotContains(t, res.body, penalty().Agency)
}

func TestHandler_RightBirthDateShowsDetails(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
	}{
		{"year month day", url.Values{"year": {"1950"}, "month": {"1"}, "day": {"2"}}},
		{"zero-padded", url.Values{"year": {" 1950 "}, "month": {"01"}, "day": {"02"}}},
		{"birthDate", url.Values{"birthDate": {"1950-01-02"}}},
		{"birthDate without dashes", url.Values{"birthDate": {"19500102"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			token := f.issue(penalty(), kimBirth)
			res := f.post("/n/"+token, tt.form)
			require.Equal(t, http.StatusOK, res.status, res.body)
			for _, want := range []string{
				"<title>알리미 — 교통 과태료 안내</title>",
				"<h1>교통 과태료 안내</h1>", "경찰청",
				"<dt>과태료</dt>", "<dd>40,000원</dd>", "<dt>납부기한</dt>", "<dd>2026-12-31</dd>",
				"2026년 12월 2일까지", // expires 2026-12-02 06:00 UTC, 15:00 KST
				"개인정보가 들어 있지 않습니다",
			} {
				assert.Contains(t, res.body, want)
			}
		})
	}
}

func TestHandler_PaymentButtonOnlyAfterCheckAndWhenSet(t *testing.T) {
	f := newFixture(t)
	withPay := f.issue(penalty(), kimBirth)
	withoutPay := f.issue(checkup(), kimBirth)
	payHref := `href="https://pay.example.kr/p?id=123&amp;amp=1"`

	for _, res := range []response{
		f.get("/n/" + withPay),
		f.postDate(withPay, "1950", "1", "3"),
	} {
		assert.NotContains(t, res.body, "납부하기")
		assert.NotContains(t, res.body, "pay.example.kr")
	}

	res := f.postDate(withPay, "1950", "1", "2")
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, `<a class="button pay" `+payHref)
	assert.Contains(t, res.body, ">납부하기</a>")

	res = f.postDate(withoutPay, "1950", "1", "2")
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, "국가건강검진 안내")
	assert.NotContains(t, res.body, "납부하기")
}

func TestHandler_EscapesEverything(t *testing.T) {
	f := newFixture(t)
	d := checkup()
	d.Title = `<b>검진</b>`
	d.Agency = `"공단" & co`
	d.Fields = []Field{{"<i>메모</i>", "<script>alert(1)</script>"}}
	token := f.issue(d, kimBirth)

	res := f.postDate(token, "1950", "1", "2")
	require.Equal(t, http.StatusOK, res.status)
	assert.NotContains(t, res.body, "<script")
	assert.NotContains(t, res.body, "<b>검진")
	assert.NotContains(t, res.body, "<i>메모")
	assert.Contains(t, res.body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	assert.Contains(t, res.body, "&lt;b&gt;검진&lt;/b&gt;")
	assert.Contains(t, res.body, "&#34;공단&#34; &amp; co")

	res = f.post("/n/"+token, url.Values{"year": {`"><script>`}, "month": {"1"}, "day": {"2"}})
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.NotContains(t, res.body, "<script")
}

func TestHandler_WrongBirthDateSaysTriesLeft(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for left := 4; left >= 1; left-- {
		res := f.postDate(token, "1950", "1", "3")
		require.Equal(t, http.StatusForbidden, res.status)
		assert.Contains(t, res.body, "생년월일이 맞지 않습니다. 남은 횟수: "+strconv.Itoa(left)+"번")
		assert.Contains(t, res.body, `name="year"`, "the form again")
		assert.Contains(t, res.body, `value="1950"`, "with what was typed")
		assert.Contains(t, res.body, `<option value="3" selected>3일</option>`)
	}
	res := f.postDate(token, "1950", "1", "2")
	assert.Equal(t, http.StatusOK, res.status)
}

func TestHandler_ImpossibleDateIsBadRequestAndNotCounted(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for _, form := range []url.Values{
		{"year": {"2023"}, "month": {"2"}, "day": {"30"}},
		{"birthDate": {"2023-02-30"}},
		{"year": {"50"}, "month": {"1"}, "day": {"2"}},
		{"year": {"일구오공"}, "month": {"1"}, "day": {"2"}},
		{"year": {"1950"}, "month": {""}, "day": {"2"}},
		{},
	} {
		res := f.post("/n/"+token, form)
		assert.Equal(t, http.StatusBadRequest, res.status, form)
		assert.Contains(t, res.body, "날짜를 다시 확인해 주세요")
		assert.Contains(t, res.body, `name="year"`)
	}
	assert.Zero(t, f.attemptsStored())
	res := f.postDate(token, "1950", "1", "3")
	assert.Contains(t, res.body, "남은 횟수: 4번")
}

func TestHandler_OversizedBodyIsRefused(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	res := f.post("/n/"+token, url.Values{"year": {strings.Repeat("1", 4096)}, "month": {"1"}, "day": {"2"}})
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status)
	assert.Contains(t, res.body, "날짜를 다시 확인해 주세요")
	assert.Zero(t, f.attemptsStored())
}

func TestHandler_LockedPageSaysWhenInKST(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	f.advance(19*time.Minute + 30*time.Second) // 15:19:30 KST
	for range 4 {
		require.Equal(t, http.StatusForbidden, f.postDate(token, "1950", "1", "3").status)
	}
	res := f.postDate(token, "1950", "1", "3")
	require.Equal(t, http.StatusTooManyRequests, res.status)
	// Locked until 15:49:30: the page says 15:50, never earlier.
	assert.Contains(t, res.body, "오후 3시 50분 이후에 다시 시도해 주세요")
	assert.Contains(t, res.body, "행정복지센터")
	assert.Equal(t, "1830", res.header.Get("Retry-After"))
	assert.NotContains(t, res.body, `name="year"`, "no form while locked")

	res = f.postDate(token, "1950", "1", "2")
	assert.Equal(t, http.StatusTooManyRequests, res.status, "the right date waits too")
	assert.NotContains(t, res.body, "40,000원")
	assert.Equal(t, http.StatusTooManyRequests, f.get("/n/"+token).status)

	f.advance(30 * time.Minute)
	assert.Equal(t, http.StatusOK, f.get("/n/"+token).status)
	assert.Equal(t, http.StatusOK, f.postDate(token, "1950", "1", "2").status)
}

func TestKSTClock(t *testing.T) {
	now := time.Date(2026, 11, 2, 14, 0, 0, 0, time.UTC) // 23:00 KST
	tests := []struct {
		at   time.Time
		want clock
	}{
		{time.Date(2026, 11, 2, 14, 20, 0, 0, time.UTC), clock{2026, 11, 2, true, 11, 20, false, 23}},
		{time.Date(2026, 11, 2, 15, 5, 0, 0, time.UTC), clock{2026, 11, 3, false, 0, 5, true, 0}},
		{time.Date(2026, 11, 3, 3, 0, 0, 0, time.UTC), clock{2026, 11, 3, true, 12, 0, true, 12}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, kstClock(tt.at, now), tt.at)
	}
}

func TestHandler_ExpiredIsGone(t *testing.T) {
	f := newFixture(t)
	d := penalty()
	d.Expires = t0.Add(time.Hour)
	token := f.issue(d, kimBirth)
	f.advance(2 * time.Hour)
	for _, res := range []response{f.get("/n/" + token), f.postDate(token, "1950", "1", "2")} {
		assert.Equal(t, http.StatusGone, res.status)
		assert.Contains(t, res.body, "기간이 지난 안내입니다")
		assert.NotContains(t, res.body, "40,000원")
	}
}

func TestHandler_UnknownOrMalformedTokenIsNotFound(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	for _, path := range []string{
		"/n/" + "AAAAAQ" + strings.Repeat("x", TokenLen-6), // well-formed, never issued
		"/n/" + token[:TokenLen-1] + "Z",                   // forged
		"/n/short",
		"/n/" + token + "A",
		"/n/" + url.PathEscape("<script>") + strings.Repeat("A", 20),
		"/n/",
		"/",
		"/favicon.ico",
	} {
		for _, res := range []response{f.get(path), f.postDate(strings.TrimPrefix(path, "/n/"), "1950", "1", "2")} {
			assert.Equal(t, http.StatusNotFound, res.status, path)
			assert.Contains(t, res.body, "링크를 찾을 수 없습니다", path)
		}
	}
	assert.Zero(t, f.attemptsStored())
}

func TestHandler_MalformedTokenNeverTouchesTheDatabase(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.db.Close())
	f.db = nil // the server keeps running on a closed database
	t.Cleanup(f.srv.Close)

	assert.Equal(t, http.StatusNotFound, f.get("/n/not-a-token").status)
	assert.Equal(t, http.StatusNotFound, f.postDate("not-a-token", "1950", "1", "2").status)
	res := f.get("/n/" + strings.Repeat("A", TokenLen))
	assert.Equal(t, http.StatusInternalServerError, res.status, "a well-formed token is looked up, in a closed database")
	assert.Contains(t, res.body, "잠시 후 다시 시도해 주세요")
}

func TestHandler_SecurityHeadersOnEveryAnswer(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	expired := penalty()
	expired.Expires = t0.Add(time.Minute)
	old := f.issue(expired, kimBirth)
	f.advance(time.Minute)

	answers := map[string]response{
		"form":     f.get("/n/" + token),
		"wrong":    f.postDate(token, "1950", "1", "3"),
		"bad date": f.postDate(token, "1950", "2", "30"),
		"details":  f.postDate(token, "1950", "1", "2"),
		"expired":  f.get("/n/" + old),
		"unknown":  f.get("/n/nope"),
		"other":    f.do(http.MethodPut, "/n/"+token, url.Values{}),
	}
	for name, res := range answers {
		h := res.header
		assert.Equal(t, "no-store", h.Get("Cache-Control"), name)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), name)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), name)
		assert.Equal(t, "DENY", h.Get("X-Frame-Options"), name)
		csp := h.Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", name)
		assert.NotContains(t, csp, "script-src", name)
		assert.Contains(t, csp, "form-action 'self'", name)
		assert.Contains(t, csp, "frame-ancestors 'none'", name)
	}
}

func TestPage_StyleBlockMatchesPolicyHash(t *testing.T) {
	f := newFixture(t)
	token := f.issue(penalty(), kimBirth)
	res := f.get("/n/" + token)
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(res.body)
	require.Len(t, m, 2)
	sum := sha256.Sum256([]byte(m[1]))
	assert.Contains(t, res.header.Get("Content-Security-Policy"),
		"'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	assert.NotContains(t, res.body, ` style="`, "inline style attributes would be blocked")
}

// cssRules splits page.css into selector → declarations.
func cssRules(t *testing.T) map[string]map[string]string {
	t.Helper()
	rules := map[string]map[string]string{}
	for _, m := range regexp.MustCompile(`([^{}]+)\{([^}]*)\}`).FindAllStringSubmatch(pageCSS, -1) {
		decl := map[string]string{}
		for _, d := range strings.Split(m[2], ";") {
			if k, v, ok := strings.Cut(d, ":"); ok {
				decl[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
		rules[strings.TrimSpace(m[1])] = decl
	}
	require.NotEmpty(t, rules)
	return rules
}

func TestPage_LargeTextBigButtonsHighContrast(t *testing.T) {
	rules := cssRules(t)
	px := func(v string) float64 {
		n, err := strconv.ParseFloat(strings.TrimSuffix(v, "px"), 64)
		require.NoError(t, err, v)
		return n
	}
	assert.GreaterOrEqual(t, px(rules["body"]["font-size"]), 24.0)
	for sel, d := range rules {
		if v, ok := d["font-size"]; ok {
			assert.GreaterOrEqual(t, px(v), 24.0, sel)
		}
	}
	assert.GreaterOrEqual(t, px(rules[".button"]["min-height"]), 56.0)
	assert.GreaterOrEqual(t, px(rules["input,select"]["min-height"]), 56.0)

	pairs := 0
	for sel, d := range rules {
		fg, bg := d["color"], d["background-color"]
		if fg == "" && bg == "" {
			continue
		}
		if bg == "" {
			bg = rules["body"]["background-color"]
		}
		require.NotEmpty(t, fg, "%s sets a background without a text colour", sel)
		require.NotEmpty(t, bg, "%s sets a text colour without a background", sel)
		assert.GreaterOrEqual(t, contrast(t, fg, bg), 7.0, "%s: %s on %s", sel, fg, bg)
		pairs++
	}
	assert.GreaterOrEqual(t, pairs, 6)
}

// contrast is the WCAG 2 contrast ratio of two #rrggbb colours.
func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(t *testing.T, hex string) float64 {
	require.Regexp(t, `^#[0-9a-f]{6}$`, hex)
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		require.NoError(t, err)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}
