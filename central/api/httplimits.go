package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"allimi"
	"allimi/central/typefile"
)

// HTTPTimeouts bound how long one client may hold central's HTTP server:
// a slow client (one byte a second) or an idle keep-alive connection would
// otherwise keep a goroutine and a socket for ever.
type HTTPTimeouts struct {
	// ReadHeader is the time to read a request's headers; Read the whole
	// request, body included.
	ReadHeader, Read time.Duration
	// Write is the time from the end of the headers to the end of the
	// answer.
	Write time.Duration
	// Idle is how long a keep-alive connection waits for its next request.
	Idle time.Duration
	// Long replaces Read and Write for the few requests that are meant to
	// be big or slow, once they are authorised: an agency's notification
	// (up to maxNotificationBody of NDJSON), a catalog or knowledge-base
	// upload, a backup stream (the whole database).
	Long time.Duration
}

// DefaultHTTPTimeouts suit a form or a JSON call over a slow mobile link.
func DefaultHTTPTimeouts() HTTPTimeouts {
	return HTTPTimeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: time.Minute,
		Idle: 2 * time.Minute, Long: time.Hour}
}

// orDefault fills the fields left zero, for Configs not made by DefaultConfig.
func (t HTTPTimeouts) orDefault() HTTPTimeouts {
	d := DefaultHTTPTimeouts()
	for _, f := range []struct{ v, def *time.Duration }{{&t.ReadHeader, &d.ReadHeader}, {&t.Read, &d.Read},
		{&t.Write, &d.Write}, {&t.Idle, &d.Idle}, {&t.Long, &d.Long}} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return t
}

// maxHeaderBytes bounds a request's headers (Go's default is 1 MiB).
const maxHeaderBytes = 64 << 10

// NewHTTPServer is central's HTTP server with its timeouts and limits.
func (s *Server) NewHTTPServer(h http.Handler) *http.Server {
	t := s.Config.HTTPTimeouts.orDefault()
	return &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write,
		IdleTimeout: t.Idle, MaxHeaderBytes: maxHeaderBytes}
}

// allowLong gives an authorised big or slow request (HTTPTimeouts.Long)
// its own read and write deadlines instead of the server's. Called only
// after the caller is known, so nobody else can hold a connection that long.
func (s *Server) allowLong(w http.ResponseWriter) {
	d := time.Now().Add(s.Config.HTTPTimeouts.orDefault().Long)
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(d); err != nil {
		s.Log.Warn("HTTP read deadline not extended", "err", err)
	}
	if err := rc.SetWriteDeadline(d); err != nil {
		s.Log.Warn("HTTP write deadline not extended", "err", err)
	}
}

// Body limits per route (the mux's pattern); any other route, including
// those that read no body, gets defaultBodyLimit. Forms are a few fields,
// so their limit also keeps a multipart body from being spooled to disk.
const (
	defaultBodyLimit = 4 << 10
	formBodyLimit    = 4 << 10
	// maxNotificationJSON bounds a notification sent as one JSON
	// document, which the decoder holds whole in memory; bigger audiences
	// come as NDJSON, read line by line, up to maxNotificationBody.
	maxNotificationJSON = 8 << 20
	// maxAnswerForm holds MaxAnswerText characters of Korean, percent-encoded
	// (9 bytes a syllable), and the form's other fields.
	maxAnswerForm = 9*allimi.MaxAnswerText + formBodyLimit
)

var bodyLimits = map[string]int64{
	"POST /api/v1/notifications":                   maxNotificationBody,
	"PUT /api/v1/catalogs/{name}":                  maxCatalogBody + 1, // its handler says 413 itself
	"POST /api/v1/consult/kb":                      maxCatalogBody,
	"POST /api/v1/receipts":                        32 << 20,
	"POST /api/v1/questions/{id}/answer":           16 << 10,
	"POST /officials/questions/{id}/answer":        maxAnswerForm,
	"POST /officials/login":                        formBodyLimit,
	"POST /officials/logout":                       formBodyLimit,
	"POST /r/{code}":                               formBodyLimit,
	"POST /api/v1/enrol":                           1 << 10,
	"POST /api/v1/kiosks/{id}/enrol":               1 << 10,
	"POST /api/v1/conflicts/{id}/resolve":          4 << 10,
	"PUT /api/v1/types/{id}":                       typefile.MaxSize + 1, // its handler says 413 itself
	"POST /api/v1/programs/{program}/enrolments":   maxProgramBody,
	"PATCH /api/v1/programs/enrolments/{id}":       maxProgramBody,
	"POST /api/v1/programs/enrolments/{id}/events": maxProgramBody,
}

// limitedBody is a request body under http.MaxBytesReader that remembers
// hitting its limit, so a handler can answer 413 even when a decoder
// turned the error into a message of its own.
type limitedBody struct {
	io.ReadCloser
	limit int64
	hit   bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && errors.As(err, &mbe) {
		b.hit = true
	}
	return n, err
}

// limitBody puts r's body under limit (a lower one than the route's, for
// a handler that knows more, e.g. JSON rather than NDJSON).
func limitBody(w http.ResponseWriter, r *http.Request, limit int64) {
	r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit), limit: limit}
}

// bodyTooLarge reports whether reading r's body hit its limit, and the limit.
func bodyTooLarge(r *http.Request) (int64, bool) {
	if b, ok := r.Body.(*limitedBody); ok && b.hit {
		return b.limit, true
	}
	return 0, false
}

// writeTooLarge answers 413 when r's body hit its limit, and reports
// whether it did.
func writeTooLarge(w http.ResponseWriter, r *http.Request) bool {
	limit, hit := bodyTooLarge(r)
	if hit {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request body larger than %d bytes: send less", limit))
	}
	return hit
}

// parseForm reads r's form (URL-encoded or multipart) within the route's
// body limit, all in memory. An oversized body is answered 413 and parseForm
// returns false; other malformed forms leave the values empty, as before.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// The body is already capped far below maxMemory, so no part of it
		// goes to a temporary file.
		err = r.ParseMultipartForm(1 << 20)
	}
	if err != nil && writeTooLarge(w, r) {
		return false
	}
	return true
}

// guard is the outermost handler: the route's body limit on every request,
// and the headers every answer carries.
func (s *Server) guard(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		limit, ok := bodyLimits[pattern]
		if !ok {
			limit = defaultBodyLimit
		}
		limitBody(w, r, limit)
		securityHeaders(w.Header())
		r.RemoteAddr = realClient(r, s.Config.TrustedProxies)
		mux.ServeHTTP(w, r)
	})
}
