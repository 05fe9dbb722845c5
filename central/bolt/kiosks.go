package bolt

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central/keyring"
	"allimi/subsidy"
)

type kioskRecord struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	PasswordHash []byte    `json:"passwordHash"`
	Created      time.Time `json:"created"`
	// Region is where the kiosk stands (allimi.KioskRegions), canonical
	// (subsidy.CanonicalRegion); a new password keeps it.
	Region string `json:"region,omitempty"`
}

// kioskRegionOf is the region of a kiosk's stored record ("" for none or
// an unknown kiosk).
func kioskRegionOf(tx *bbolt.Tx, id string) string {
	v := tx.Bucket(bucketKiosks).Get([]byte(id))
	if v == nil {
		return ""
	}
	var rec struct {
		Region string `json:"region"`
	}
	_ = json.Unmarshal(v, &rec)
	return rec.Region
}

// SetKioskRegion implements allimi.KioskRegions.
func (s *Store) SetKioskRegion(id, region string) error {
	region, err := subsidy.CanonicalRegion(region)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketKiosks)
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("kiosk %s: %w", id, allimi.ErrNotFound)
		}
		var rec kioskRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("kiosk %s: %w", id, err)
		}
		rec.Region = region
		nv, _ := json.Marshal(rec)
		return b.Put([]byte(id), nv)
	})
}

// KioskRegion implements allimi.KioskRegions.
func (s *Store) KioskRegion(id string) (string, error) {
	region := ""
	err := s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketKiosks).Get([]byte(id)) == nil {
			return fmt.Errorf("kiosk %s: %w", id, allimi.ErrNotFound)
		}
		region = kioskRegionOf(tx, id)
		return nil
	})
	return region, err
}

// AddKiosk registers a kiosk and returns its fresh credentials. Adding an id
// again issues a new password and revokes the old one.
func (s *Store) AddKiosk(id string) (allimi.KioskCredentials, error) {
	if err := allimi.ValidateKioskID(id); err != nil {
		return allimi.KioskCredentials{}, err
	}
	pw := keyring.Token(24)
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return allimi.KioskCredentials{}, err
	}
	rec := kioskRecord{ID: id, Username: allimi.KioskUsername(id), PasswordHash: hash, Created: s.now().UTC()}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		rec.Region = kioskRegionOf(tx, id) // a new password keeps where the kiosk stands
		v, _ := json.Marshal(rec)
		return tx.Bucket(bucketKiosks).Put([]byte(id), v)
	})
	if err != nil {
		return allimi.KioskCredentials{}, fmt.Errorf("store kiosk %s: %w", id, err)
	}
	return allimi.KioskCredentials{ID: id, Username: rec.Username, Password: pw}, nil
}

// CheckKiosk returns the kiosk id whose credentials these are. Every
// answer costs one bcrypt comparison, whether the kiosk exists or not.
func (s *Store) CheckKiosk(username, password string) (string, bool) {
	id, ok := strings.CutPrefix(username, "kiosk-")
	var rec kioskRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketKiosks).Get([]byte(id))
		if v == nil {
			return allimi.ErrNotFound
		}
		return json.Unmarshal(v, &rec)
	})
	known := ok && err == nil && rec.Username == username
	hash := rec.PasswordHash
	if !known {
		hash = dummyKioskHash
	}
	if !passwordMatches(hash, password) || !known {
		return "", false
	}
	return id, true
}

// KioskUsers returns every kiosk's login, by id (bbolt keeps keys in
// order).
func (s *Store) KioskUsers() ([]allimi.KioskUser, error) {
	var users []allimi.KioskUser
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketKiosks).ForEach(func(k, v []byte) error {
			var rec kioskRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("kiosk %s: %w", k, err)
			}
			users = append(users, allimi.KioskUser{ID: rec.ID, Username: rec.Username, PasswordHash: string(rec.PasswordHash)})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	return users, nil
}
