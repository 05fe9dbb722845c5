package detail

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"allimi"
	"allimi/central/throttle"
)

//go:embed page.html
var pageSource string

//go:embed page.css
var pageCSS string

var (
	pageTemplate = template.Must(template.New("page.html").Parse(pageSource))

	// The style block is allowed by its hash; 'unsafe-inline' is there
	// for browsers older than CSP level 2, and browsers that know hashes
	// ignore it. No scripts at all.
	contentSecurityPolicy = "default-src 'none'; style-src 'sha256-" + cssHash() +
		"' 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

func cssHash() string {
	h := sha256.Sum256([]byte(pageCSS))
	return base64.StdEncoding.EncodeToString(h[:])
}

// maxFormBody bounds a POST: three small numbers or one date.
const maxFormBody = 1 << 10

// kst is Korea's time zone, which has no daylight saving; a fixed zone
// needs no tz database on the server.
var kst = time.FixedZone("KST", 9*60*60)

// Handler serves the detail page: GET /n/{token} asks for the date of
// birth, POST /n/{token} (year, month, day; or birthDate=YYYY-MM-DD) checks
// it and shows the detail. Any other path gets the not-found page.
//
// A token that does not exist answers a little faster than one that does
// (no hash, no decryption), so timing tells whether a token exists; with
// 2^128 possible random parts nobody can find one by trying, so this is
// not worth hiding.
func (s *Store) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /n/{token}", s.serveForm)
	mux.HandleFunc("POST /n/{token}", s.serveCheck)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.render(w, http.StatusNotFound, page{Kind: "notfound", Lang: visitorLang(r, "")})
	})
	return secure(mux)
}

// secure adds the headers every response carries: nothing cached, the
// token never sent on as a referrer, no framing, no scripts.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		next.ServeHTTP(w, r)
	})
}

// page is what the template shows; Kind picks the page.
type page struct {
	Kind   string // form, details, notfound, expired, locked, error
	CSS    template.CSS
	Action string
	// Lang is the language of the page's words (T): the recipient's.
	Lang string
	T    *pageText
	// FormLang goes back with the form: the language to answer in
	// should its record not be read (an address locked).
	FormLang string

	// The form, filled again with what was typed after a failed try.
	Year           string
	Month, Day     int
	Months, Days   []int
	Wrong, BadDate bool
	TriesLeft      int

	MaxFailures, LockMinutes int
	Until                    clock // locked: when to try again

	Detail  Detail
	Expires clock // last day the detail can be seen
}

// clock is a time as the page says it, in KST.
type clock struct {
	Year, Month, Day int
	PM               bool
	Hour, Minute     int  // Hour 0-11 in the morning, 12, 1-11 in the afternoon
	OtherDay         bool // not the same day as now: say the date too
	Hour24           int  // 0-23
}

func kstClock(t, now time.Time) clock {
	t, now = t.In(kst), now.In(kst)
	c := clock{Year: t.Year(), Month: int(t.Month()), Day: t.Day(), Hour: t.Hour(), Minute: t.Minute(), Hour24: t.Hour()}
	c.OtherDay = t.YearDay() != now.YearDay() || t.Year() != now.Year()
	if c.Hour >= 12 {
		c.PM = true
		if c.Hour > 12 {
			c.Hour -= 12
		}
	}
	return c
}

// ceilMinute rounds t up to a whole minute, so "after 3:20 pm" is never
// too early.
func ceilMinute(t time.Time) time.Time {
	if r := t.Truncate(time.Minute); r.Before(t) {
		return r.Add(time.Minute)
	}
	return t
}

var (
	months = intsFrom(1, 12)
	days   = intsFrom(1, 31)
)

