package bolt

import (
	"runtime"

	"golang.org/x/crypto/bcrypt"
)

// PasswordChecks bounds the bcrypt comparisons running at once in the
// process to half its CPUs: each costs some 60 ms of CPU, and 16 threads
// of wrong passwords took 118% CPU and made a good kiosk's connect 17
// times slower. Waiters are served in arrival order (a channel's senders
// queue), and the broker keeps one address from queueing more than
// maxPreLoginPerAddress of them.
var PasswordChecks = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

// CompareHash is bcrypt's comparison; tests count its calls.
var CompareHash = bcrypt.CompareHashAndPassword

// dummyKioskHash is compared when a user name names no kiosk, so that an
// unknown id costs the same bcrypt as a known one and ids cannot be listed
// by timing. Its cost is bcrypt.DefaultCost, the cost AddKiosk uses; the
// password it hashes does not matter, since a match is refused anyway.
var dummyKioskHash = []byte("$2a$10$OXphfT9K87ZFalCJ1cvFXeYAgQhT95vn2c8z1Bcj3WG9uSsgla4ha")

// passwordMatches compares password with hash, waiting for a turn.
func passwordMatches(hash []byte, password string) bool {
	PasswordChecks <- struct{}{}
	defer func() { <-PasswordChecks }()
	return CompareHash(hash, []byte(password)) == nil
}
