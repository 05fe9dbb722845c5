package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"

	"allimi"
)

// What every store of central keeps of a person the same way, so that a
// sealed value or an index key copied from one store to another (allimi
// central port) still opens and still finds.

// citizenBinary marks the compact encoding of a citizen's personal data; a
// plaintext that starts with '{' is the JSON of earlier builds.
const citizenBinary = 0x01

// EncodeCitizen is the plaintext a citizen's sealed personal data holds: a
// version byte and three length-prefixed strings (name, mobile number,
// birth date). It is read once per delivery, so it is small and cheap to
// decode.
func EncodeCitizen(c allimi.Citizen) []byte {
	b := make([]byte, 0, 4+len(c.Name)+len(c.Mobile)+len(c.BirthDate))
	b = append(b, citizenBinary)
	for _, s := range [...]string{c.Name, c.Mobile, c.BirthDate} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// ErrDamagedCitizen is a plaintext DecodeCitizen cannot read.
var ErrDamagedCitizen = errors.New("damaged personal data")

// DecodeCitizen reads what EncodeCitizen wrote, or the JSON of earlier builds.
func DecodeCitizen(b []byte) (allimi.Citizen, error) {
	var c allimi.Citizen
	if len(b) > 0 && b[0] == '{' {
		return c, json.Unmarshal(b, &c)
	}
	if len(b) == 0 || b[0] != citizenBinary {
		return c, ErrDamagedCitizen
	}
	b = b[1:]
	var fields [3]string
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return c, ErrDamagedCitizen
		}
		fields[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 0 {
		return c, ErrDamagedCitizen
	}
	c.Name, c.Mobile, c.BirthDate = fields[0], fields[1], fields[2]
	return c, nil
}

// SealCitizen is a person's personal data sealed under their key ck.
func (k *Keys) SealCitizen(c allimi.Citizen, ck []byte) []byte { return k.Seal(EncodeCitizen(c), ck) }

// OpenCitizen opens what SealCitizen sealed.
func (k *Keys) OpenCitizen(sealed, ck []byte) (allimi.Citizen, error) {
	plain, err := k.Open(sealed, ck)
	if err != nil {
		return allimi.Citizen{}, err
	}
	return DecodeCitizen(plain)
}

// CodeIndex is the key a receipt or question code is indexed under:
// HMAC-SHA256 under a key derived from the hash key, so that the index
// names no code.
func (k *Keys) CodeIndex(code string) []byte {
	m := hmac.New(sha256.New, k.Derive("receipt code index"))
	m.Write([]byte(code))
	return m.Sum(nil)
}

// Pseudonym names a person (their key ck) in the audit log: not
// reversible without the hash key.
func (k *Keys) Pseudonym(ck []byte) string {
	m := hmac.New(sha256.New, k.HashKey)
	m.Write([]byte("allimi audit\x00"))
	m.Write(ck)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}
