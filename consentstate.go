package allimi

import (
	"fmt"
	"time"
)

// ConsentState is a person's consent to one notification type on one
// channel as central keeps it: the change that won so far (its action,
// the kiosk record it came in, with the kiosk's hybrid clock, and who made
// it when), or an official's resolution at central.
type ConsentState struct {
	Action ConsentAction `json:"action"`
	HLC    uint64        `json:"hlc"`
	Kiosk  string        `json:"kiosk"`
	Seq    uint64        `json:"seq"`
	By     Actor         `json:"by"`
	At     time.Time     `json:"at"`
}

// Active says whether the state is a grant.
func (s ConsentState) Active() bool { return s.Action == ActionGrant }

// DecideConsent is the rule every store applies when a change next meets
// the state cur stored for the same person, type and channel (have false:
// none stored). It says whether next replaces cur, and whether the two
// are a conflict for an official to settle.
//
// Changes from one kiosk follow its hybrid clock. Changes from different
// kiosks whose clocks lie within window of each other are concurrent: if
// they disagree, the withdrawal wins and the pair is a conflict.
// Otherwise the later change wins. A resolution made at central (By.Kind
// ActorCentral) settles everything before it, and whatever the person
// does after it is theirs to decide.
func DecideConsent(cur ConsentState, have bool, next ConsentState, window time.Duration) (wins, conflict bool) {
	if !have {
		return true, false
	}
	switch {
	case cur.By.Kind == ActorCentral || next.By.Kind == ActorCentral || cur.Kiosk == next.Kiosk:
		return next.HLC > cur.HLC, false
	case cur.Action != next.Action && absDuration(HLCTime(next.HLC).Sub(HLCTime(cur.HLC))) <= window:
		return next.Action == ActionWithdraw, true
	default:
		return next.HLC > cur.HLC, false
	}
}

// ActiveDelta is how a change from cur (have false: none) to next moves
// the person's count of active grants: -1, 0 or +1.
func ActiveDelta(cur ConsentState, have bool, next ConsentState) int {
	was := have && cur.Active()
	switch {
	case !was && next.Active():
		return 1
	case was && !next.Active():
		return -1
	}
	return 0
}

// NewConflict is the conflict between two concurrent changes a and b of a
// person's consent to t on ch (in either order), detected at at.
func NewConflict(citizenKey []byte, t NotificationType, ch Channel, a, b ConsentState, at time.Time) Conflict {
	if a.Action == ActionWithdraw {
		a, b = b, a
	}
	return Conflict{CitizenKey: citizenKey, Type: t, Channel: ch, DetectedAt: at,
		Grant:      ConsentRef{Kiosk: a.Kiosk, Seq: a.Seq, At: a.At, By: a.By},
		Withdrawal: ConsentRef{Kiosk: b.Kiosk, Seq: b.Seq, At: b.At, By: b.By}}
}

// CheckResolution checks an official's decision on a conflict, as every
// store does before it records it: grant or withdraw, by an official
// named; otherwise ErrInvalid.
func CheckResolution(decision ConsentAction, official string) error {
	if decision != ActionGrant && decision != ActionWithdraw {
		return fmt.Errorf("decision %q: must be grant or withdraw: %w", decision, ErrInvalid)
	}
	if official == "" {
		return fmt.Errorf("official: empty: %w", ErrInvalid)
	}
	return nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
