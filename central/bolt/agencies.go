package bolt

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/keyring"
)

var ()

type agencyRecord struct {
	ID        string    `json:"id"`
	TokenHash []byte    `json:"tokenHash"`
	Created   time.Time `json:"created"`
	// Policy is what the agency may send (agencypolicy.go); a record
	// from before policies has none, and is unrestricted until an
	// operator sets one.
	allimi.AgencyPolicy
	// Name is the agency's name as people read it ("" until set).
	Name string `json:"name,omitempty"`
}

// AddAgency registers an agency and returns its bearer token. Adding an id
// again issues a new token and revokes the old one, and keeps its policy.
// A new agency is unrestricted until SetAgencyPolicy says what it may send. Tokens are random 192-bit
// strings, so a plain SHA-256 is enough to store them.
func (s *Store) AddAgency(id string) (allimi.AgencyCredentials, error) {
	if err := allimi.ValidateKioskID(id); err != nil {
		return allimi.AgencyCredentials{}, fmt.Errorf("agency id %q: use 1-63 lower-case letters, digits and dashes: %w", id, allimi.ErrInvalid)
	}
	tok := keyring.Token(24)
	h := sha256.Sum256([]byte(tok))
	err := s.db.Update(func(tx *bbolt.Tx) error {
		ab, tb := tx.Bucket(bucketAgencies), tx.Bucket(bucketAgencyTokens)
		var policy allimi.AgencyPolicy // kept when the token is renewed, and the name
		var name string
		if v := ab.Get([]byte(id)); v != nil {
			var old agencyRecord
			if err := json.Unmarshal(v, &old); err == nil {
				if err := tb.Delete(old.TokenHash); err != nil {
					return err
				}
				policy, name = old.AgencyPolicy, old.Name
			}
		}
		v, _ := json.Marshal(agencyRecord{ID: id, TokenHash: h[:], Created: s.now().UTC(), AgencyPolicy: policy, Name: name})
		if err := ab.Put([]byte(id), v); err != nil {
			return err
		}
		return tb.Put(h[:], []byte(id))
	})
	if err != nil {
		return allimi.AgencyCredentials{}, fmt.Errorf("store agency %s: %w", id, err)
	}
	return allimi.AgencyCredentials{ID: id, Token: tok}, nil
}

// AgencyByToken returns the agency whose token this is.
func (s *Store) AgencyByToken(tok string) (string, bool) {
	h := sha256.Sum256([]byte(tok))
	var id string
	_ = s.db.View(func(tx *bbolt.Tx) error {
		id = string(tx.Bucket(bucketAgencyTokens).Get(h[:]))
		return nil
	})
	return id, id != ""
}
