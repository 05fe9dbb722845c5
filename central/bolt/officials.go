package bolt

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// Officials answer people's questions on central's web pages. Each has an
// id and a token, printed once by `allimi central official add`; central
// keeps only the token's SHA-256 (the token is 256 random bits, so a plain
// hash is as good as a slow one). The audit log names the official who
// answered.
type officialRecord struct {
	TokenHash []byte    `json:"tokenHash"`
	Created   time.Time `json:"created"`
}

var officialIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// AddOfficial registers an official, or gives an existing one a new token
// when rotate is set, and returns the token.
func (s *Store) AddOfficial(id string, rotate bool) (allimi.OfficialCredentials, error) {
	if !officialIDPattern.MatchString(id) {
		return allimi.OfficialCredentials{}, fmt.Errorf("official id %q: use 1-63 lower-case letters, digits, dots, dashes and underscores: %w", id, allimi.ErrInvalid)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return allimi.OfficialCredentials{}, err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(tok))
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketOfficials)
		if b.Get([]byte(id)) != nil && !rotate {
			return fmt.Errorf("official %q already exists: use --rotate to give them a new token: %w", id, allimi.ErrInvalid)
		}
		v, _ := json.Marshal(officialRecord{TokenHash: sum[:], Created: s.now().UTC()})
		return b.Put([]byte(id), v)
	})
	if err != nil {
		return allimi.OfficialCredentials{}, err
	}
	return allimi.OfficialCredentials{ID: id, Token: tok}, nil
}

// OfficialByToken returns the id of the official with token, "" if none.
func (s *Store) OfficialByToken(tok string) (string, error) {
	sum := sha256.Sum256([]byte(tok))
	found := ""
	err := s.db.View(func(tx *bbolt.Tx) error {
		// Every record is compared, in constant time: officials are few.
		return tx.Bucket(bucketOfficials).ForEach(func(k, v []byte) error {
			var r officialRecord
			if json.Unmarshal(v, &r) == nil && subtle.ConstantTimeCompare(r.TokenHash, sum[:]) == 1 {
				found = string(k)
			}
			return nil
		})
	})
	return found, err
}

// OfficialCheck checks an id and token pair, as typed on the sign-in page.
func (s *Store) OfficialCheck(id, tok string) (bool, error) {
	got, err := s.OfficialByToken(tok)
	return err == nil && got != "" && got == id, err
}
