package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"allimi"
)

// KioskUsers checks allimi.KioskUsers on a backend that has it (it fails
// on one that does not): every kiosk's login by id, with the bcrypt hash
// of its current password, which a new password or an enrolment replaces.
func KioskUsers[B KiosksBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"EveryKioskByID", kioskUsersListed[B]},
		{"CurrentPasswordOnly", kioskUsersRenewed[B]},
		{"Durable", kioskUsersDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func kioskUsers(t *testing.T, b allimi.Kiosks) []allimi.KioskUser {
	t.Helper()
	lister, ok := b.(allimi.KioskUsers)
	require.True(t, ok, "the backend implements allimi.KioskUsers")
	users, err := lister.KioskUsers()
	require.NoError(t, err)
	return users
}

// hashOf is the hash listed for kiosk id, failing t when it is not listed.
func hashOf(t *testing.T, users []allimi.KioskUser, id string) string {
	t.Helper()
	for _, u := range users {
		if u.ID == id {
			return u.PasswordHash
		}
	}
	require.Failf(t, "kiosk not listed", "kiosk %s", id)
	return ""
}

func kioskUsersListed[B KiosksBackend[B]](t *testing.T, b B) {
	assert.Empty(t, kioskUsers(t, b), "no kiosk yet")
	b2, err := b.AddKiosk("kiosk-b")
	require.NoError(t, err)
	a, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	users := kioskUsers(t, b)
	require.Len(t, users, 2)
	assert.Equal(t, "kiosk-a", users[0].ID, "by id")
	assert.Equal(t, "kiosk-b", users[1].ID)
	for _, c := range []allimi.KioskCredentials{a, b2} {
		hash := hashOf(t, users, c.ID)
		assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(c.Password)), "kiosk %s", c.ID)
		assert.NotContains(t, hash, c.Password, "only the hash")
	}
	assert.Equal(t, allimi.KioskUsername("kiosk-a"), users[0].Username)
	assert.Equal(t, allimi.KioskUsername("kiosk-b"), users[1].Username)
	assert.Error(t, bcrypt.CompareHashAndPassword([]byte(users[0].PasswordHash), []byte(b2.Password)))
}

func kioskUsersRenewed[B KiosksBackend[B]](t *testing.T, b B) {
	old, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	renewed, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	users := kioskUsers(t, b)
	require.Len(t, users, 1)
	hash := []byte(hashOf(t, users, "kiosk-a"))
	assert.NoError(t, bcrypt.CompareHashAndPassword(hash, []byte(renewed.Password)))
	assert.Error(t, bcrypt.CompareHashAndPassword(hash, []byte(old.Password)), "the old password is revoked")

	code, _, err := b.AddEnrolment("kiosk-a", time.Hour)
	require.NoError(t, err)
	enrolled, err := b.RedeemEnrolment(code)
	require.NoError(t, err)
	hash = []byte(hashOf(t, kioskUsers(t, b), "kiosk-a"))
	assert.NoError(t, bcrypt.CompareHashAndPassword(hash, []byte(enrolled.Password)), "the enrolment's password")
	assert.Error(t, bcrypt.CompareHashAndPassword(hash, []byte(renewed.Password)))

	code, _, err = b.AddEnrolment("kiosk-new", time.Hour)
	require.NoError(t, err)
	assert.Len(t, kioskUsers(t, b), 1, "a code not yet spent is no login")
	fresh, err := b.RedeemEnrolment(code)
	require.NoError(t, err)
	hash = []byte(hashOf(t, kioskUsers(t, b), "kiosk-new"))
	assert.NoError(t, bcrypt.CompareHashAndPassword(hash, []byte(fresh.Password)), "a kiosk enrolled without being added first")
}

func kioskUsersDurable[B KiosksBackend[B]](t *testing.T, b B) {
	cred, err := b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	b = b.Reopen(t)
	users := kioskUsers(t, b)
	require.Len(t, users, 1)
	assert.Equal(t, allimi.KioskUser{ID: "kiosk-a", Username: allimi.KioskUsername("kiosk-a"), PasswordHash: users[0].PasswordHash}, users[0])
	assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(users[0].PasswordHash), []byte(cred.Password)))
}
