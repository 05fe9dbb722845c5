package api

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"allimi"
	"allimi/central/throttle"
)

//go:embed questions.ko.html
var questionsPage string

var questionsTemplate = template.Must(template.New("questions").Funcs(template.FuncMap{
	"seconds": func(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) },
	"kst":     kstTime,
}).Parse(questionsPage))

type questionsData struct {
	Kind     string // login, list, question, notfound
	Official string
	// Message names a notice the page shows: login-failed, login-locked,
	// answer-invalid, already-answered.
	Message  string
	Waiting  []allimi.Question
	Answered []allimi.Question
	Q        allimi.Question
	Draft    string
	// MaxAnswer is MaxAnswerText, for the form's limit.
	MaxAnswer int
	// CSRF is the session's anti-forgery token, for the forms.
	CSRF string
}

func (s *Server) questionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /officials", s.handleOfficialsHome)
	mux.HandleFunc("GET /officials/login", s.handleOfficialsHome)
	mux.HandleFunc("POST /officials/login", s.handleOfficialLogin)
	mux.HandleFunc("POST /officials/logout", s.handleOfficialLogout)
	mux.HandleFunc("GET /officials/questions", s.officialPage(s.handleQuestionsPage))
	mux.HandleFunc("GET /officials/questions/{id}", s.officialPage(s.handleQuestionPage))
	mux.HandleFunc("POST /officials/questions/{id}/answer", s.officialPage(s.handleAnswerForm))
	mux.HandleFunc("GET /officials/questions/{id}/audio", s.officialAPI(s.handleQuestionAudio))
	mux.HandleFunc("GET /api/v1/questions", s.officialAPI(s.handleQuestionsAPI))
	mux.HandleFunc("GET /api/v1/questions/{id}", s.officialAPI(s.handleQuestionAPI))
	mux.HandleFunc("GET /api/v1/questions/{id}/audio", s.officialAPI(s.handleQuestionAudio))
	mux.HandleFunc("POST /api/v1/questions/{id}/answer", s.officialAPI(s.handleAnswerAPI))
}

// officialPage lets through signed-in officials and sends the rest to the
// sign-in page. A form it takes must carry the session's anti-forgery token.
func (s *Server) officialPage(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		privatePage(w)
		id, byCookie := s.officialAuth(r)
		if id == "" {
			http.Redirect(w, r, "/officials/login", http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !parseForm(w, r) {
				return
			}
			if byCookie {
				if err := s.checkForgery(r); err != nil {
					s.Log.Warn("officials' form refused", "official", id, "err", err)
					writeError(w, http.StatusForbidden, err)
					return
				}
			}
		}
		h(w, r, id)
	}
}

// officialAPI lets through requests with an official's session or token;
// a state-changing one made with the session cookie must carry the
// session's anti-forgery token (X-CSRF-Token), as a form would.
func (s *Server) officialAPI(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		privatePage(w)
		id, byCookie := s.officialAuth(r)
		if id == "" {
			writeError(w, http.StatusUnauthorized, errors.New("an official's sign-in is required: the session cookie of /officials/login, "+
				"or Authorization: Bearer <token from `allimi central official add`>"))
			return
		}
		if byCookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := s.checkForgery(r); err != nil {
				s.Log.Warn("officials' API call refused", "official", id, "err", err)
				writeError(w, http.StatusForbidden, err)
				return
			}
		}
		h(w, r, id)
	}
}

