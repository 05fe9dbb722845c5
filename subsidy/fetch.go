package subsidy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"allimi/internal/atomicfile"
)

// DefaultBaseURL is where the gov24 v3 Open API answers.
const DefaultBaseURL = "https://api.odcloud.kr/api/gov24/v3"

// DefaultPerPage is the page size Fetch asks for: the API's largest.
const DefaultPerPage = 1000

// maxPageSize bounds one page's body: 1,000 rows of serviceDetail are a few MB.
const maxPageSize = 64 << 20

// ErrFetch marks an API answer that retrying will not change: a refused
// service key, an unknown endpoint, a body that is not a page.
var ErrFetch = errors.New("gov24 API refused the request")

// Fetcher pages through the gov24 v3 API into a catalog directory that
// Import reads. It is resumable: pages already in the directory are kept,
// so that a fetch cut short (network, quota, Ctrl-C) continues where it
// stopped when run again.
type Fetcher struct {
	// ServiceKey is the data.go.kr key, decoded or URL-encoded as the
	// portal shows it. It never appears in errors or logs.
	ServiceKey string
	BaseURL    string       // default DefaultBaseURL
	PerPage    int          // default DefaultPerPage
	Endpoints  []string     // default Endpoints
	Client     *http.Client // default one with a 60 s timeout
	// Attempts is how many times one page is asked for before Fetch gives
	// up (default 6). Network errors, 429 and 5xx answers are retried after
	// MinBackoff, doubling up to MaxBackoff, with jitter; a Retry-After
	// header is obeyed up to MaxBackoff.
	Attempts               int
	MinBackoff, MaxBackoff time.Duration // default 1 s and 1 min
	Logger                 *slog.Logger  // default slog.Default()
}

// FetchReport tells what a fetch did.
type FetchReport struct {
	Fetched int // pages asked for and written
	Kept    int // pages already in the directory
	Retries int // answers retried
}

// pageFile names page n of an endpoint: sorting by name is sorting by page.
func pageFile(endpoint string, n int) string {
	return fmt.Sprintf("%s_%05d.json", endpoint, n)
}

// Fetch fetches every page of every endpoint into dir, creating it, and
// writes AboutFile. A page is written whole (to a temporary file, then
// renamed) or not at all.
func (f *Fetcher) Fetch(ctx context.Context, dir string) (FetchReport, error) {
	var rep FetchReport
	if f.ServiceKey == "" {
		return rep, fmt.Errorf("fetch: a service key is required (data.go.kr, dataset 대한민국 공공서비스 정보)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, fmt.Errorf("fetch: %w", err)
	}
	endpoints := f.Endpoints
	if len(endpoints) == 0 {
		endpoints = Endpoints
	}
	for _, ep := range endpoints {
		if err := f.fetchEndpoint(ctx, dir, ep, &rep); err != nil {
			return rep, err
		}
	}
	about := About{Source: DefaultSource + ", " + f.baseURL(), Fetched: time.Now().Format(DateLayout)}
	b, _ := json.MarshalIndent(about, "", "  ")
	if err := atomicfile.Write(filepath.Join(dir, AboutFile), append(b, '\n'), 0o600); err != nil {
		return rep, fmt.Errorf("fetch: %w", err)
	}
	return rep, nil
}

func (f *Fetcher) fetchEndpoint(ctx context.Context, dir, ep string, rep *FetchReport) error {
	perPage := f.PerPage
	if perPage <= 0 {
		perPage = DefaultPerPage
	}
	total := -1
	for n := 1; total < 0 || (n-1)*perPage < total; n++ {
		path := filepath.Join(dir, pageFile(ep, n))
		pg, err := readStoredPage(path)
		switch {
		case err == nil && pg.PerPage != 0 && pg.PerPage != perPage:
			return fmt.Errorf("fetch %s: %s holds pages of %d rows, this fetch asks for %d: use --per-page %d or another directory", ep, path, pg.PerPage, perPage, pg.PerPage)
		case err == nil:
			rep.Kept++
		case errors.Is(err, os.ErrNotExist):
			body, p, err := f.getPage(ctx, ep, n, perPage, rep)
			if err != nil {
				return err
			}
			if err := atomicfile.Write(path, body, 0o600); err != nil {
				return fmt.Errorf("fetch %s page %d: %w", ep, n, err)
			}
			rep.Fetched++
			pg = p
			f.logger().Info("gov24 page fetched", "endpoint", ep, "page", n, "rows", pg.rows, "total", pg.TotalCount)
		default:
			// A page cut short by a crash is not written (rename), so this is
			// another program's file or a disk fault: say so, do not overwrite.
			return fmt.Errorf("fetch %s: %s is not a page: %v; delete it to fetch it again", ep, path, err)
		}
		if pg.TotalCount != total && total >= 0 {
			f.logger().Warn("gov24 totalCount changed during the fetch", "endpoint", ep, "was", total, "now", pg.TotalCount)
		}
		total = pg.TotalCount
		if pg.rows == 0 {
			break // past the end, whatever totalCount said
		}
	}
	return nil
}

// storedPage is what Fetch reads of a page.
type storedPage struct {
	PerPage    int `json:"perPage"`
	TotalCount int `json:"totalCount"`
	rows       int
}

func parsePage(b []byte) (storedPage, error) {
	var p struct {
		storedPage
		Data *[]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return storedPage{}, err
	}
	if p.Data == nil {
		return storedPage{}, errors.New("no data list")
	}
	p.rows = len(*p.Data)
	return p.storedPage, nil
}

func readStoredPage(path string) (storedPage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return storedPage{}, err
	}
	return parsePage(b)
}

