package notify

import (
	"errors"
	"sync"
	"time"

	"allimi"
	"allimi/central/channel"
)

// breaker trips a provider that keeps failing. Senders record outcomes
// concurrently, so it has its own lock.
type breaker struct {
	mu        sync.Mutex
	failures  int
	openUntil time.Time
}

func (b *breaker) isOpen(now time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.Before(b.openUntil), b.openUntil
}

func (d *Dispatcher) trip(ch allimi.Channel, err error) {
	br := d.breakers[ch]
	br.mu.Lock()
	defer br.mu.Unlock()
	var ue *channel.UnavailableError
	switch {
	case err == nil:
		br.failures = 0
	case errors.As(err, &ue):
		br.failures++
		if br.failures >= d.cfg.BreakerFailures {
			br.openUntil = d.cfg.Now().Add(d.cfg.BreakerCooldown)
			br.failures = 0
			d.metrics.breakerTrips.WithLabelValues(string(ch)).Inc()
			d.log.Warn("provider tripped: falling back", "channel", ch, "until", br.openUntil, "err", err)
		}
	}
}

func (d *Dispatcher) tripped(ch allimi.Channel, now time.Time) bool {
	open, _ := d.breakers[ch].isOpen(now)
	return open
}
