package allimi

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// CodeAlphabet is the letters of the codes people read and type (receipts,
// kiosk enrolment): no 0/O, 1/I, as a person may read the code to an official
// over the phone.
const CodeAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// ReceiptCode is the receipt code of record seq of kiosk: ten characters
// (50 bits) of SHA-256 over "kiosk/seq", shown as XXXXX-XXXXX. It is
// derived from the record's identity, not random, so central indexes the
// records it stores by the same code and answers "check my sign-up"
// without the kiosk keeping anything; and it carries no personal data.
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

// NormalizeReceiptCode accepts a code as a person may type it (lower case,
// without the dash, with spaces) and returns it as ReceiptCode writes it,
// or false when it cannot be one.
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
	if b.Len() != 10 {
		return "", false
	}
	c := b.String()
	return c[:5] + "-" + c[5:], true
}