func (f *Fetcher) baseURL() string {
	if f.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimSuffix(f.BaseURL, "/")
}

func (f *Fetcher) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.Default()
	}
	return f.Logger
}

// pageURL is the request for page n; the key goes in as the portal gave
// it when it is already URL-encoded (it holds a %), encoded otherwise.
func (f *Fetcher) pageURL(ep string, n, perPage int) string {
	q := url.Values{}
	q.Set("page", strconv.Itoa(n))
	q.Set("perPage", strconv.Itoa(perPage))
	q.Set("returnType", "JSON")
	key := url.QueryEscape(f.ServiceKey)
	if strings.Contains(f.ServiceKey, "%") {
		key = f.ServiceKey
	}
	return f.baseURL() + "/" + ep + "?" + q.Encode() + "&serviceKey=" + key
}

// getPage asks for page n until it has a page, a final refusal, or no
// attempts left.
func (f *Fetcher) getPage(ctx context.Context, ep string, n, perPage int, rep *FetchReport) ([]byte, storedPage, error) {
	attempts := f.Attempts
	if attempts <= 0 {
		attempts = 6
	}
	var last error
	for try := 1; ; try++ {
		body, retryAfter, err := f.getOnce(ctx, f.pageURL(ep, n, perPage))
		if err == nil {
			pg, perr := parsePage(body)
			if perr == nil {
				return body, pg, nil
			}
			err = fmt.Errorf("the answer is not a page: %v", perr) // a proxy's error page, a cut body: retry
		}
		last = fmt.Errorf("fetch %s page %d (attempt %d of %d): %w", ep, n, try, attempts, err)
		if ctx.Err() != nil {
			// Cancelled while the page was asked for: say so, as when
			// cancelled during the backoff below.
			return nil, storedPage{}, fmt.Errorf("%w (%v)", last, ctx.Err())
		}
		if errors.Is(err, ErrFetch) || try >= attempts {
			return nil, storedPage{}, last
		}
		rep.Retries++
		wait := f.backoff(try, retryAfter)
		f.logger().Warn("gov24 page failed, retrying", "endpoint", ep, "page", n, "attempt", try, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, storedPage{}, fmt.Errorf("%w (%v)", last, ctx.Err())
		case <-t.C:
		}
	}
}

func (f *Fetcher) backoff(try int, retryAfter time.Duration) time.Duration {
	lo, hi := f.MinBackoff, f.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = time.Minute
	}
	if retryAfter > 0 {
		return min(retryAfter, hi)
	}
	d := lo << min(try-1, 20)
	if d <= 0 || d > hi {
		d = hi
	}
	// Full jitter in [d/2, d]: many central instances must not retry in step.
	return d/2 + rand.N(d/2+1)
}

// getOnce makes one request. Errors never show the URL's key.
func (f *Fetcher) getOnce(ctx context.Context, u string) ([]byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("bad base URL %q: %w", f.baseURL(), ErrFetch)
	}
	req.Header.Set("Accept", "application/json")
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error would print the key
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageSize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the answer: %w", err)
	}
	if len(body) > maxPageSize {
		return nil, 0, fmt.Errorf("answer larger than %d bytes: %w", maxPageSize, ErrFetch)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		return body, 0, nil
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		return nil, retryAfterOf(resp), fmt.Errorf("HTTP %d: %s", code, apiMessage(body))
	default:
		return nil, 0, fmt.Errorf("HTTP %d: %s: %w", code, apiMessage(body), ErrFetch)
	}
}

func retryAfterOf(resp *http.Response) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

// apiMessage is the API's own error message ({"code": -4, "msg": "…"}),
// or the start of the body.
func apiMessage(body []byte) string {
	var e struct {
		Code any    `json:"code"`
		Msg  string `json:"msg"`
	}
	if json.Unmarshal(body, &e) == nil && e.Msg != "" {
		return fmt.Sprintf("%s (code %v)", e.Msg, e.Code)
	}
	s := strings.TrimSpace(string(bytes.ToValidUTF8(body, nil)))
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
