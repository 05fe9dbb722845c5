package central

import (
	"testing"
	"time"

	"allimi/central/bolt"
)

// MaxPreLoginPerAddress exports maxPreLoginPerAddress to central_test.
const MaxPreLoginPerAddress = maxPreLoginPerAddress

// SetConnectTimeout gives brokers started during the test d to receive a
// CONNECT.
func SetConnectTimeout(t *testing.T, d time.Duration) {
	old := connectTimeout
	connectTimeout = d
	t.Cleanup(func() { connectTimeout = old })
}

// SetPasswordChecks replaces, for the test, how many password checks may
// run at once and bcrypt's comparison.
func SetPasswordChecks(t *testing.T, slots int, compare func(hash, password []byte) error) {
	oldSlots, oldCompare := bolt.PasswordChecks, bolt.CompareHash
	bolt.PasswordChecks, bolt.CompareHash = make(chan struct{}, slots), compare
	t.Cleanup(func() { bolt.PasswordChecks, bolt.CompareHash = oldSlots, oldCompare })
}

// WaitingForTurns counts the broker's sockets waiting for their address's
// turn to have a password checked.
func (s *Server) WaitingForTurns() int { return s.broker.preLogin.waitingForTurns() }
