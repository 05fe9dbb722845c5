package allimi

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// An enrolment code is what an official types at a new kiosk so that it
// fetches its credentials (Kiosks.AddEnrolment): 12 characters of
// CodeAlphabet (60 bits), shown XXXX-XXXX-XXXX. Every store keeps it only
// as EnrolCodeKey.

// NewEnrolCode draws an enrolment code.
func NewEnrolCode() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(CodeAlphabet[int(c)%len(CodeAlphabet)]) // 256 is a multiple of 32: no bias
	}
	return s.String()
}

// NormalizeEnrolCode accepts what a person types: any case, spaces, no
// dashes.
func NormalizeEnrolCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if strings.ContainsRune(CodeAlphabet, r) {
			b.WriteRune(r)
		}
	}
	c := b.String()
	if len(c) != 12 {
		return c
	}
	return c[:4] + "-" + c[4:8] + "-" + c[8:]
}

// EnrolCodeKey is what a store keeps of a code: the SHA-256 of its
// normalised form.
func EnrolCodeKey(code string) []byte {
	h := sha256.Sum256([]byte(NormalizeEnrolCode(code)))
	return h[:]
}

// MaxEnrolTTL is the longest an enrolment code may be valid.
const MaxEnrolTTL = 30 * 24 * time.Hour

// CheckEnrolment checks what AddEnrolment is given: a kiosk id and a
// validity between a second and MaxEnrolTTL.
func CheckEnrolment(id string, ttl time.Duration) error {
	if err := ValidateKioskID(id); err != nil {
		return err
	}
	if ttl <= 0 || ttl > MaxEnrolTTL {
		return fmt.Errorf("ttl %s: between 1 s and 30 days: %w", ttl, ErrInvalid)
	}
	return nil
}
