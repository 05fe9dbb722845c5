package bolt

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// swapCompareHash replaces bcrypt's comparison for the test.
func swapCompareHash(t *testing.T, f func(hash, password []byte) error) {
	old := CompareHash
	CompareHash = f
	t.Cleanup(func() { CompareHash = old })
}

func TestCheckKiosk_EveryAnswerCostsOneBcryptComparison(t *testing.T) {
	s, _, err := OpenData(t.TempDir(), StoreOptions{})
	require.NoError(t, err)
	defer s.Close()
	cred, err := s.AddKiosk("k1")
	require.NoError(t, err)

	var compared [][]byte
	swapCompareHash(t, func(hash, password []byte) error {
		compared = append(compared, hash)
		return bcrypt.CompareHashAndPassword(hash, password)
	})
	tests := []struct {
		name, user, pass string
		ok               bool
	}{
		{"the kiosk's credentials", cred.Username, cred.Password, true},
		{"a wrong password", cred.Username, "not-the-password", false},
		{"an unknown id", "kiosk-k9", cred.Password, false},
		{"the id without the kiosk- prefix", "k1", cred.Password, false},
		{"no user name", "", "", false},
	}
	var realHash []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compared = nil
			id, ok := s.CheckKiosk(tt.user, tt.pass)
			assert.Equal(t, tt.ok, ok)
			if ok {
				assert.Equal(t, "k1", id)
				realHash = compared[0]
			}
			assert.Len(t, compared, 1, "bcrypt comparisons")
		})
	}
	require.NotNil(t, realHash)
	realCost, err := bcrypt.Cost(realHash)
	require.NoError(t, err)
	dummyCost, err := bcrypt.Cost(dummyKioskHash)
	require.NoError(t, err)
	assert.Equal(t, realCost, dummyCost, "the dummy hash costs what a kiosk's does")
}

func TestCheckKiosk_BoundsConcurrentPasswordChecks(t *testing.T) {
	s, _, err := OpenData(t.TempDir(), StoreOptions{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.AddKiosk("k1")
	require.NoError(t, err)

	var inside, most atomic.Int32
	release := make(chan struct{})
	letGo := sync.OnceFunc(func() { close(release) })
	defer letGo() // also when a require below fails
	swapCompareHash(t, func(hash, password []byte) error {
		n := inside.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		inside.Add(-1)
		return bcrypt.ErrMismatchedHashAndPassword
	})
	const attackers = 16
	var wg sync.WaitGroup
	for i := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := "kiosk-k1"
			if i%2 == 1 {
				user = "kiosk-unknown"
			}
			_, ok := s.CheckKiosk(user, "wrong")
			assert.False(t, ok)
		}()
	}
	require.Eventually(t, func() bool { return inside.Load() == int32(cap(PasswordChecks)) },
		10*time.Second, 5*time.Millisecond, "the first checks started")
	letGo()
	wg.Wait()
	assert.EqualValues(t, cap(PasswordChecks), most.Load(), "password checks at once, of %d attempts", attackers)
	assert.Less(t, cap(PasswordChecks), attackers)
}
