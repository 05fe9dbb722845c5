package api

import (
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"time"

	"allimi"
	"allimi/central/pagetext"
	"allimi/central/throttle"
)

//go:embed receipt.html
var receiptPage string

//go:embed receipt.toml
var receiptWords string

var (
	receiptTemplate = template.Must(template.New("receipt").Funcs(template.FuncMap{"kst": kstTime}).Parse(receiptPage))
	receiptTexts    = mustLoadReceiptTexts()
)

// receiptText is the receipt page's words in one language (receipt.toml).
type receiptText struct {
	Lang string `toml:"-"`

	Brand, Title, FormTitle, CodeLabel, Wrong, FormIntro, BirthDate, Submit string
	ViewTitle, Name, Received, TimeLayout, Phone, Verified, Unverified      string
	Consents, NoConsents, Change                                            string
	QuestionTitle, Asked, Question, AnswerTitle, AnsweredAt                 string
	NoAnswer, NoAnswerSent                                                  string
	LockedTitle, Locked, NotFoundTitle, NotFound                            string
	// Types and Channels name a sign-up's notices and channels by id;
	// Korean's are the names ReceiptConsent carries.
	Types    map[string]string `toml:"types" pagetext:"optional"`
	Channels map[string]string `toml:"channels" pagetext:"optional"`
}

func mustLoadReceiptTexts() map[string]*receiptText {
	m, err := pagetext.Load[receiptText]("receipt page text", receiptWords)
	if err != nil {
		panic(err)
	}
	for lang, t := range m {
		t.Lang = lang
	}
	return m
}

// receiptTextFor is the page's words in lang, Korean for one it does not
// speak.
func receiptTextFor(lang string) *receiptText {
	if t := receiptTexts[lang]; t != nil {
		return t
	}
	return receiptTexts[allimi.DefaultLanguage]
}

// Fmt is format with args: the sentences with a number or a time.
func (t *receiptText) Fmt(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// TypeName names a granted type in the page's language.
func (t *receiptText) TypeName(c allimi.ReceiptConsent) string {
	if n := t.Types[string(c.TypeID)]; n != "" {
		return n
	}
	return c.Type
}

// ChannelNames names a grant's channels in the page's language.
func (t *receiptText) ChannelNames(c allimi.ReceiptConsent) []string {
	if len(t.Channels) == 0 || len(c.ChannelIDs) != len(c.Channels) {
		return c.Channels
	}
	out := make([]string, len(c.ChannelIDs))
	for i, ch := range c.ChannelIDs {
		if out[i] = t.Channels[string(ch)]; out[i] == "" {
			out[i] = c.Channels[i]
		}
	}
	return out
}

type receiptData struct {
	Kind      string // form, view, notfound, locked, question
	Code      string
	Action    string
	T         *receiptText
	Wrong     bool
	TriesLeft int
	// LockMinutes: how long until the code, or this address, may try again.
	LockMinutes int
	View        allimi.ReceiptView
	Question    allimi.Question
}

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodPost && !parseForm(w, r) {
		return
	}
	code, ok := allimi.NormalizeReceiptCode(r.PathValue("code"))
	// Until the date of birth is right the page speaks the visitor's
	// language (?lang=, else the browser's), never the sign-up's: a
	// guessed code must learn nothing. The sign-up's comes with it.
	override := ""
	if l := r.URL.Query().Get("lang"); l != "" && allimi.ValidateLanguage("lang", l) == nil {
		override = l
	}
	lang := allimi.LanguageOr(cmp.Or(override, allimi.PreferredLanguage(r.Header.Get("Accept-Language"))))
	d := receiptData{Kind: "form", Code: code, Action: "/r/" + code}
	if override != "" {
		d.Action += "?lang=" + override
	}
	status := http.StatusOK
	now := time.Now()
	tries, client := s.Limits.Receipt, throttle.Client(r.RemoteAddr)
	switch {
	case !ok:
		d.Kind, status = "notfound", http.StatusNotFound
	case s.refused(tries.Allow(client, code), &d):
		status = http.StatusTooManyRequests
	case s.questionSlip(code, &d):
		// The slip of a question for an official: its code is random (50
		// bits), a bearer secret like the slip itself, so the page shows
		// whether it was answered, and the answer, without a date of birth
		// (a question may name no one).
	case r.Method == http.MethodPost:
		birth, err := allimi.ParseBirthDate(r.PostFormValue("birthDate"), now)
		if err != nil {
			d.Wrong, d.TriesLeft, status = true, 5, http.StatusBadRequest
			break
		}
		v, err := s.Store.Receipt(code, birth.Format(allimi.DateLayout))
		switch {
		case errors.Is(err, allimi.ErrNotFound):
			// An unknown code is counted like a wrong date (the store
			// Answers both alike): a guessed code learns nothing.
			d.Wrong, status = true, http.StatusForbidden
			left, err := tries.Count(client, code)
			if err != nil && !errors.Is(err, throttle.ErrBusy) {
				s.Log.Error("receipt page: counting a wrong try", "err", err)
			}
			d.TriesLeft = left
			if s.refused(tries.Allow(client, code), &d) {
				status = http.StatusTooManyRequests
			}
		case err != nil:
			s.Log.Error("receipt page", "err", err)
			http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
			return
		default:
			if err := tries.Reset(code); err != nil {
				s.Log.Error("receipt page: resetting tries", "err", err)
			}
			// Not the code: the audit log is plaintext, and the code opens the page.
			if err := s.Store.AuditView(allimi.AuditReceipt, v.CitizenKey, "receipt of a sign-up at "+v.Kiosk); err != nil {
				s.Log.Error("receipt page: audit", "err", err)
				http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
				return
			}
			d.Kind, d.View = "view", v
			lang = allimi.LanguageOr(cmp.Or(override, v.Lang))
		}
	}
	if d.Kind == "question" {
		if l := d.Question.Lang; override == "" && allimi.ValidateLanguage("lang", l) == nil {
			lang = allimi.LanguageOr(l)
		}
	}
	d.T = receiptTextFor(lang)
	w.WriteHeader(status)
	if err := receiptTemplate.Execute(w, d); err != nil {
		s.Log.Error("receipt page", "err", err)
	}
}

// refused fills d with the locked page when err, a refusal of the
// Receipt limits, is one.
func (s *Server) refused(err error, d *receiptData) bool {
	var locked *throttle.LockedError
	switch {
	case err == nil:
		return false
	case errors.As(err, &locked):
		d.LockMinutes = int(math.Ceil(locked.Until.Sub(s.Limits.Now()).Minutes()))
	default: // ErrBusy: too many wrong tries everywhere just now
		d.LockMinutes = 1
	}
	d.Kind, d.LockMinutes = "locked", max(d.LockMinutes, 1)
	return true
}

// questionSlip fills d with the question whose slip carries code, and
// reports whether there is one. A code used twice (a kiosk's bug) shows
// neither question.
func (s *Server) questionSlip(code string, d *receiptData) bool {
	q, err := s.Store.QuestionByCode(code)
	if err != nil {
		if !errors.Is(err, allimi.ErrNotFound) {
			s.Log.Error("receipt page: question", "err", err)
		}
		return false
	}
	if q.CodeReused {
		return false
	}
	if err := s.Store.AuditView(allimi.AuditQuestionView, nil, fmt.Sprintf("question %d", q.ID)); err != nil {
		s.Log.Error("receipt page: audit", "err", err)
		return false
	}
	d.Kind, d.Question = "question", q
	return true
}
