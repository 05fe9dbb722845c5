package notify

import (
	"context"
	"fmt"
	"time"

	"allimi"
)

// Config tunes the dispatcher.
type Config struct {
	// Horizon: a delivery still failing this long after its first attempt
	// falls back to SMS (messengers) or goes to the dead-letter queue.
	Horizon     time.Duration
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// BreakerFailures consecutive failed requests trip a provider's circuit
	// for BreakerCooldown; meanwhile its traffic falls back to SMS.
	BreakerFailures int
	BreakerCooldown time.Duration
	// LinkBase is the public base URL of the detail pages.
	LinkBase string
	// ScanLimit bounds the recipients one batch selection reads.
	ScanLimit int
	// Senders is how many requests each channel has in flight at once.
	// 8 keeps two cores busy while requests wait on the provider: in the
	// 1M fan-out benchmark it gave a ratio of 0.61-0.62 to 4's 0.56-0.57
	// (same machine, alternating runs); 16 gave no more, before and after
	// the recipient and delivery blocks.
	Senders int
	// Rescan, when positive, is how often the dispatcher looks in the
	// store for notifications others stored (other centrals on a shared
	// database): on one central's own store every notification comes
	// through it, and 0 never looks.
	Rescan time.Duration
	// Shared, when set, is shared by the dispatchers of one process (a
	// shared database's send slots, one dispatcher each): their requests
	// in flight on a channel are then Senders in all, as on one
	// dispatcher, not Senders each, and a provider that keeps failing
	// trips one breaker for all of them.
	Shared *Shared
	// LeaveExpansions: the dispatcher does not expand the campaigns it
	// finds half expanded (at its start, or stored by others), another
	// does. On a shared database send slot 0's dispatcher expands them,
	// not every slot's (each expansion waits for the campaign's row with a
	// connection of the pool).
	LeaveExpansions bool
	// Forward, when set, is given each notification this dispatcher
	// starts to watch, as it is stored (Create, Watch, each step of an
	// expansion): on a shared database, central's API's dispatcher hands
	// them to its send slots' dispatchers, which would otherwise find
	// them only at their next rescan.
	Forward func(allimi.Notification)
	Now     func() time.Time
}

// Shared is what the dispatchers of one process share: room for requests
// in flight per channel, and the providers' breakers.
type Shared struct {
	room     map[allimi.Channel]chan struct{}
	breakers map[allimi.Channel]*breaker
}

// NewShared lets n requests per channel through at once.
func NewShared(n int) *Shared {
	sh := &Shared{room: map[allimi.Channel]chan struct{}{}, breakers: map[allimi.Channel]*breaker{}}
	for _, ch := range allimi.Channels {
		sh.room[ch] = make(chan struct{}, max(n, 1))
		sh.breakers[ch] = &breaker{}
	}
	return sh
}

// enter waits for room on ch; false when ctx ended first.
func (sh *Shared) enter(ctx context.Context, ch allimi.Channel) bool {
	select {
	case sh.room[ch] <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// leave frees the room enter took.
func (sh *Shared) leave(ch allimi.Channel) { <-sh.room[ch] }

// DefaultConfig works for the demo and the tests.
func DefaultConfig() Config {
	return Config{Horizon: 4 * time.Hour, BaseBackoff: time.Second, MaxBackoff: 10 * time.Minute,
		BreakerFailures: 5, BreakerCooldown: 30 * time.Second, LinkBase: "http://127.0.0.1:8080", ScanLimit: 20000, Senders: 8,
		Now: time.Now}
}

// Validate checks settings an operator gives.
func (c Config) Validate() error {
	switch {
	case c.Horizon <= 0:
		return fmt.Errorf("retry horizon %s: must be positive: %w", c.Horizon, allimi.ErrInvalid)
	case c.Senders < 1 || c.Senders > 64:
		return fmt.Errorf("senders %d: must be 1 to 64: %w", c.Senders, allimi.ErrInvalid)
	case c.BreakerFailures < 1:
		return fmt.Errorf("breaker failures %d: must be at least 1: %w", c.BreakerFailures, allimi.ErrInvalid)
	case c.BreakerCooldown <= 0:
		return fmt.Errorf("breaker cooldown %s: must be positive: %w", c.BreakerCooldown, allimi.ErrInvalid)
	}
	return nil
}