func intsFrom(lo, hi int) []int {
	s := make([]int, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// formPage is the form of token, in lang; override is the language the
// visitor asked for (?lang=), which the form's answer keeps.
func (s *Store) formPage(token, lang, override string) page {
	action := "/n/" + token
	if override != "" {
		action += "?lang=" + override
	}
	return page{Kind: "form", Action: action, Months: months, Days: days, Lang: lang, FormLang: lang}
}

// langOverride is the language a visitor asked for with ?lang=xx, one of
// allimi.Languages; "" when none (or one not spoken).
func langOverride(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l != "" && allimi.ValidateLanguage("lang", l) == nil {
		return l
	}
	return ""
}

// visitorLang is the language of a page that has no recipient: the one
// asked for with ?lang=, else hint (a form's), else the browser's
// (Accept-Language), else Korean.
func visitorLang(r *http.Request, hint string) string {
	if l := langOverride(r); l != "" {
		return l
	}
	if hint != "" && allimi.ValidateLanguage("lang", hint) == nil {
		return hint
	}
	return allimi.LanguageOr(allimi.PreferredLanguage(r.Header.Get("Accept-Language")))
}

// pageLang is the language of a page about a recipient whose language
// is lang ("" when their record was not read): ?lang= first, then theirs.
func pageLang(r *http.Request, lang, hint string) string {
	if l := langOverride(r); l != "" {
		return l
	}
	if lang != "" {
		return lang
	}
	return visitorLang(r, hint)
}

func (s *Store) serveForm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	t, ok := parseToken(token)
	if !ok {
		s.render(w, http.StatusNotFound, page{Kind: "notfound", Lang: visitorLang(r, "")})
		return
	}
	recLang, err := s.state(&t)
	form := s.formPage(token, pageLang(r, recLang, ""), langOverride(r))
	if err != nil {
		s.renderResult(w, err, form)
		return
	}
	s.render(w, http.StatusOK, form)
}

func (s *Store) serveCheck(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if _, ok := parseToken(token); !ok {
		s.render(w, http.StatusNotFound, page{Kind: "notfound", Lang: visitorLang(r, "")})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	var dob string
	var form page
	if err := r.ParseForm(); err == nil {
		form = s.formPage(token, visitorLang(r, r.PostForm.Get("lang")), langOverride(r))
		dob = readBirthDate(r.PostForm, &form)
	} else if tooBig := new(http.MaxBytesError); errors.As(err, &tooBig) {
		// Not a date anyone typed: say so, count no try.
		form = s.formPage(token, visitorLang(r, ""), langOverride(r))
		form.BadDate = true
		s.render(w, http.StatusRequestEntityTooLarge, form)
		return
	} else {
		form = s.formPage(token, visitorLang(r, ""), langOverride(r))
	}
	client := throttle.Client(r.RemoteAddr)
	if err := s.clientAllowed(client); err != nil {
		s.renderResult(w, err, form)
		return
	}
	d, recLang, err := s.checkToken(token, dob)
	form.Lang = pageLang(r, recLang, form.FormLang)
	form.FormLang = form.Lang
	if err != nil {
		if s.opt.Clients != nil && (errors.As(err, new(*WrongBirthDateError)) || errors.Is(err, ErrNotFound)) {
			if _, cerr := s.opt.Clients.Count(client, ""); cerr != nil && !errors.Is(cerr, throttle.ErrBusy) {
				s.opt.Logger.Error("detail page: counting a wrong try", "err", cerr)
			}
		}
		s.renderResult(w, err, form)
		return
	}
	if s.opt.OnView != nil {
		t, _ := parseToken(token)
		if err := s.opt.OnView(t.seq()); err != nil {
			s.renderResult(w, err, form)
			return
		}
	}
	s.render(w, http.StatusOK, page{Kind: "details", Detail: d, Lang: form.Lang,
		Expires: kstClock(d.Expires.Add(-time.Second), s.opt.Now())})
}

// clientAllowed says whether client may try a date of birth, as a
// *LockedError when not.
func (s *Store) clientAllowed(client string) error {
	if s.opt.Clients == nil {
		return nil
	}
	err := s.opt.Clients.Allow(client, "")
	var locked *throttle.LockedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &locked):
		return &LockedError{Until: locked.Until}
	default: // busy: too many wrong tries everywhere just now
		return &LockedError{Until: s.opt.Now().Add(time.Minute)}
	}
}

