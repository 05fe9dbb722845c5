package pg

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"

	"allimi"
)

// linkKey is the key of detail links' secrets, derived from central's
// hash key as central/bolt derives it: the same keys give the same links
// on either store.
func linkKey(hashKey []byte) []byte {
	mac := hmac.New(sha256.New, hashKey)
	mac.Write([]byte("allimi detail link"))
	return mac.Sum(nil)
}

// linkSecret is recipient seq of notification id's link secret.
func linkSecret(key []byte, id uint64, seq uint32) [16]byte {
	m := hmac.New(sha256.New, key)
	var b [12]byte
	binary.BigEndian.PutUint64(b[:], id)
	binary.BigEndian.PutUint32(b[8:], seq)
	m.Write(b[:])
	var secret [16]byte
	copy(secret[:], m.Sum(nil))
	return secret
}

// DetailLink implements allimi.DeliveryQueue: the link of the page of
// the recipient (its notification and number), one for all its channels
// and every resend, its secret keyed as central/bolt keys it (the same
// keys give the same links). Without detail pages (OpenDetails) it is a
// path, as central/bolt's is without them; empty when the store has no
// keys.
func (s *Store) DetailLink(ref allimi.DeliveryRef, token uint64) string {
	if s.keys == nil {
		return ""
	}
	secret := linkSecret(s.linkKey, ref.Notification, ref.Seq)
	if s.details != nil {
		_, link := s.details.TokenFor(token, secret)
		return link
	}
	return "/n/" + base64.RawURLEncoding.EncodeToString(secret[:])
}
