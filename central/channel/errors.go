package channel

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"allimi"
)

// ErrBatchTooLarge marks a batch with more messages than the adapter's
// MaxBatch.
var ErrBatchTooLarge = errors.New("batch larger than the provider accepts")

// RateLimitedError says the provider answered HTTP 429 for the whole batch:
// send it again after RetryAfter (zero when the provider did not say).
type RateLimitedError struct {
	Channel    allimi.Channel
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s: rate limited (HTTP 429), retry after %s", e.Channel, e.RetryAfter)
	}
	return fmt.Sprintf("%s: rate limited (HTTP 429)", e.Channel)
}

// UnavailableError says the provider could not take the batch: a 5xx, a
// refused or closed connection, a timeout, or a response that cannot be
// read. Nothing of the batch can be assumed sent; send it again later
// (providers deduplicate by key, see each adapter).
type UnavailableError struct {
	Channel    allimi.Channel
	StatusCode int // HTTP status, 0 when there was no response
	Err        error
}

func (e *UnavailableError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("%s: provider unavailable (HTTP %d): %v", e.Channel, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("%s: provider unavailable: %v", e.Channel, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// ProviderError says the provider refused the whole request (HTTP 4xx other
// than 429, or a success status whose body says it failed): wrong
// credentials, an unknown template, a malformed request. Sending the same
// batch again will fail the same way until configuration changes.
type ProviderError struct {
	Channel    allimi.Channel
	StatusCode int    // HTTP status
	Code       string // provider's result code, when it gave one
	Message    string // provider's message, when it gave one
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: provider refused the request (HTTP %d", e.Channel, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	b.WriteString(")")
	if e.Code != "" {
		b.WriteString(": code " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). Zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
