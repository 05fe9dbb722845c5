// Package testclock is a clock whose timers fire only when a test moves
// it on, so that a test of the kiosk's idle timer (or anything that waits)
// runs in no time and in a fixed order.
//
// Clock has the methods of kiosk.Clock; it does not import the kiosk, so
// that package kiosk's own tests can use it.
package testclock

import (
	"sort"
	"time"
)

// Clock is a fake clock; its zero value is not usable, use New.
type Clock struct {
	now    time.Time
	timers []*timer
}

type timer struct {
	at      time.Time
	f       func()
	stopped bool
}

// New returns a clock that shows start.
func New(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time { return c.now }

// AfterFunc calls f once the clock has been moved d on, unless stop is
// called first.
func (c *Clock) AfterFunc(d time.Duration, f func()) (stop func()) {
	t := &timer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return func() { t.stopped = true }
}

// Advance moves the clock by d, firing every timer that falls due, in
// order, on the caller's goroutine (the UI goroutine of Fyne's test
// driver); a timer set by one that fires fires too if it falls due.
func (c *Clock) Advance(d time.Duration) {
	end := c.now.Add(d)
	for {
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		var next *timer
		for _, t := range c.timers {
			if !t.stopped && !t.at.After(end) {
				next = t
				break
			}
		}
		if next == nil {
			break
		}
		next.stopped = true
		c.now = next.at
		next.f()
	}
	c.now = end
}
