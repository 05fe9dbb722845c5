package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// Confirmations checks allimi.Confirmations: a sign-up without a verified
// number queues its owner's confirmation in the commit that stores it,
// once; sent ones leave the queue; the queue survives a restart.
func Confirmations[B RegistryBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"UnverifiedSignupsQueued", confirmationsQueued[B]},
		{"DoneRemoves", confirmationsDone[B]},
		{"Durable", confirmationsDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// signups commits kim's and park's sign-ups without a verified number and
// lee's with one, then a change to kim's consents.
func signups(t *testing.T, b allimi.Registry, t0 time.Time) {
	t.Helper()
	k := &kiosk{id: "kiosk-a"}
	out := commit(t, b,
		k.signup(t, kim, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelSMS)}, t0),
		k.signup(t, lee, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, t0.Add(time.Second)),
		k.signup(t, park, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeVaccination, allimi.ChannelKakao)}, t0.Add(2*time.Second)))
	require.Equal(t, 3, out.Stored)
	assert.Equal(t, 2, out.Confirmations)
	later := t0.Add(time.Minute)
	out = commit(t, b, k.record(t, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: grants(later, allimi.TypeVaccination, allimi.ChannelSMS)}, later))
	assert.Zero(t, out.Confirmations, "only a sign-up is confirmed")
}

func pendingCount[B RegistryBackend[B]](t *testing.T, b B) int {
	t.Helper()
	n, err := b.ConfirmationsPending()
	require.NoError(t, err)
	return n
}

func confirmationsQueued[B RegistryBackend[B]](t *testing.T, b B) {
	assert.Zero(t, pendingCount(t, b))
	list, err := b.PendingConfirmations(10)
	require.NoError(t, err)
	assert.Empty(t, list)

	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	signups(t, b, t0)
	assert.Equal(t, 2, pendingCount(t, b))
	list, err = b.PendingConfirmations(10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	byName := map[string]allimi.PendingConfirmation{}
	for _, p := range list {
		assert.NotEmpty(t, p.Key)
		byName[p.Citizen.Name] = p
	}
	assert.Equal(t, kim, byName[kim.Name].Citizen, "the person to tell, in full")
	assert.True(t, byName[kim.Name].At.Equal(t0), "signed up at %s, want %s", byName[kim.Name].At, t0)
	assert.Equal(t, park, byName[park.Name].Citizen)
	assert.True(t, byName[park.Name].At.Equal(t0.Add(2*time.Second)))
	assert.NotEqual(t, byName[kim.Name].Key, byName[park.Name].Key)

	list, err = b.PendingConfirmations(1)
	require.NoError(t, err)
	assert.Len(t, list, 1, "at most n")
}

func confirmationsDone[B RegistryBackend[B]](t *testing.T, b B) {
	signups(t, b, time.Now().Add(-time.Hour))
	list, err := b.PendingConfirmations(1)
	require.NoError(t, err)
	require.Len(t, list, 1)
	done := list[0]
	require.NoError(t, b.DoneConfirmations([][]byte{done.Key}))
	assert.Equal(t, 1, pendingCount(t, b))
	rest, err := b.PendingConfirmations(10)
	require.NoError(t, err)
	require.Len(t, rest, 1)
	assert.NotEqual(t, done.Citizen, rest[0].Citizen, "the one left is the other")

	require.NoError(t, b.DoneConfirmations([][]byte{done.Key}), "a key already removed")
	require.NoError(t, b.DoneConfirmations(nil))
	assert.Equal(t, 1, pendingCount(t, b))
	require.NoError(t, b.DoneConfirmations([][]byte{rest[0].Key}))
	assert.Zero(t, pendingCount(t, b))
	list, err = b.PendingConfirmations(10)
	require.NoError(t, err)
	assert.Empty(t, list)
}

func confirmationsDurable[B RegistryBackend[B]](t *testing.T, b B) {
	signups(t, b, time.Now().Add(-time.Hour))
	b = b.Reopen(t)
	assert.Equal(t, 2, pendingCount(t, b))
	list, err := b.PendingConfirmations(10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.NoError(t, b.DoneConfirmations([][]byte{list[0].Key}))
	b = b.Reopen(t)
	assert.Equal(t, 1, pendingCount(t, b), "a removal is durable too")
}
