package outbox_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/outbox"
)

func mobilesOf(events []allimi.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Citizen.Mobile
	}
	return out
}

// While a backlog drains, an ack that comes sooner than scrubEvery after
// the last scrub leaves the scrub for later; the ack that empties the
// outbox scrubs whatever is left.
func TestOutbox_AckThatEmptiesTheOutboxScrubsWhatEarlierAcksLeft(t *testing.T) {
	f := newOutboxFixture(t)
	outbox.SetScrubEvery(f.box, time.Hour)
	mobiles := mobilesOf(f.appendN(1, 40))

	_, err := f.box.Ack(10)
	require.NoError(t, err)
	assert.False(t, outbox.ScrubDue(f.box), "the first ack scrubs")
	for i := range 10 {
		assert.False(t, f.fileHolds(mobiles[i]), "record %d's mobile is still in kiosk.db", i+1)
	}
	_, err = f.box.Ack(20)
	require.NoError(t, err)
	assert.True(t, outbox.ScrubDue(f.box), "an ack right after a scrub leaves it for later")

	_, err = f.box.Ack(40)
	require.NoError(t, err)
	assert.False(t, outbox.ScrubDue(f.box))
	for i, m := range mobiles {
		assert.False(t, f.fileHolds(m), "record %d's mobile is still in kiosk.db", i+1)
	}
}

// What an ack left for later is scrubbed once scrubEvery has passed,
// without waiting for another ack (the sender asks, ScrubIfDue).
func TestOutbox_ScrubLeftForLaterIsDoneOnceTheIntervalHasPassed(t *testing.T) {
	f := newOutboxFixture(t)
	outbox.SetScrubEvery(f.box, time.Hour)
	mobiles := mobilesOf(f.appendN(1, 30))
	_, err := f.box.Ack(10)
	require.NoError(t, err)
	_, err = f.box.Ack(20)
	require.NoError(t, err)
	require.True(t, outbox.ScrubDue(f.box))
	assert.Greater(t, f.box.ScrubIfDue(), time.Duration(0), "not yet: the interval has not passed")
	assert.True(t, outbox.ScrubDue(f.box))

	outbox.SetScrubEvery(f.box, 0) // the interval has passed
	assert.Zero(t, f.box.ScrubIfDue())
	assert.False(t, outbox.ScrubDue(f.box))
	for i := range 20 {
		assert.False(t, f.fileHolds(mobiles[i]), "record %d's mobile is still in kiosk.db", i+1)
	}
	assert.True(t, f.fileHolds(mobiles[25]), "what is not acknowledged stays")
}