// readBirthDate takes the date of birth from the form's year, month and day
// (or birthDate, YYYY-MM-DD or YYYYMMDD) and keeps what was typed in f to
// show it again. It returns "" when the fields are not numbers, which Check
// refuses as not a date.
func readBirthDate(v url.Values, f *page) string {
	y, m, d := strings.TrimSpace(v.Get("year")), strings.TrimSpace(v.Get("month")), strings.TrimSpace(v.Get("day"))
	if y == "" && m == "" && d == "" {
		b := strings.TrimSpace(v.Get("birthDate"))
		if len(b) == 8 && isDigits(b) {
			b = b[:4] + "-" + b[4:6] + "-" + b[6:]
		}
		if len(b) == len(allimi.DateLayout) {
			y, m, d = b[:4], b[5:7], b[8:]
		}
		return keepTyped(f, y, m, d, b)
	}
	yi, err1 := strconv.Atoi(y)
	mi, err2 := strconv.Atoi(m)
	di, err3 := strconv.Atoi(d)
	if err1 != nil || err2 != nil || err3 != nil || yi < 0 || mi < 0 || di < 0 {
		return keepTyped(f, y, m, d, "")
	}
	return keepTyped(f, y, m, d, fmt.Sprintf("%04d-%02d-%02d", yi, mi, di))
}

func keepTyped(f *page, y, m, d, dob string) string {
	if len(y) <= 4 && isDigits(y) {
		f.Year = y
	}
	if n, err := strconv.Atoi(m); err == nil && n >= 1 && n <= 12 {
		f.Month = n
	}
	if n, err := strconv.Atoi(d); err == nil && n >= 1 && n <= 31 {
		f.Day = n
	}
	return dob
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// renderResult shows the page for an error of Check or state, in form's
// language; form is the form to show again when the person may try
// again.
func (s *Store) renderResult(w http.ResponseWriter, err error, form page) {
	var locked *LockedError
	var wrong *WrongBirthDateError
	switch {
	case errors.Is(err, ErrNotFound):
		s.render(w, http.StatusNotFound, page{Kind: "notfound", Lang: form.Lang})
	case errors.Is(err, ErrExpired):
		s.render(w, http.StatusGone, page{Kind: "expired", Lang: form.Lang})
	case errors.As(err, &locked):
		now := s.opt.Now()
		until := ceilMinute(locked.Until)
		w.Header().Set("Retry-After", strconv.Itoa(int(max(until.Sub(now), time.Second)/time.Second)))
		s.render(w, http.StatusTooManyRequests, page{Kind: "locked", Lang: form.Lang, Until: kstClock(until, now)})
	case errors.As(err, &wrong):
		form.Wrong, form.TriesLeft = true, wrong.TriesLeft
		s.render(w, http.StatusForbidden, form)
	case errors.Is(err, allimi.ErrInvalid):
		form.BadDate = true
		s.render(w, http.StatusBadRequest, form)
	default:
		s.opt.Logger.Error("detail page", "err", err)
		s.render(w, http.StatusInternalServerError, page{Kind: "error", Lang: form.Lang})
	}
}

func (s *Store) render(w http.ResponseWriter, status int, p page) {
	p.CSS = template.CSS(pageCSS)
	p.T = textFor(p.Lang)
	p.MaxFailures, p.LockMinutes = s.opt.MaxFailures, int(s.opt.Lockout/time.Minute)
	var b bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&b, "page", p); err != nil {
		s.opt.Logger.Error("detail page: render", "kind", p.Kind, "err", err)
		http.Error(w, "500 internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
