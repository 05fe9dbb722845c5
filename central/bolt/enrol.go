package bolt

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central/keyring"
	"allimi/sync/catalog"
)

// Enrolment: an official runs `allimi central kiosk enrol --id ID`, which
// prints a one-time code; the new kiosk sends the code to central and gets
// its credentials, so nobody types a secret. Central keeps only a hash of
// the code.

type enrolment struct {
	Kiosk   string     `json:"kiosk"`
	Expires time.Time  `json:"expires"`
	Used    *time.Time `json:"used,omitempty"`
}

// newEnrolCode is 12 characters (60 bits), shown XXXX-XXXX-XXXX.
func newEnrolCode() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	var s strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			s.WriteByte('-')
		}
		s.WriteByte(allimi.CodeAlphabet[int(c)%len(allimi.CodeAlphabet)]) // 256 is a multiple of 32: no bias
	}
	return s.String()
}

// normalizeEnrolCode accepts what a person types: any case, spaces, no dashes.
func normalizeEnrolCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if strings.ContainsRune(allimi.CodeAlphabet, r) {
			b.WriteRune(r)
		}
	}
	c := b.String()
	if len(c) != 12 {
		return c
	}
	return c[:4] + "-" + c[4:8] + "-" + c[8:]
}

func enrolKey(code string) []byte {
	h := sha256.Sum256([]byte(normalizeEnrolCode(code)))
	return h[:]
}

// AddEnrolment issues a one-time code for kiosk id, valid for ttl.
func (s *Store) AddEnrolment(id string, ttl time.Duration) (code string, expires time.Time, err error) {
	if err := allimi.ValidateKioskID(id); err != nil {
		return "", time.Time{}, err
	}
	if ttl <= 0 || ttl > 30*24*time.Hour {
		return "", time.Time{}, fmt.Errorf("ttl %s: between 1 s and 30 days: %w", ttl, allimi.ErrInvalid)
	}
	code, expires = newEnrolCode(), s.now().UTC().Add(ttl).Truncate(time.Second)
	v, _ := json.Marshal(enrolment{Kiosk: id, Expires: expires})
	err = s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketEnrolments).Put(enrolKey(code), v) })
	return code, expires, err
}

// RedeemEnrolment spends code: the kiosk gets fresh credentials (a kiosk
// enrolled again gets a new password, and the old one stops working).
func (s *Store) RedeemEnrolment(code string) (allimi.KioskCredentials, error) {
	var cred allimi.KioskCredentials
	pw := keyring.Token(24)
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return cred, err
	}
	now := s.now().UTC()
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEnrolments)
		k := enrolKey(code)
		v := b.Get(k)
		if v == nil {
			return allimi.ErrEnrolUnknown
		}
		var e enrolment
		if err := json.Unmarshal(v, &e); err != nil {
			return err
		}
		switch {
		case e.Used != nil:
			return fmt.Errorf("%w (on %s)", allimi.ErrEnrolUsed, e.Used.In(allimi.KST).Format("2006-01-02 15:04"))
		case !now.Before(e.Expires):
			return fmt.Errorf("%w (at %s)", allimi.ErrEnrolExpired, e.Expires.In(allimi.KST).Format("2006-01-02 15:04"))
		}
		e.Used = &now
		nv, _ := json.Marshal(e)
		if err := b.Put(k, nv); err != nil {
			return err
		}
		rec := kioskRecord{ID: e.Kiosk, Username: allimi.KioskUsername(e.Kiosk), PasswordHash: hash, Created: now}
		rv, _ := json.Marshal(rec)
		cred = allimi.KioskCredentials{ID: e.Kiosk, Username: rec.Username, Password: pw,
			CatalogKey: catalog.EncodePublicKey(s.keys.CatalogPublicKey())}
		return tx.Bucket(bucketKiosks).Put([]byte(e.Kiosk), rv)
	})
	return cred, err
}