// privatePage keeps questions, answers and recordings out of every cache.
func privatePage(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

func (s *Server) renderQuestions(w http.ResponseWriter, status int, d questionsData) {
	d.MaxAnswer = allimi.MaxAnswerText
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := questionsTemplate.Execute(w, d); err != nil {
		s.Log.Error("officials' page", "err", err)
	}
}

// renderOfficial renders a page for a signed-in official, with the
// session's anti-forgery token in its forms.
func (s *Server) renderOfficial(w http.ResponseWriter, r *http.Request, status int, d questionsData) {
	d.CSRF = s.csrfToken(r)
	s.renderQuestions(w, status, d)
}

func (s *Server) handleOfficialsHome(w http.ResponseWriter, r *http.Request) {
	privatePage(w)
	if s.official(r) != "" {
		http.Redirect(w, r, "/officials/questions", http.StatusSeeOther)
		return
	}
	s.renderQuestions(w, http.StatusOK, questionsData{Kind: "login"})
}

func (s *Server) handleOfficialLogin(w http.ResponseWriter, r *http.Request) {
	privatePage(w)
	if !parseForm(w, r) {
		return
	}
	if !s.sameOrigin(r) {
		// A sign-in forged by another site would sign this browser in
		// as someone else.
		writeError(w, http.StatusForbidden, errForged)
		return
	}
	id, tok := r.PostFormValue("id"), r.PostFormValue("token")
	tries, client := s.Limits.Official, throttle.Client(r.RemoteAddr)
	if err := tries.Allow(client, id); err != nil {
		s.Log.Warn("official sign-in refused: too many wrong tries", "official", id, "remote", r.RemoteAddr, "err", err)
		s.renderQuestions(w, http.StatusTooManyRequests, questionsData{Kind: "login", Message: "login-locked"})
		return
	}
	ok, err := s.Store.OfficialCheck(id, tok)
	if err != nil {
		s.Log.Error("official sign-in", "err", err)
	}
	if !ok {
		s.Log.Warn("official sign-in refused", "official", id, "remote", r.RemoteAddr)
		if _, err := tries.Count(client, id); err != nil && !errors.Is(err, throttle.ErrBusy) {
			s.Log.Error("official sign-in: counting a wrong try", "err", err)
		}
		s.renderQuestions(w, http.StatusUnauthorized, questionsData{Kind: "login", Message: "login-failed"})
		return
	}
	if err := tries.Reset(id); err != nil {
		s.Log.Error("official sign-in: resetting tries", "err", err)
	}
	if err := s.setSession(w, r, id, time.Now()); err != nil {
		s.Log.Error("official sign-in", "err", err)
		http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/officials/questions", http.StatusSeeOther)
}

// handleOfficialLogout ends the session in the store, not only in the
// browser: the cookie, wherever a copy of it is, signs nobody in after this.
func (s *Server) handleOfficialLogout(w http.ResponseWriter, r *http.Request) {
	privatePage(w)
	if !parseForm(w, r) {
		return
	}
	if id, byCookie := s.officialAuth(r); id != "" && byCookie {
		if err := s.checkForgery(r); err != nil {
			s.Log.Warn("sign-out refused", "official", id, "err", err)
			writeError(w, http.StatusForbidden, err)
			return
		}
		if err := s.Store.EndOfficialSession(sessionID(r)); err != nil {
			s.Log.Error("sign-out", "official", id, "err", err)
			http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
			return
		}
		s.Log.Info("official signed out", "official", id)
	}
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/officials/login", http.StatusSeeOther)
}

// recentAnswered is how many answered questions the list page shows.
const recentAnswered = 50

func (s *Server) handleQuestionsPage(w http.ResponseWriter, r *http.Request, official string) {
	all, err := s.Store.Questions(true)
	if err != nil {
		s.Log.Error("questions page", "err", err)
		http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
		return
	}
	d := questionsData{Kind: "list", Official: official, Waiting: []allimi.Question{}}
	for _, q := range all {
		switch {
		case q.AnsweredAt == nil:
			d.Waiting = append(d.Waiting, q)
		case len(d.Answered) < recentAnswered:
			d.Answered = append(d.Answered, q)
		}
	}
	s.renderOfficial(w, r, http.StatusOK, d)
}

func questionID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("question id %q: not a number: %w", r.PathValue("id"), allimi.ErrInvalid)
	}
	return id, nil
}

func (s *Server) handleQuestionPage(w http.ResponseWriter, r *http.Request, official string) {
	id, err := questionID(r)
	var q allimi.Question
	if err == nil {
		q, err = s.Store.Question(id)
	}
	if err != nil {
		s.renderOfficial(w, r, http.StatusNotFound, questionsData{Kind: "notfound", Official: official})
		return
	}
	s.renderOfficial(w, r, http.StatusOK, questionsData{Kind: "question", Official: official, Q: q})
}

