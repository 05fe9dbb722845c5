package ingest

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestIngestHealth_SaysWhyNothingIsStored(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	diskFull := fmt.Errorf("commit: %w", &os.PathError{Op: "write", Path: "central.db", Err: syscall.ENOSPC})
	tests := []struct {
		name        string
		steps       func(h *ingestHealth)
		at          time.Time
		waiting     int
		wantStoring bool
		wantReason  []string
	}{
		{"a fresh central is ready", func(*ingestHealth) {}, t0, 0, true, nil},
		{"a full disk: not storing, with the cause and the backlog",
			func(h *ingestHealth) { h.failed(t0, diskFull); h.failed(t0.Add(time.Second), diskFull) },
			t0.Add(2 * time.Second), 5000, false,
			[]string{"not storing: disk full: ", "no space left on device", "5000 records waiting", "2 failed commits since 2026-12-07T09:00:00Z"}},
		{"another store error is named as it is",
			func(h *ingestHealth) { h.failed(t0, errors.New("database not open")) }, t0, 3, false,
			[]string{"not storing: database not open (3 records waiting"}},
		{"one commit after the failures: storing again",
			func(h *ingestHealth) { h.failed(t0, diskFull); h.committed(t0.Add(time.Minute)) },
			t0.Add(time.Minute), 100, true, nil},
		{"records waiting with no commit for longer than the stall bound",
			func(h *ingestHealth) { h.committed(t0) }, t0.Add(ingestStallAfter + 5*time.Second), 42, false,
			[]string{"ingest stalled: 42 records waiting, last commit 35s ago"}},
		{"records waiting, never committed, stalled",
			func(h *ingestHealth) { h.idle(t0) }, t0.Add(time.Hour), 7, false,
			[]string{"ingest stalled: 7 records waiting, last commit never"}},
		{"records that have just arrived after a quiet hour are not a stall",
			func(h *ingestHealth) { h.committed(t0); h.idle(t0.Add(time.Hour)) }, t0.Add(time.Hour + time.Second), 10, true, nil},
		{"nothing waiting for an hour is not a stall",
			func(h *ingestHealth) { h.committed(t0) }, t0.Add(time.Hour), 0, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h ingestHealth
			tt.steps(&h)
			st := h.check(tt.at, tt.waiting)
			assert.Equal(t, tt.wantStoring, st.Storing, st.Reason)
			assert.Equal(t, tt.waiting, st.Waiting)
			for _, w := range tt.wantReason {
				assert.Contains(t, st.Reason, w)
			}
			if tt.wantStoring {
				assert.Empty(t, st.Reason)
			}
		})
	}
}

func TestIngestHealth_RetriesBackOffAndResetAfterACommit(t *testing.T) {
	var h ingestHealth
	t0 := time.Now()
	var waits []time.Duration
	for range 9 {
		h.failed(t0, syscall.ENOSPC)
		waits = append(waits, h.retryAfter())
	}
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, commitRetryMax, commitRetryMax, commitRetryMax}, waits)

	h.committed(t0)
	h.failed(t0, syscall.ENOSPC)
	assert.Equal(t, commitRetryMin, h.retryAfter(), "a new run of failures starts from the shortest wait")
}
