package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/time/rate"

	"allimi"
)

// maxResponse bounds what we read of a provider's answer: a 1,000-recipient
// result list is about 150 KB.
const maxResponse = 8 << 20

// wireOptions encode requests and decode answers with
// github.com/go-json-experiment/json (the proposed encoding/json/v2): it
// decodes a 1,000-recipient answer about four times faster than
// encoding/json, which is most of an adapter's CPU in a campaign. The
// options keep encoding/json's tolerance where a provider may differ:
// names in any case, a repeated name, and invalid UTF-8 (sent and read as
// U+FFFD rather than failing a whole batch).
var wireOptions = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(true),
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
)

// sender is what the four adapters share: the HTTP client, the per-request
// timeout, the token bucket and the classification of whole-batch failures.
type sender struct {
	ch      allimi.Channel
	client  *http.Client
	timeout time.Duration
	// limiter is the token bucket, or with shared set only its rate and
	// burst: the tokens then come from shared (ShareRates).
	limiter *rate.Limiter
	shared  SharedTokens
	// bucket names the shared bucket (SharedTokens): the channel, or for
	// a channel's second provider a name of its own (bucketSENS).
	bucket   allimi.Channel
	maxBatch int
}

func newSender(ch allimi.Channel, ep Endpoint, client *http.Client, maxBatch int) *sender {
	timeout := ep.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	burst := ep.Burst
	if burst <= 0 {
		burst = maxBatch
	}
	limit := rate.Limit(ep.Rate)
	if ep.Rate <= 0 {
		limit = rate.Inf
	}
	return &sender{ch: ch, client: client, timeout: timeout, limiter: rate.NewLimiter(limit, burst), bucket: ch, maxBatch: maxBatch}
}

// wait takes n tokens from the bucket, in burst-sized parts. It returns at
// once, with an error wrapping context.DeadlineExceeded, when ctx's deadline
// comes before the tokens would (rate.Limiter.WaitN's own error for that
// case wraps nothing). With a shared bucket (ShareRates) the tokens come
// from there.
func (s *sender) wait(ctx context.Context, n int) error {
	if s.limiter.Limit() == rate.Inf {
		return ctx.Err()
	}
	if s.shared != nil {
		return s.waitShared(ctx, n)
	}
	burst := s.limiter.Burst()
	for n > 0 {
		k := min(n, burst)
		now := time.Now()
		r := s.limiter.ReserveN(now, k)
		if !r.OK() {
			return fmt.Errorf("%s: rate limiter cannot grant %d messages", s.ch, k)
		}
		delay := r.DelayFrom(now)
		if delay > 0 {
			if dl, ok := ctx.Deadline(); ok && dl.Sub(now) < delay {
				r.CancelAt(now)
				return fmt.Errorf("%s: rate limit of %.0f messages/s needs %s more for this batch: %w",
					s.ch, float64(s.limiter.Limit()), delay.Round(time.Millisecond), context.DeadlineExceeded)
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				r.Cancel()
				return fmt.Errorf("%s: waiting for the rate limit: %w", s.ch, ctx.Err())
			}
		}
		n -= k
	}
	return nil
}

// checkBatch refuses batches over MaxBatch.
func (s *sender) checkBatch(batch []Message) error {
	if len(batch) > s.maxBatch {
		return fmt.Errorf("%s: %d messages: %w (at most %d)", s.ch, len(batch), ErrBatchTooLarge, s.maxBatch)
	}
	return nil
}

// outgoing is a message that passed the local checks, with its recipient
// as digits and its place in the batch.
type outgoing struct {
	i      int
	digits string
	m      *Message
}

// prepare checks each message locally. Messages no provider could take (a
// key or number that is not one) get a Rejected result at once and are not
// sent, so that one bad message cannot fail its whole batch forever.
func prepare(batch []Message) ([]Result, []outgoing) {
	res := make([]Result, len(batch))
	out := make([]outgoing, 0, len(batch))
	for i := range batch {
		m := &batch[i]
		res[i].Key = m.Key
		if err := validKey(m.Key); err != nil {
			res[i].Status, res[i].Code, res[i].Reason = Rejected, "invalid-key", err.Error()
			continue
		}
		d, ok := mobileDigits(m.Recipient)
		if !ok {
			res[i].Status, res[i].Code, res[i].Reason = Rejected, "invalid-recipient",
				fmt.Sprintf("recipient %q is not a mobile number", m.Recipient)
			continue
		}
		out = append(out, outgoing{i: i, digits: d, m: m})
	}
	return res, out
}

// rejectIf gives a Rejected result to the messages check names a code for,
// and returns the others.
func rejectIf(res []Result, out []outgoing, check func(*Message) (code, reason string)) []outgoing {
	kept := out[:0]
	for _, o := range out {
		if code, reason := check(o.m); code != "" {
			res[o.i].Status, res[o.i].Code, res[o.i].Reason = Rejected, code, reason
			continue
		}
		kept = append(kept, o)
	}
	return kept
}

func validKey(k string) error {
	if k == "" || len(k) > 64 {
		return fmt.Errorf("idempotency key %q: must be 1 to 64 characters", k)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("idempotency key %q: only letters, digits, '_' and '-' are allowed", k)
		}
	}
	return nil
}

// mobileDigits turns "010-1234-5678" into "01012345678": what providers
// take. Korean mobile numbers are 10 or 11 digits starting 01.
func mobileDigits(s string) (string, bool) {
	var b [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(b) {
				return "", false
			}
			b[n] = c
			n++
		case c == '-' || c == ' ' || c == '.':
		default:
			return "", false
		}
	}
	if n < 10 || n > 11 || b[0] != '0' || b[1] != '1' {
		return "", false
	}
	return string(b[:n]), true
}

