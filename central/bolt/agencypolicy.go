package bolt

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"go.etcd.io/bbolt"

	"allimi"
)

// SetAgencyPolicy replaces what agency id may send; its token is unchanged.
func (s *Store) SetAgencyPolicy(id string, p allimi.AgencyPolicy) error {
	for _, t := range p.Types {
		if _, ok := t.Info(); !ok {
			return fmt.Errorf("agency %s: notification type %q: unknown: %w", id, t, allimi.ErrInvalid)
		}
	}
	hosts := make([]string, 0, len(p.PaymentHosts))
	for _, h := range p.PaymentHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if u, err := url.Parse("https://" + h); err != nil || u.Host != h || u.Port() != "" || h == "" || strings.Contains(h, "*") {
			return fmt.Errorf("agency %s: payment host %q: give a host name alone, such as pay.police.go.kr: %w", id, h, allimi.ErrInvalid)
		}
		hosts = append(hosts, h)
	}
	p.PaymentHosts = hosts
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
		rec.AgencyPolicy = p
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
