package pg

import (
	"runtime"

	"golang.org/x/crypto/bcrypt"
)

// PasswordChecks bounds the bcrypt comparisons running at once in the
// process to half its CPUs, as central/bolt's does (a comparison costs
// some 60 ms of CPU: a flood of wrong passwords must not starve good
// logins). A central runs on one store, so the two bounds never add up.
var PasswordChecks = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

// CompareHash is bcrypt's comparison; tests count its calls.
var CompareHash = bcrypt.CompareHashAndPassword

// dummyKioskHash is compared when a user name names no kiosk, so that an
// unknown id costs the same bcrypt as a known one and ids cannot be listed
// by timing. Its cost is bcrypt.DefaultCost, the cost AddKiosk uses; the
// password it hashes does not matter, since a match is refused anyway.
var dummyKioskHash = []byte("$2a$10$4BYbCu/WLl1Nq7tiW7kfOO1LU.BOvlTjV6QaOjM2jX9IkfOoJi.0S")

// passwordMatches compares password with hash, waiting for a turn.
func passwordMatches(hash []byte, password string) bool {
	PasswordChecks <- struct{}{}
	defer func() { <-PasswordChecks }()
	return CompareHash(hash, []byte(password)) == nil
}