// bufPool recycles request bodies: a 1,000-recipient AlimTalk request is
// 200-400 KB.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// post sends body as JSON and decodes a 2xx answer into out. Whole-request
// failures come back as *RateLimitedError, *UnavailableError or
// *ProviderError (decoded from the error body by refusal, which may be nil);
// the parent ctx ending comes back wrapping ctx.Err().
func (s *sender) post(ctx context.Context, url string, header http.Header, body any, out any,
	refusal func(status int, body []byte) *ProviderError) (http.Header, error) {
	return s.do(ctx, http.MethodPost, url, header, body, out, refusal)
}

// get is post for a query: no body.
func (s *sender) get(ctx context.Context, url string, header http.Header, out any,
	refusal func(status int, body []byte) *ProviderError) (http.Header, error) {
	return s.do(ctx, http.MethodGet, url, header, nil, out, refusal)
}

func (s *sender) do(ctx context.Context, method, url string, header http.Header, body any, out any,
	refusal func(status int, body []byte) *ProviderError) (http.Header, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 4<<20 {
			bufPool.Put(buf)
		}
	}()
	if body != nil {
		if err := jsonv2.MarshalWrite(buf, body, wireOptions); err != nil {
			return nil, fmt.Errorf("%s: encode request: %w", s.ch, err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, url, bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.ch, err)
	}
	// No GetBody: net/http would then replay a request that carries an
	// Idempotency-Key header (Toss, the Naver app) on a fresh connection
	// when a reused one closes before the answer, and a provider that
	// took the first copy may take the second. A lost answer is looked up
	// (Finder), never replayed behind the caller's back.
	req.GetBody = nil
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: send: %w", s.ch, ctx.Err())
		}
		return nil, &UnavailableError{Channel: s.ch, Err: err}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return resp.Header, &RateLimitedError{Channel: s.ch, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	case resp.StatusCode >= 500:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return resp.Header, &UnavailableError{Channel: s.ch, StatusCode: resp.StatusCode, Err: errors.New(snippet(msg))}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var pe *ProviderError
		if refusal != nil {
			pe = refusal(resp.StatusCode, msg)
		}
		if pe == nil {
			pe = &ProviderError{Message: snippet(msg)}
		}
		pe.Channel, pe.StatusCode = s.ch, resp.StatusCode
		return resp.Header, pe
	}
	if err := jsonv2.UnmarshalRead(io.LimitReader(resp.Body, maxResponse), out, wireOptions); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: send: %w", s.ch, ctx.Err())
		}
		return resp.Header, &UnavailableError{Channel: s.ch, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("decode %s response: %w", s.ch, err)}
	}
	return resp.Header, nil
}

// malformed is the error for a response that decoded but does not answer
// the request (a missing or short result list).
func (s *sender) malformed(status int, format string, args ...any) error {
	return &UnavailableError{Channel: s.ch, StatusCode: status,
		Err: fmt.Errorf("decode %s response: "+format, append([]any{s.ch}, args...)...)}
}

// snippet shortens a body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }

// atoiOr reads an int code, or returns def.
func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// begin refuses a batch over MaxBatch and waits for its tokens: what every
// adapter does before it builds its requests.
func (s *sender) begin(ctx context.Context, batch []Message) error {
	if err := s.checkBatch(batch); err != nil {
		return err
	}
	return s.wait(ctx, len(batch))
}

// groupBy splits the messages into the requests a provider needs (one
// template code, one text …), in order of first appearance.
func groupBy[K comparable](out []outgoing, key func(*outgoing) K) [][]outgoing {
	if len(out) == 0 {
		return nil
	}
	first := key(&out[0])
	same := true
	for i := 1; i < len(out) && same; i++ {
		same = key(&out[i]) == first
	}
	if same {
		return [][]outgoing{out}
	}
	idx := map[K]int{}
	var groups [][]outgoing
	for _, o := range out {
		k := key(&o)
		gi, ok := idx[k]
		if !ok {
			gi = len(groups)
			idx[k] = gi
			groups = append(groups, nil)
		}
		groups[gi] = append(groups[gi], o)
	}
	return groups
}

// sendGroups sends the groups of one batch, one request each, in order. If
// the first request fails, the batch failed: its error is returned. If a
// later one fails, earlier requests were taken and their results must not
// be lost, so the failed and remaining messages get a Retry result naming
// the failure instead, and nothing more is sent.
func sendGroups(res []Result, groups [][]outgoing, send func(g []outgoing) error) error {
	for gi, g := range groups {
		err := send(g)
		if err == nil {
			continue
		}
		if gi == 0 {
			return err
		}
		code := failureCode(err)
		for _, rest := range groups[gi:] {
			for _, o := range rest {
				res[o.i].Status, res[o.i].Code, res[o.i].Reason = Retry, code, err.Error()
			}
		}
		return nil
	}
	return nil
}

// failureCode names a whole-request failure as a per-message code.
func failureCode(err error) string {
	var rl *RateLimitedError
	var un *UnavailableError
	var pe *ProviderError
	switch {
	case errors.As(err, &rl):
		return "http-429"
	case errors.As(err, &un):
		if un.StatusCode != 0 {
			return "http-" + fmt.Sprint(un.StatusCode)
		}
		return "unavailable"
	case errors.As(err, &pe):
		if pe.Code != "" {
			return pe.Code
		}
		return "http-" + fmt.Sprint(pe.StatusCode)
	}
	return "canceled"
}
