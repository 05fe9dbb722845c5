package testclock

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClock_TimersFireInOrderWhenDueAndNotWhenStopped(t *testing.T) {
	start := time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)
	c := New(start)
	var fired []string
	c.AfterFunc(2*time.Second, func() {
		fired = append(fired, "2s")
		c.AfterFunc(time.Second, func() { fired = append(fired, "2s+1s") })
	})
	c.AfterFunc(time.Second, func() { fired = append(fired, "1s") })
	stop := c.AfterFunc(1500*time.Millisecond, func() { fired = append(fired, "stopped") })
	c.AfterFunc(time.Minute, func() { fired = append(fired, "1m") })
	stop()

	c.Advance(999 * time.Millisecond)
	assert.Empty(t, fired)
	c.Advance(3 * time.Second)
	assert.Equal(t, []string{"1s", "2s", "2s+1s"}, fired)
	assert.Equal(t, start.Add(3999*time.Millisecond), c.Now())
}
