package allimi

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DeliveryState is where one delivery (notification × citizen × channel) stands.
// A delivery has no record while queued; "sending" lives only in memory, for
// the time of one provider request, whose send-intent (SendIntent) says
// after a crash that the provider must be asked before anything is resent.
type DeliveryState byte

var stateNames = []string{"queued", "accepted", "delivered", "failed", "fellBack", "retrying", "deadLetter", "expired"}

func (s DeliveryState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// DeliveryRef names one delivery.
type DeliveryRef struct {
	Notification uint64
	Seq          uint32
	Channel      Channel
}

// Key is the idempotency key providers see: stable across resends.
func (r DeliveryRef) Key() string {
	return "a" + strconv.FormatUint(r.Notification, 10) + "-" + strconv.FormatUint(uint64(r.Seq), 10) + "-" + string(r.Channel)
}

// ParseDeliveryKey reverses Key.
func ParseDeliveryKey(k string) (DeliveryRef, error) {
	parts := strings.Split(strings.TrimPrefix(k, "a"), "-")
	if !strings.HasPrefix(k, "a") || len(parts) != 3 {
		return DeliveryRef{}, fmt.Errorf("delivery key %q: %w", k, ErrInvalid)
	}
	id, err1 := strconv.ParseUint(parts[0], 10, 64)
	seq, err2 := strconv.ParseUint(parts[1], 10, 32)
	ch := Channel(parts[2])
	if err1 != nil || err2 != nil || ch.Validate() != nil {
		return DeliveryRef{}, fmt.Errorf("delivery key %q: %w", k, ErrInvalid)
	}
	return DeliveryRef{id, uint32(seq), ch}, nil
}

// DeliveryStats are the service's own table: per type and channel,
// subscribers and what happened to the messages.
type DeliveryStats map[string]map[string]map[string]int64

// DeadLetter is a delivery that will not be tried again unless an operator replays it.
type DeadLetter struct {
	ID           string           `json:"id"` // the delivery key
	Notification uint64           `json:"notification"`
	Type         NotificationType `json:"type"`
	Channel      Channel          `json:"channel"`
	Reason       string           `json:"reason"`
	Attempts     int              `json:"attempts"`
	At           time.Time        `json:"at"`
}

// Deliveries is what officials and agencies read and do about deliveries.
type Deliveries interface {
	// DeliveryStats counts deliveries per type, channel and outcome.
	DeliveryStats() (DeliveryStats, error)
	// DeliveryStatus is one delivery's state and last reason; queued
	// while nothing has been tried.
	DeliveryStatus(r DeliveryRef) (DeliveryState, string, error)
	// DeadLetters lists up to limit dead letters and counts them all.
	DeadLetters(limit int) ([]DeadLetter, int, error)
	// ReplayDeadLetters queues dead letters again: the one with the given
	// delivery key, or all when key is empty. A key ParseDeliveryKey
	// refuses is ErrInvalid; one of no dead letter, ErrNotFound.
	ReplayDeadLetters(key string) (int, error)
}
