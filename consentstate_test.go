package allimi_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"allimi"
)

func TestDecideConsent(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, allimi.KST)
	at := func(d time.Duration) uint64 { return allimi.NextHLC(0, t0.Add(d)) }
	self := allimi.Actor{Kind: allimi.ActorSelf}
	central := allimi.Actor{Kind: allimi.ActorCentral, Official: "admin"}
	state := func(kiosk string, a allimi.ConsentAction, d time.Duration, by allimi.Actor) allimi.ConsentState {
		return allimi.ConsentState{Action: a, HLC: at(d), Kiosk: kiosk, Seq: 1, By: by, At: t0.Add(d)}
	}
	grant, withdraw := allimi.ActionGrant, allimi.ActionWithdraw
	window := time.Hour
	for _, c := range []struct {
		name           string
		cur            allimi.ConsentState
		have           bool
		next           allimi.ConsentState
		wins, conflict bool
	}{
		{"nothing stored: the change stands", allimi.ConsentState{}, false, state("k1", grant, 0, self), true, false},
		{"same kiosk, later", state("k1", grant, 0, self), true, state("k1", withdraw, time.Minute, self), true, false},
		{"same kiosk, earlier (arrived late)", state("k1", withdraw, time.Minute, self), true, state("k1", grant, 0, self), false, false},
		{"two kiosks agreeing, later", state("k1", grant, 0, self), true, state("k2", grant, time.Minute, self), true, false},
		{"two kiosks disagreeing within the window: the withdrawal wins", state("k1", grant, 0, self), true, state("k2", withdraw, -time.Minute, self), true, true},
		{"the grant arriving second within the window loses", state("k1", withdraw, 0, self), true, state("k2", grant, time.Minute, self), false, true},
		{"two kiosks disagreeing far apart: the later wins", state("k1", withdraw, 0, self), true, state("k2", grant, 2*time.Hour, self), true, false},
		{"a resolution settles what is before it", state("k1", withdraw, 0, self), true, state("", grant, time.Minute, central), true, false},
		{"and the person's later change is theirs", state("", grant, 0, central), true, state("k2", withdraw, time.Minute, self), true, false},
		{"but not an older one from a kiosk", state("", grant, time.Minute, central), true, state("k2", withdraw, 0, self), false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			wins, conflict := allimi.DecideConsent(c.cur, c.have, c.next, window)
			assert.Equal(t, c.wins, wins, "wins")
			assert.Equal(t, c.conflict, conflict, "conflict")
		})
	}
}

func TestActiveDelta(t *testing.T) {
	g, w := allimi.ConsentState{Action: allimi.ActionGrant}, allimi.ConsentState{Action: allimi.ActionWithdraw}
	assert.Equal(t, 1, allimi.ActiveDelta(allimi.ConsentState{}, false, g))
	assert.Equal(t, 0, allimi.ActiveDelta(allimi.ConsentState{}, false, w))
	assert.Equal(t, 0, allimi.ActiveDelta(g, true, g))
	assert.Equal(t, -1, allimi.ActiveDelta(g, true, w))
	assert.Equal(t, 1, allimi.ActiveDelta(w, true, g))
}

func TestNewConflict_NamesTheGrantAndTheWithdrawalInEitherOrder(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	g := allimi.ConsentState{Action: allimi.ActionGrant, Kiosk: "k1", Seq: 3}
	w := allimi.ConsentState{Action: allimi.ActionWithdraw, Kiosk: "k2", Seq: 9}
	for _, pair := range [][2]allimi.ConsentState{{g, w}, {w, g}} {
		c := allimi.NewConflict([]byte("ck"), allimi.TypeVaccination, allimi.ChannelSMS, pair[0], pair[1], at)
		assert.Equal(t, "k1", c.Grant.Kiosk)
		assert.Equal(t, uint64(9), c.Withdrawal.Seq)
		assert.Equal(t, at, c.DetectedAt)
	}
}
