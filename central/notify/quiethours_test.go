package notify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestQuietHours(t *testing.T) {
	k := time.FixedZone("KST", 9*3600)
	for h, want := range map[int]bool{20: false, 21: true, 23: true, 0: true, 7: true, 8: false, 12: false} {
		assert.Equal(t, want, QuietHours(time.Date(2026, 1, 1, h, 30, 0, 0, k)), "%02d:30 KST", h)
	}
	// 12:30 UTC is 21:30 KST.
	assert.True(t, QuietHours(time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC)))
}

func TestQuietEnd_IsTheNextEightOClockInKorea(t *testing.T) {
	k := time.FixedZone("KST", 9*3600)
	for _, tc := range []struct{ at, want time.Time }{
		{time.Date(2026, 1, 1, 22, 0, 0, 0, k), time.Date(2026, 1, 2, 8, 0, 0, 0, k)},
		{time.Date(2026, 1, 2, 3, 0, 0, 0, k), time.Date(2026, 1, 2, 8, 0, 0, 0, k)},
		{time.Date(2026, 1, 2, 8, 0, 0, 0, k), time.Date(2026, 1, 3, 8, 0, 0, 0, k)},
	} {
		assert.True(t, tc.want.Equal(QuietEnd(tc.at)), "after %s: %s", tc.at, QuietEnd(tc.at))
	}
}
