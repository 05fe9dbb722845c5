package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"allimi"
)

// Receipt is a provider's word on whether a message it accepted reached
// the phone. The fake providers POST them to central's webhook as a
// ReceiptBatch.
type Receipt struct {
	Channel        allimi.Channel `json:"channel"`
	IdempotencyKey string         `json:"idempotencyKey"`
	ProviderID     string         `json:"providerId"`
	Status         string         `json:"status"` // ReceiptDelivered or ReceiptFailed
	Reason         string         `json:"reason,omitempty"`
	At             time.Time      `json:"at"` // RFC 3339
}

// Receipt statuses.
const (
	ReceiptDelivered = "delivered"
	ReceiptFailed    = "failed"
)

// ReceiptBatch is the body of a receipts POST:
// {"receipts": [{"channel", "idempotencyKey", "providerId", "status", "reason", "at"}]}.
type ReceiptBatch struct {
	Receipts []Receipt `json:"receipts"`
}

// receiptPoster posts receipts in batches, in order, retrying with backoff;
// its queue is bounded.
type receiptPoster struct {
	url      string
	client   *http.Client
	log      *slog.Logger
	interval time.Duration
	batch    int
	max      int

	mu                         sync.Mutex
	queue                      []Receipt
	sent, dropped, failedPosts int64
	wake                       chan struct{}
	stop                       chan struct{}
	stopOnce                   sync.Once
	done                       chan struct{}
}

func newReceiptPoster(opts FakeOptions) *receiptPoster {
	p := &receiptPoster{url: opts.ReceiptsURL, client: opts.Client, log: opts.Logger,
		interval: opts.ReceiptInterval, batch: opts.ReceiptBatch, max: opts.ReceiptQueue,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second}
	}
	if p.interval <= 0 {
		p.interval = 100 * time.Millisecond
	}
	if p.batch <= 0 {
		p.batch = 500
	}
	if p.max <= 0 {
		p.max = 200_000
	}
	go p.run()
	return p
}

func (p *receiptPoster) enqueue(rs []Receipt) {
	p.mu.Lock()
	room := p.max - len(p.queue)
	if room < len(rs) {
		if room < 0 {
			room = 0
		}
		p.dropped += int64(len(rs) - room)
		if p.dropped == int64(len(rs)-room) {
			p.log.Warn("fake providers: receipt queue full, dropping receipts", "bound", p.max)
		}
		rs = rs[:room]
	}
	p.queue = append(p.queue, rs...)
	full := len(p.queue) >= p.batch
	p.mu.Unlock()
	if full {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

func (p *receiptPoster) stats() ReceiptStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return ReceiptStats{Queued: int64(len(p.queue)), Sent: p.sent, Dropped: p.dropped, FailedPosts: p.failedPosts}
}

// close stops the poster: a POST under way finishes, and what is queued
// gets one more attempt, bounded by a few seconds. Receipts are posted at
// least once: one whose POST timed out may arrive twice.
func (p *receiptPoster) close() {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
}

func (p *receiptPoster) run() {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-p.stop:
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			for p.postSome(ctx) > 0 {
			}
			cancel()
			return
		case <-t.C:
		case <-p.wake:
		}
		for {
			n := p.postSome(context.Background())
			if n < 0 {
				// Failed: wait, longer each time (100ms doubling to 5s).
				backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
				if !p.pause(backoff) {
					break
				}
				continue
			}
			backoff = 0
			p.mu.Lock()
			more := len(p.queue) >= p.batch
			p.mu.Unlock()
			if n == 0 || !more {
				break
			}
		}
	}
}

// pause waits d, or less when the poster is stopping (then it says false).
func (p *receiptPoster) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.stop:
		return false
	}
}

// postSome posts the oldest receipts (up to a batch): the number posted, 0
// when there was nothing, -1 when the POST failed (they stay queued).
func (p *receiptPoster) postSome(ctx context.Context) int {
	p.mu.Lock()
	n := min(len(p.queue), p.batch)
	if n == 0 {
		p.mu.Unlock()
		return 0
	}
	rs := make([]Receipt, n)
	copy(rs, p.queue[:n])
	p.mu.Unlock()

	err := p.post(ctx, rs)
	p.mu.Lock()
	defer p.mu.Unlock()
	var refused *receiptRefused
	switch {
	case err == nil:
		p.sent += int64(n)
	case asRefused(err, &refused):
		// The webhook refused the batch as such: retrying cannot help.
		p.dropped += int64(n)
		p.log.Warn("fake providers: receipts refused, dropped", "status", refused.status, "count", n, "body", refused.body)
	default:
		p.failedPosts++
		if p.failedPosts == 1 || p.failedPosts%100 == 0 {
			p.log.Warn("fake providers: posting receipts failed, will retry", "url", p.url, "err", err, "failures", p.failedPosts)
		}
		return -1
	}
	p.queue = p.queue[n:]
	if len(p.queue) == 0 {
		p.queue = nil // let the backing array go
	}
	return n
}

type receiptRefused struct {
	status int
	body   string
}

func (e *receiptRefused) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.body) }

func asRefused(err error, out **receiptRefused) bool {
	r, ok := err.(*receiptRefused)
	if ok {
		*out = r
	}
	return ok
}

func (p *receiptPoster) post(ctx context.Context, rs []Receipt) error {
	body, err := json.Marshal(ReceiptBatch{Receipts: rs})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode <= 299:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode <= 499 && resp.StatusCode != http.StatusTooManyRequests &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusNotFound:
		return &receiptRefused{status: resp.StatusCode, body: snippet(msg)}
	}
	return fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet(msg))
}
