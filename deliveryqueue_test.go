package allimi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNotification_AdvanceNeverGoesBackAndEndsWhenEveryChannelIsThrough(t *testing.T) {
	n := Notification{Recipients: 3, Status: StatusSending}
	assert.True(t, n.Advance(ChannelKakao, 2))
	assert.False(t, n.Advance(ChannelKakao, 1), "never back")
	assert.EqualValues(t, 2, n.Progress[ChannelKakao])
	assert.False(t, n.Advance(ChannelKakao, 2), "no move")
	for _, ch := range Channels {
		n.Advance(ch, 3)
	}
	assert.Equal(t, StatusDone, n.Status, "every channel through every recipient")

	expanding := Notification{Recipients: 1, Status: StatusExpanding}
	for _, ch := range Channels {
		expanding.Advance(ch, 1)
	}
	assert.Equal(t, StatusExpanding, expanding.Status, "a campaign still expanding is not done")
}