func (s *Server) handleAnswerForm(w http.ResponseWriter, r *http.Request, official string) {
	id, err := questionID(r)
	if err != nil {
		s.renderOfficial(w, r, http.StatusNotFound, questionsData{Kind: "notfound", Official: official})
		return
	}
	answer := r.PostFormValue("answer")
	_, err = s.answer(id, official, answer)
	switch {
	case err == nil:
		http.Redirect(w, r, fmt.Sprintf("/officials/questions/%d", id), http.StatusSeeOther)
	case errors.Is(err, allimi.ErrNotFound):
		s.renderOfficial(w, r, http.StatusNotFound, questionsData{Kind: "notfound", Official: official})
	case errors.Is(err, allimi.ErrInvalid), errors.Is(err, allimi.ErrAlreadyAnswered):
		msg, status := "answer-invalid", http.StatusBadRequest
		if errors.Is(err, allimi.ErrAlreadyAnswered) {
			msg, status = "already-answered", http.StatusConflict
		}
		q, _ := s.Store.Question(id)
		s.renderOfficial(w, r, status, questionsData{Kind: "question", Official: official, Q: q, Message: msg, Draft: answer})
	default:
		s.Log.Error("answer", "question", id, "err", err)
		http.Error(w, "잠시 후 다시 시도해 주세요.", http.StatusInternalServerError)
	}
}

// answer stores an official's answer and wakes the sender.
func (s *Server) answer(id uint64, official, text string) (allimi.Question, error) {
	if s.Answers != nil {
		// Checked now, so that an answer that cannot be sent is refused
		// while the official is still there to shorten it.
		if err := s.Answers.CheckAnswer(text); err != nil {
			return allimi.Question{}, err
		}
	}
	q, err := s.Store.AnswerQuestion(id, official, text, s.Config.DeleteAnsweredAudio)
	if err != nil {
		return q, err
	}
	s.Log.Info("question answered", "question", id, "official", official, "reply", q.Reply)
	if s.Answers != nil && q.Delivery == "queued" {
		s.Answers.Poke()
	}
	return q, nil
}

func (s *Server) handleQuestionsAPI(w http.ResponseWriter, r *http.Request, _ string) {
	qs, err := s.Store.Questions(r.URL.Query().Get("all") != "")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"questions": qs})
}

func (s *Server) handleQuestionAPI(w http.ResponseWriter, r *http.Request, _ string) {
	id, err := questionID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q, err := s.Store.Question(id)
	switch {
	case err != nil:
		writeError(w, statusOf(err), err)
	default:
		writeJSON(w, http.StatusOK, q)
	}
}

func (s *Server) handleAnswerAPI(w http.ResponseWriter, r *http.Request, official string) {
	id, err := questionID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	var body struct {
		Answer string `json:"answer"`
	}
	d := json.NewDecoder(r.Body) // under the route's limit (httplimits.go)
	d.DisallowUnknownFields()
	if err := d.Decode(&body); err != nil {
		if writeTooLarge(w, r) {
			return
		}
		writeError(w, http.StatusBadRequest, fmt.Errorf(`body: %v: send {"answer":"…"}`, err))
		return
	}
	q, err := s.answer(id, official, body.Answer)
	switch {
	case err != nil:
		writeError(w, statusOf(err), err)
	default:
		writeJSON(w, http.StatusOK, q)
	}
}

// handleQuestionAudio serves a recording as a WAV file, to officials only.
func (s *Server) handleQuestionAudio(w http.ResponseWriter, r *http.Request, official string) {
	id, err := questionID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	pcm, err := s.Store.QuestionAudio(id, official)
	switch {
	case err != nil:
		writeError(w, statusOf(err), err)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	// ServeContent answers the range requests with which players seek.
	http.ServeContent(w, r, fmt.Sprintf("question-%d.wav", id), time.Time{}, bytes.NewReader(append(wavHeader(len(pcm)), pcm...)))
}

// wavHeader is the RIFF header of n bytes of 16 kHz mono 16-bit PCM.
func wavHeader(n int) []byte {
	h := make([]byte, 0, 44)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(36+n))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1) // PCM
	h = binary.LittleEndian.AppendUint16(h, 1) // mono
	h = binary.LittleEndian.AppendUint32(h, allimi.QuestionSampleRate)
	h = binary.LittleEndian.AppendUint32(h, allimi.QuestionBytesPerSecond)
	h = binary.LittleEndian.AppendUint16(h, 2)  // block align
	h = binary.LittleEndian.AppendUint16(h, 16) // bits
	h = append(h, "data"...)
	return binary.LittleEndian.AppendUint32(h, uint32(n))
}
