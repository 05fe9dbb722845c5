package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// Commit retries: a store that refused a batch (disk full, I/O error) is
// tried again after commitRetryMin, doubling up to commitRetryMax, so a
// full disk costs little while it lasts and is noticed within seconds
// once space is back.
const (
	commitRetryMin = 100 * time.Millisecond
	commitRetryMax = 5 * time.Second
)

// ingestStallAfter is how long records may wait with no commit before
// central says it is not ready.
const ingestStallAfter = 30 * time.Second

// ingestHealth remembers how the ingest's commits go, for /healthz and
// /readyz: a central that takes records off the broker but cannot store
// them must say so, not answer "ok".
type ingestHealth struct {
	mu           sync.Mutex
	err          error     // the last commit's error; nil once one succeeds
	failingSince time.Time // first failure of the current run of failures
	failures     int       // failed commits in the current run
	progress     time.Time // last commit, or last time the ingest found nothing to do
	lastCommit   time.Time
}

func (h *ingestHealth) committed(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err, h.failures = nil, 0
	h.progress, h.lastCommit = now, now
}

func (h *ingestHealth) failed(now time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.failingSince = now
	}
	h.err = err
	h.failures++
}

// idle records that the ingest has nothing waiting, or has just been woken
// by new records after having had nothing: waiting since then is not a stall.
func (h *ingestHealth) idle(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.progress = now
}

// retryAfter is the wait before the next try after the current run of failures.
func (h *ingestHealth) retryAfter() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	d := commitRetryMin
	for i := 1; i < h.failures && d < commitRetryMax; i++ {
		d *= 2
	}
	return min(d, commitRetryMax)
}

// ingestStatus is the ingest's part of /healthz.
type ingestStatus struct {
	Storing    bool       `json:"storing"`
	Waiting    int        `json:"waiting"` // records taken off the broker, not yet stored
	LastCommit *time.Time `json:"lastCommit,omitempty"`
	Error      string     `json:"error,omitempty"` // why the last commit failed
	Reason     string     `json:"reason,omitempty"`
}

// check reports whether records are being stored, and if not why, in a
// sentence for an operator.
func (h *ingestHealth) check(now time.Time, waiting int) ingestStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := ingestStatus{Storing: true, Waiting: waiting}
	if !h.lastCommit.IsZero() {
		t := h.lastCommit.UTC()
		st.LastCommit = &t
	}
	switch {
	case h.err != nil:
		st.Storing, st.Error = false, h.err.Error()
		cause := h.err.Error()
		if errors.Is(h.err, syscall.ENOSPC) {
			cause = "disk full: " + cause
		}
		st.Reason = fmt.Sprintf("not storing: %s (%d records waiting, %d failed commits since %s)",
			cause, waiting, h.failures, h.failingSince.UTC().Format(time.RFC3339))
	case waiting > 0 && now.Sub(h.progress) > ingestStallAfter:
		st.Storing = false
		last := "never"
		if !h.lastCommit.IsZero() {
			last = now.Sub(h.lastCommit).Round(time.Second).String() + " ago"
		}
		st.Reason = fmt.Sprintf("ingest stalled: %d records waiting, last commit %s", waiting, last)
	}
	return st
}

// Health answers /healthz and /readyz: 200 while central is connected to
// its broker and storing what arrives, else 503 with the reason in
// "status". The "status" and "broker" fields are the ones monitors
// already read; the rest is the ingest's detail.
func (in *Service) Health() (int, map[string]any) {
	broker := in.IsConnected()
	st := in.status()
	code, status := http.StatusOK, "ok"
	switch {
	case !broker:
		code, status = http.StatusServiceUnavailable, "broker unreachable"
	case !st.Storing:
		code, status = http.StatusServiceUnavailable, st.Reason
	}
	return code, map[string]any{"status": status, "broker": broker, "ingest": st}
}
