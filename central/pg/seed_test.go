package pg

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/internal/loadgen"
)

// Seeding writes people and their consents as sign-ups would leave them,
// in chunks; seeding again adds nobody, and a person already there stays
// as they are.
func TestImportSubscribers(t *testing.T) {
	c := openConformance(t)
	defer func(n int) { seedChunk = n }(seedChunk)
	seedChunk = 7 // several chunks
	at := c.now()
	signup := signupEvents(t, loadgen.SeedKiosk, 1, at) // person 1 signs up at a kiosk first
	_, err := c.Commit([]allimi.Incoming{{Kiosk: signup[0].Kiosk, Event: &signup[0]}})
	require.NoError(t, err)
	before, err := c.Stats()
	require.NoError(t, err)

	types := []allimi.NotificationType{allimi.TypeHealthCheckup, allimi.TypeRelief}
	chs := []allimi.Channel{allimi.ChannelKakao}
	require.NoError(t, loadgen.Seed(c, 30, types, chs))
	st, err := c.Stats()
	require.NoError(t, err)
	assert.Equal(t, before.Subscribers+29, st.Subscribers, "29 new people; person 1 was there")
	assert.EqualValues(t, 29+1, st.Active[string(allimi.TypeRelief)][string(allimi.ChannelKakao)])
	p := loadgen.Person(loadgen.SeedKiosk, 17)
	a, ok, err := c.ConsentOf(p.Mobile, p.BirthDate, allimi.TypeRelief, allimi.ChannelKakao)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, allimi.ActionGrant, a)
	first := loadgen.Person(loadgen.SeedKiosk, 1)
	_, ok, err = c.ConsentOf(first.Mobile, first.BirthDate, allimi.TypeHealthCheckup, allimi.ChannelSMS)
	require.NoError(t, err)
	assert.True(t, ok, "person 1's own sign-up stands")

	require.NoError(t, loadgen.Seed(c, 30, types, chs))
	again, err := c.Stats()
	require.NoError(t, err)
	assert.Equal(t, st.Subscribers, again.Subscribers, "seeding twice adds nobody")
	assert.Equal(t, st.Active, again.Active)
}
