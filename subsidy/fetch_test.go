package subsidy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testKey is a decoded data.go.kr key: "+", "/" and "=" must be encoded.
const testKey = "abc+/def=="

// fakeGov24 serves generated services as the gov24 v3 API pages them, and
// can be told to fail.
type fakeGov24 struct {
	rows map[string][]any // per endpoint

	mu       sync.Mutex
	requests map[string]int // "serviceList/2" → times asked
	fail     func(ep string, page, nth int) (status int, body string)
}

func newFakeGov24(services []genService) *fakeGov24 {
	f := &fakeGov24{rows: map[string][]any{}, requests: map[string]int{}}
	for _, s := range services {
		f.rows[EndpointServiceList] = append(f.rows[EndpointServiceList], s.list)
		if s.cond != nil {
			f.rows[EndpointSupportConditions] = append(f.rows[EndpointSupportConditions], s.cond)
		}
		if s.detail != nil {
			f.rows[EndpointServiceDetail] = append(f.rows[EndpointServiceDetail], s.detail)
		}
	}
	return f
}

func (f *fakeGov24) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep := strings.TrimPrefix(r.URL.Path, "/api/gov24/v3/")
	rows, ok := f.rows[ep]
	if !ok && ep != EndpointServiceDetail {
		http.Error(w, `{"code":-404,"msg":"not found"}`, http.StatusNotFound)
		return
	}
	if r.URL.Query().Get("serviceKey") != testKey {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"code":-4,"msg":"등록되지 않은 인증키 입니다."}`)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ := strconv.Atoi(r.URL.Query().Get("perPage"))
	f.mu.Lock()
	key := fmt.Sprintf("%s/%d", ep, page)
	f.requests[key]++
	nth := f.requests[key]
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if status, body := fail(ep, page, nth); status != 0 {
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
	}
	lo := min((page-1)*perPage, len(rows))
	hi := min(page*perPage, len(rows))
	_ = json.NewEncoder(w).Encode(apiPage(page, perPage, len(rows), rows[lo:hi]))
}

func (f *fakeGov24) asked(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[key]
}

func testFetcher(url string) *Fetcher {
	return &Fetcher{
		ServiceKey: testKey, BaseURL: url + "/api/gov24/v3", PerPage: 100,
		Attempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func TestFetch_PagesThroughEveryEndpointWithRetries(t *testing.T) {
	gen := genCatalog(250, 11)
	api := newFakeGov24(gen)
	api.fail = func(ep string, page, nth int) (int, string) {
		switch {
		case nth > 1:
			return 0, ""
		case page == 1:
			return http.StatusServiceUnavailable, "busy"
		case page == 2:
			return http.StatusTooManyRequests, `{"code":-429,"msg":"too many"}`
		case page == 3 && ep == EndpointServiceList:
			return http.StatusOK, `{"page":3,"data":[{"서비스ID"` // cut short
		}
		return 0, ""
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "pages")
	f := testFetcher(srv.URL)
	f.MaxBackoff = time.Millisecond // Retry-After is capped by MaxBackoff

	rep, err := f.Fetch(context.Background(), dir)
	require.NoError(t, err)
	for page := 1; page <= 3; page++ {
		assert.Equal(t, 2, api.asked(fmt.Sprintf("serviceList/%d", page)), "page %d failed once, then was served", page)
	}
	retries := 0
	api.mu.Lock()
	for _, n := range api.requests {
		retries += n - 1
	}
	api.mu.Unlock()
	assert.Equal(t, retries, rep.Retries)
	assert.Equal(t, rep.Fetched, len(api.requests))
	assert.Equal(t, 0, rep.Kept)

	c, irep, err := Import(dir)
	require.NoError(t, err)
	assert.Equal(t, len(gen), c.Len())
	assert.Empty(t, irep.Warnings, "no page missing")
	assert.Contains(t, c.About.Source, DefaultSource)
	assert.NotEmpty(t, c.About.Fetched)
	for _, g := range gen[:20] {
		s, ok := c.Service(g.id())
		require.True(t, ok)
		assert.Equal(t, g.list["서비스명"], s.Name)
		assert.Equal(t, g.cond != nil, s.Conditions != nil)
	}
}

func TestFetch_ResumesWhereItStopped(t *testing.T) {
	gen := genCatalog(450, 12)
	api := newFakeGov24(gen)
	api.fail = func(ep string, page, _ int) (int, string) {
		if ep == EndpointServiceList && page == 4 {
			return http.StatusBadGateway, "bad gateway"
		}
		return 0, ""
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dir := t.TempDir()
	f := testFetcher(srv.URL)

	_, err := f.Fetch(context.Background(), dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "serviceList page 4 (attempt 4 of 4): HTTP 502: bad gateway")
	assert.Equal(t, 4, api.asked("serviceList/4"), "retried up to Attempts")
	_, _, err = Import(dir)
	require.NoError(t, err, "the pages written are whole")

	api.mu.Lock()
	api.fail = nil
	api.mu.Unlock()
	rep, err := f.Fetch(context.Background(), dir)
	require.NoError(t, err)
	assert.Equal(t, 1, api.asked("serviceList/1"), "kept pages are not asked for again")
	assert.Equal(t, 1, api.asked("serviceList/3"))
	assert.Equal(t, 3, rep.Kept)
	c, _, err := Import(dir)
	require.NoError(t, err)
	assert.Equal(t, len(gen), c.Len())
}

func TestFetch_StopsAtOnceOnARefusedKey(t *testing.T) {
	srv := httptest.NewServer(newFakeGov24(genCatalog(10, 13)))
	defer srv.Close()
	f := testFetcher(srv.URL)
	f.ServiceKey = "wrong+secret"
	_, err := f.Fetch(context.Background(), t.TempDir())
	require.ErrorIs(t, err, ErrFetch)
	assert.Contains(t, err.Error(), "HTTP 401: 등록되지 않은 인증키 입니다. (code -4)")
	assert.Contains(t, err.Error(), "attempt 1 of 4")
	assert.NotContains(t, err.Error(), "secret", "the key never shows")
}

func TestFetch_TakesAnEncodedKeyAsItIs(t *testing.T) {
	srv := httptest.NewServer(newFakeGov24(genCatalog(10, 16)))
	defer srv.Close()
	f := testFetcher(srv.URL)
	f.ServiceKey = "abc%2B%2Fdef%3D%3D" // the portal's "Encoding" key
	_, err := f.Fetch(context.Background(), t.TempDir())
	require.NoError(t, err)
}

func TestFetch_NetworkErrorsHideTheKey(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	f := testFetcher(url)
	f.ServiceKey = "very-secret"
	f.Attempts = 2
	_, err := f.Fetch(context.Background(), t.TempDir())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "very-secret")
	assert.Contains(t, err.Error(), "attempt 2 of 2")
}

func TestFetch_StopsWhenCancelledDuringBackoff(t *testing.T) {
	failed := make(chan struct{})
	var once sync.Once
	api := newFakeGov24(genCatalog(10, 14))
	api.fail = func(string, int, int) (int, string) {
		once.Do(func() { close(failed) })
		return http.StatusServiceUnavailable, "down"
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	f := testFetcher(srv.URL)
	f.MinBackoff, f.MaxBackoff = time.Hour, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.Fetch(ctx, t.TempDir())
		done <- err
	}()
	var err error
	select {
	case <-failed:
		cancel()
		err = <-done
	case err = <-done:
		t.Fatalf("fetch ended before any failure: %v", err)
	}
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "context canceled"), err.Error())
}

func TestFetch_RefusesPagesOfAnotherSize(t *testing.T) {
	srv := httptest.NewServer(newFakeGov24(genCatalog(150, 15)))
	defer srv.Close()
	dir := t.TempDir()
	f := testFetcher(srv.URL)
	_, err := f.Fetch(context.Background(), dir)
	require.NoError(t, err)
	f.PerPage = 50
	_, err = f.Fetch(context.Background(), dir)
	assert.ErrorContains(t, err, "holds pages of 100 rows, this fetch asks for 50")

	require.NoError(t, os.WriteFile(filepath.Join(dir, pageFile(EndpointServiceList, 1)), []byte("garbage"), 0o644))
	f.PerPage = 100
	_, err = f.Fetch(context.Background(), dir)
	assert.ErrorContains(t, err, "delete it to fetch it again")
}
