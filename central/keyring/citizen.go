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

// citizenBinary marks the compact encoding of a citizen's personal data:
// three length-prefixed strings; personBinary the same followed by the
// language they signed up in. A plaintext that starts with '{' is the JSON
// of earlier builds.
const (
	citizenBinary = 0x01
	personBinary  = 0x02
)

// EncodeCitizen is the plaintext a citizen's sealed personal data holds
// when no language is known: EncodePerson with an empty language.
func EncodeCitizen(c allimi.Citizen) []byte { return EncodePerson(c, "") }

// EncodePerson is the plaintext a person's sealed personal data holds: a
// version byte and length-prefixed strings (name, mobile number, birth
// date, and the language they signed up in when there is one: an empty
// language is written as earlier builds wrote a citizen, version 1). It
// is read once per delivery, so it is small and cheap to decode.
func EncodePerson(c allimi.Citizen, lang string) []byte {
	fields := []string{c.Name, c.Mobile, c.BirthDate}
	version := byte(citizenBinary)
	if lang != "" {
		fields, version = append(fields, lang), personBinary
	}
	b := make([]byte, 0, 5+len(c.Name)+len(c.Mobile)+len(c.BirthDate)+len(lang))
	b = append(b, version)
	for _, s := range fields {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// ErrDamagedCitizen is a plaintext DecodeCitizen cannot read.
var ErrDamagedCitizen = errors.New("damaged personal data")

// DecodeCitizen reads what EncodePerson or EncodeCitizen wrote, or the JSON
// of earlier builds, without the language.
func DecodeCitizen(b []byte) (allimi.Citizen, error) {
	c, _, err := DecodePerson(b)
	return c, err
}

// DecodePerson reads what EncodePerson or EncodeCitizen wrote, or the JSON
// of earlier builds: the person and the language they signed up in, empty
// (allimi.DefaultLanguage) when none was kept.
func DecodePerson(b []byte) (allimi.Citizen, string, error) {
	var c allimi.Citizen
	if len(b) > 0 && b[0] == '{' {
		return c, "", json.Unmarshal(b, &c)
	}
	var fields []string
	switch {
	case len(b) > 0 && b[0] == citizenBinary:
		fields = make([]string, 3)
	case len(b) > 0 && b[0] == personBinary:
		fields = make([]string, 4)
	default:
		return c, "", ErrDamagedCitizen
	}
	b = b[1:]
	for i := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return c, "", ErrDamagedCitizen
		}
		fields[i] = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	if len(b) != 0 {
		return c, "", ErrDamagedCitizen
	}
	c.Name, c.Mobile, c.BirthDate = fields[0], fields[1], fields[2]
	lang := ""
	if len(fields) > 3 {
		lang = fields[3]
	}
	return c, lang, nil
}

// SealCitizen is a person's personal data sealed under their key ck.
func (k *Keys) SealCitizen(c allimi.Citizen, ck []byte) []byte { return k.Seal(EncodeCitizen(c), ck) }

// SealPerson is a person's personal data and the language they signed up
// in sealed under their key ck.
func (k *Keys) SealPerson(c allimi.Citizen, lang string, ck []byte) []byte {
	return k.Seal(EncodePerson(c, lang), ck)
}

// OpenCitizen opens what SealCitizen or SealPerson sealed, without the
// language.
func (k *Keys) OpenCitizen(sealed, ck []byte) (allimi.Citizen, error) {
	c, _, err := k.OpenPerson(sealed, ck)
	return c, err
}

// OpenPerson opens what SealPerson or SealCitizen sealed: the person and
// the language they signed up in (empty when none was kept).
func (k *Keys) OpenPerson(sealed, ck []byte) (allimi.Citizen, string, error) {
	plain, err := k.Open(sealed, ck)
	if err != nil {
		return allimi.Citizen{}, "", err
	}
	return DecodePerson(plain)
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
