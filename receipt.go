package allimi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
)

// CodeAlphabet is the letters of the codes people read and type (receipts,
// kiosk enrolment): no 0/O, 1/I, as a person may read the code to an official
// over the phone.
const CodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// ReceiptCodeLetters is the length of a random receipt code: 12 letters of
// CodeAlphabet, 60 bits, shown as XXXX-XXXX-XXXX.
const ReceiptCodeLetters = 12

// ReceiptCode is the receipt code earlier kiosks printed for record seq of
// kiosk: ten characters (50 bits) of SHA-256 over "kiosk/seq", shown as
// XXXXX-XXXXX. Anyone who knows a kiosk's id and its record count (the
// statistics show both) can compute it, so kiosks now draw their codes
// with NewReceiptCode; central still indexes a sign-up that carries no
// code under this one, so that the slips already printed keep working.
func ReceiptCode(kiosk string, seq uint64) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", kiosk, seq)))
	n := binary.BigEndian.Uint64(sum[:8])
	var b strings.Builder
	for i := 0; i < 10; i++ {
		if i == 5 {
			b.WriteByte('-')
		}
		b.WriteByte(CodeAlphabet[n>>59]) // the top 5 bits
		n <<= 5
	}
	return b.String()
}

// NewReceiptCode draws a receipt code from crypto/rand: ReceiptCodeLetters
// letters of CodeAlphabet (60 bits), shown as XXXX-XXXX-XXXX. Whoever holds
// it (with the person's date of birth) reads the sign-up, so it must not be
// derivable from anything public.
func NewReceiptCode() (string, error) {
	var b [ReceiptCodeLetters]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("receipt code: %w", err)
	}
	var s strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		// 256 is a multiple of 32: no bias.
		s.WriteByte(CodeAlphabet[int(x)%len(CodeAlphabet)])
	}
	return s.String(), nil
}

var randomCodePattern = regexp.MustCompile(`^[` + CodeAlphabet + `]{4}-[` + CodeAlphabet + `]{4}-[` + CodeAlphabet + `]{4}$`)

// IsRandomReceiptCode reports whether code has the form NewReceiptCode
// writes (XXXX-XXXX-XXXX), which ReceiptCode never does.
func IsRandomReceiptCode(code string) bool { return randomCodePattern.MatchString(code) }

// NormalizeReceiptCode accepts a code as a person may type it (lower case,
// without the dashes, with spaces) and returns it as it is printed: twelve
// letters as XXXX-XXXX-XXXX (NewReceiptCode), or ten as XXXXX-XXXXX (the
// slips of earlier kiosks); false when it cannot be one.
func NormalizeReceiptCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(CodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	c := b.String()
	switch len(c) {
	case 10:
		return c[:5] + "-" + c[5:], true
	case ReceiptCodeLetters:
		return c[:4] + "-" + c[4:8] + "-" + c[8:], true
	}
	return "", false
}
