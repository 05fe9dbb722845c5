package bolt

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"

	"allimi"
)

// SetAgencyPolicy replaces what agency id may send; its token is unchanged.
func (s *Store) SetAgencyPolicy(id string, p allimi.AgencyPolicy) error {
	p, err := p.Checked(id)
	if err != nil {
		return err
	}
	return s.updateAgency(id, func(rec *agencyRecord) { rec.AgencyPolicy = p })
}

// SetAgencyName implements allimi.Agencies.
func (s *Store) SetAgencyName(id, name string) error {
	if err := allimi.ValidateAgencyName(name); err != nil {
		return err
	}
	return s.updateAgency(id, func(rec *agencyRecord) { rec.Name = strings.TrimSpace(name) })
}

// AgencyName implements allimi.Agencies.
func (s *Store) AgencyName(id string) (string, error) {
	var name string
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		name, err = agencyNameIn(tx, id)
		return err
	})
	return name, err
}

// agencyNameIn is agency id's name in tx.
func agencyNameIn(tx *bbolt.Tx, id string) (string, error) {
	v := tx.Bucket(bucketAgencies).Get([]byte(id))
	if v == nil {
		return "", fmt.Errorf("agency %s: %w", id, allimi.ErrNotFound)
	}
	var rec agencyRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return "", fmt.Errorf("agency %s: %w", id, err)
	}
	return rec.Name, nil
}

// updateAgency changes agency id's record; its token is unchanged.
func (s *Store) updateAgency(id string, change func(*agencyRecord)) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAgencies)
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("agency %s: not registered (run `allimi central agency add`): %w", id, allimi.ErrNotFound)
		}
		var rec agencyRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("agency %s: %w", id, err)
		}
		change(&rec)
		nv, _ := json.Marshal(rec)
		return b.Put([]byte(id), nv)
	})
}

// AgencyPolicyOf returns what agency id may send.
func (s *Store) AgencyPolicyOf(id string) (allimi.AgencyPolicy, error) {
	var rec agencyRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketAgencies).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("agency %s: %w", id, allimi.ErrNotFound)
		}
		return json.Unmarshal(v, &rec)
	})
	return rec.AgencyPolicy, err
}
