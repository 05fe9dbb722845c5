package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sessionCookie names an official's session cookie. csrfField is the
// hidden field of every form of the officials' pages; csrfHeader carries
// the same token for the JSON API used with the cookie.
const (
	sessionCookie = "allimi_official"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// secureCookies reports whether the session cookie gets the Secure flag:
// when central is reached over TLS, or its public URL (--link-base, behind a
// TLS proxy) is https.
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(s.Config.LinkBase), "https://")
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, official string, now time.Time) error {
	id, exp, err := s.Store.StartOfficialSession(official, now)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode, Expires: exp})
	return nil
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(r), SameSite: http.SameSiteStrictMode})
}

// sessionID is r's session cookie, "" without one.
func sessionID(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// Official returns the signed-in official of r: a session cookie, or an
// Official's token as a bearer token (for the JSON API). "" when none.
func (s *Server) official(r *http.Request) string {
	id, _ := s.officialAuth(r)
	return id
}

// officialAuth is official, and whether the official came by cookie (and
// so must prove a state-changing request came from central's own page).
func (s *Server) officialAuth(r *http.Request) (id string, byCookie bool) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		id, err := s.Store.OfficialByToken(tok)
		if err != nil {
			s.Log.Error("official sign-in", "err", err)
			return "", false
		}
		return id, false
	}
	sid := sessionID(r)
	if sid == "" {
		return "", false
	}
	id, err := s.Store.OfficialBySession(sid, time.Now())
	if err != nil {
		s.Log.Error("official session", "err", err)
		return "", false
	}
	return id, id != ""
}

// csrfToken is the anti-forgery token of a session: a MAC of its id, so
// nothing more is stored, and a page of another site, which cannot read the
// cookie, cannot make it.
func (s *Server) csrfToken(r *http.Request) string {
	sid := sessionID(r)
	if sid == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.Keys.Derive("official csrf"))
	m.Write([]byte(sid))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errForged = errors.New("request refused: it did not come from central's own page " +
	"(anti-forgery token or Origin missing or wrong): reload the page and try again")

// checkForgery refuses a state-changing request made with the session
// cookie unless it carries the session's token (form field or header) and,
// when the browser says where it comes from, comes from central itself.
func (s *Server) checkForgery(r *http.Request) error {
	if !s.sameOrigin(r) {
		return errForged
	}
	want := s.csrfToken(r)
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errForged
	}
	return nil
}

// sameOrigin checks Origin, else Referer, against the host r was sent to
// and the public URL. A request with neither (some privacy settings strip
// both) passes: the token still guards it. (OWASP CSRF cheat sheet,
// "Verifying origin with standard headers".)
func (s *Server) sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
		if src == "" {
			return true
		}
	}
	u, err := url.Parse(src)
	if err != nil || u.Host == "" {
		return false // includes Origin: null (a sandboxed frame, a data: URL)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if lb, err := url.Parse(s.Config.LinkBase); err == nil && lb.Host != "" && strings.EqualFold(u.Host, lb.Host) {
		return true
	}
	return false
}

// staff lets through the admin token or a signed-in official: for what
// shows people's or kiosks' data (conflicts, rejections, statistics per
// kiosk, feedback).
func (s *Server) staff(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		privatePage(w)
		if !s.isAdmin(r) && s.official(r) == "" {
			writeError(w, http.StatusUnauthorized, errors.New("the admin token (Authorization: Bearer, from keys.json) "+
				"or an official's sign-in (the session of /officials/login, or Authorization: Bearer <official's token>) is required"))
			return
		}
		h(w, r)
	}
}

// isAdmin reports whether r bears the admin token of keys.json.
func (s *Server) isAdmin(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(tok), []byte(s.Keys.AdminToken)) == 1
}
