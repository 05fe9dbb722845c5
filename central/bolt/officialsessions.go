package bolt

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// Officials' web sessions live in central's store, so that signing out
// ends a session for good: a cookie copied before the sign-out is worth
// nothing after it. The cookie holds a random session id; the store keeps
// only its SHA-256 (256 random bits need no slow hash), the official, the
// hash of the official's token at sign-in (a new token, --rotate, ends
// every session of the old one) and the expiry. Sessions survive a restart
// of central.

// sessionLifetime is how long a session lasts after sign-in.
const sessionLifetime = 12 * time.Hour

type officialSession struct {
	Official  string    `json:"official"`
	TokenHash []byte    `json:"tokenHash"`
	Expires   time.Time `json:"expires"`
}

func sessionKey(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// StartOfficialSession opens a session for official and returns its id.
// Expired sessions are swept out on the way: officials are few.
func (s *Store) StartOfficialSession(official string, now time.Time) (string, time.Time, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, err
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	exp := now.Add(sessionLifetime).UTC()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		ov := tx.Bucket(bucketOfficials).Get([]byte(official))
		if ov == nil {
			return fmt.Errorf("official %q: %w", official, allimi.ErrNotFound)
		}
		var or officialRecord
		if err := json.Unmarshal(ov, &or); err != nil {
			return fmt.Errorf("official %q: %w", official, err)
		}
		b := tx.Bucket(bucketOfficialSessions)
		var expired [][]byte
		_ = b.ForEach(func(k, v []byte) error {
			var ss officialSession
			if json.Unmarshal(v, &ss) != nil || !now.Before(ss.Expires) {
				expired = append(expired, k)
			}
			return nil
		})
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		v, _ := json.Marshal(officialSession{Official: official, TokenHash: or.TokenHash, Expires: exp})
		return b.Put(sessionKey(id), v)
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("start session: %w", err)
	}
	return id, exp, nil
}

// OfficialBySession returns the official of a live session, "" if none.
func (s *Store) OfficialBySession(id string, now time.Time) (string, error) {
	found := ""
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketOfficialSessions).Get(sessionKey(id))
		if v == nil {
			return nil
		}
		var ss officialSession
		if err := json.Unmarshal(v, &ss); err != nil || !now.Before(ss.Expires) {
			return err
		}
		ov := tx.Bucket(bucketOfficials).Get([]byte(ss.Official))
		var or officialRecord
		if ov == nil || json.Unmarshal(ov, &or) != nil || !bytes.Equal(or.TokenHash, ss.TokenHash) {
			return nil
		}
		found = ss.Official
		return nil
	})
	return found, err
}

// EndOfficialSession deletes a session: signing out.
func (s *Store) EndOfficialSession(id string) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketOfficialSessions).Delete(sessionKey(id)) })
}
