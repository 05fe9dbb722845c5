package bolt

import (
	"encoding/json"
	"fmt"
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

// AddEnrolment issues a one-time code for kiosk id, valid for ttl.
func (s *Store) AddEnrolment(id string, ttl time.Duration) (code string, expires time.Time, err error) {
	if err := allimi.CheckEnrolment(id, ttl); err != nil {
		return "", time.Time{}, err
	}
	code, expires = allimi.NewEnrolCode(), s.now().UTC().Add(ttl).Truncate(time.Second)
	v, _ := json.Marshal(enrolment{Kiosk: id, Expires: expires})
	err = s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketEnrolments).Put(allimi.EnrolCodeKey(code), v) })
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
		k := allimi.EnrolCodeKey(code)
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
		rec := kioskRecord{ID: e.Kiosk, Username: allimi.KioskUsername(e.Kiosk), PasswordHash: hash, Created: now,
			Region: kioskRegionOf(tx, e.Kiosk)}
		rv, _ := json.Marshal(rec)
		cred = allimi.KioskCredentials{ID: e.Kiosk, Username: rec.Username, Password: pw,
			CatalogKey: catalog.EncodePublicKey(s.keys.CatalogPublicKey())}
		return tx.Bucket(bucketKiosks).Put([]byte(e.Kiosk), rv)
	})
	return cred, err
}
