package detail

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

// t0 is 15:00 in Korea.
var t0 = time.Date(2026, 11, 2, 6, 0, 0, 0, time.UTC)

const kimBirth = "1950-01-02"

// penalty is a notice with a payment link.
func penalty() Detail {
	return Detail{
		Type:       allimi.TypeTrafficPenalty,
		Title:      "교통 과태료 안내",
		Agency:     "경찰청",
		Fields:     []Field{{"과태료", "40,000원"}, {"납부기한", "2026-12-31"}},
		PaymentURL: "https://pay.example.kr/p?id=123&amp=1",
		Expires:    t0.Add(30 * 24 * time.Hour),
	}
}

// checkup is a notice without one.
func checkup() Detail {
	return Detail{
		Type:    allimi.TypeHealthCheckup,
		Title:   "국가건강검진 안내",
		Agency:  "국민건강보험공단",
		Fields:  []Field{{"대상 연도", "2026년"}},
		Expires: t0.Add(30 * 24 * time.Hour),
	}
}

// fixture is a bbolt file in a temporary directory, a Store on it and a
// clock that only the test moves.
type fixture struct {
	t      *testing.T
	path   string
	secret []byte
	now    atomic.Int64
	db     *bbolt.DB
	st     *Store
	srv    *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "central.db"), secret: []byte(strings.Repeat("k", 32))}
	f.now.Store(t0.UnixNano())
	f.open()
	t.Cleanup(func() {
		if f.db != nil {
			f.close()
		}
	})
	return f
}

func (f *fixture) clock() time.Time { return time.Unix(0, f.now.Load()) }

func (f *fixture) advance(d time.Duration) { f.now.Add(int64(d)) }

func (f *fixture) open() {
	f.t.Helper()
	db, err := bbolt.Open(f.path, 0o600, &bbolt.Options{Timeout: time.Second})
	require.NoError(f.t, err)
	st, err := NewStore(openBolt(f.t, db, nil), f.secret, Options{Now: f.clock, BaseURL: "http://127.0.0.1:8080/",
		Logger: slog.New(slog.NewTextHandler(f.t.Output(), nil))})
	require.NoError(f.t, err)
	f.db, f.st = db, st
	f.srv = httptest.NewServer(st.Handler())
}

func (f *fixture) close() {
	f.t.Helper()
	f.srv.Close()
	require.NoError(f.t, f.db.Close())
	f.db = nil
}

func (f *fixture) reopen() {
	f.close()
	f.open()
}

// issue issues one token in its own transaction.
func (f *fixture) issue(d Detail, birthDate string) string {
	f.t.Helper()
	var token string
	require.NoError(f.t, f.db.Update(func(tx *bbolt.Tx) error {
		var err error
		token, _, err = f.st.Issue(BoltTx(tx), d, birthDate)
		return err
	}))
	return token
}

// response is what the page answered.
type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) get(path string) response {
	f.t.Helper()
	return f.do(http.MethodGet, path, nil)
}

func (f *fixture) post(path string, form url.Values) response {
	f.t.Helper()
	return f.do(http.MethodPost, path, form)
}

func (f *fixture) postDate(token, year, month, day string) response {
	f.t.Helper()
	return f.post("/n/"+token, url.Values{"year": {year}, "month": {month}, "day": {day}})
}

func (f *fixture) do(method, path string, form url.Values) response {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	require.NoError(f.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := f.srv.Client().Do(req)
	require.NoError(f.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(f.t, err)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// attemptsStored counts the try counters in the file.
func (f *fixture) attemptsStored() int {
	f.t.Helper()
	n := 0
	require.NoError(f.t, f.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketAttempts).Stats().KeyN
		return nil
	}))
	return n
}

// openBolt is db as the Store's storage.
func openBolt(t testing.TB, db *bbolt.DB, r Resolver) Storage {
	t.Helper()
	st, err := Bolt(db, r)
	require.NoError(t, err)
	return st
}
