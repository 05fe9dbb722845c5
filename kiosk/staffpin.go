package kiosk

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// StaffMember is an official who may open staff mode on this kiosk.
type StaffMember struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PINHash is bcrypt of the PIN (bcrypt salts it): the kiosk's config
	// file never holds a PIN an onlooker or a thief could reuse.
	PINHash string `json:"pinHash"`
}

// MinPINLength is the shortest PIN HashPIN accepts. PINs are short, so the
// kiosk also locks staff mode after repeated failures (pinLock).
const MinPINLength = 4

// HashPIN returns the bcrypt hash of pin for the config's staff list.
func HashPIN(pin string) (string, error) {
	pin = strings.TrimSpace(pin)
	if len(pin) < MinPINLength {
		return "", fmt.Errorf("PIN: at least %d digits", MinPINLength)
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("PIN: digits only")
		}
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash PIN: %w", err)
	}
	return string(h), nil
}

// matchPIN returns the official whose PIN is pin. Each official has their
// own PIN, so the PIN alone says who signs in (and whose id goes into the
// records they make).
func matchPIN(staff []StaffMember, pin string) (*StaffMember, bool) {
	for i := range staff {
		if staff[i].PINHash != "" && bcrypt.CompareHashAndPassword([]byte(staff[i].PINHash), []byte(pin)) == nil {
			m := staff[i]
			return &m, true
		}
	}
	return nil, false
}

// pinLock slows down guessing: after maxFails wrong PINs in a row staff
// mode refuses every PIN for lockFor.
type pinLock struct {
	fails int
	until time.Time
}

const (
	pinMaxFails = 5
	pinLockFor  = 60 * time.Second
)

// locked reports whether PINs are refused at now, and for how long still.
func (p *pinLock) locked(now time.Time) (time.Duration, bool) {
	if now.Before(p.until) {
		return p.until.Sub(now), true
	}
	return 0, false
}

func (p *pinLock) fail(now time.Time) {
	p.fails++
	if p.fails >= pinMaxFails {
		p.fails, p.until = 0, now.Add(pinLockFor)
	}
}

func (p *pinLock) ok() { p.fails = 0 }
