package central

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"

	"go.etcd.io/bbolt"
)

// The receipts and question-codes buckets are keyed by a keyed hash of the
// code, not by the code: a code opens a question's answer with nothing
// else, and a sign-up with the date of birth, so a copy of central.db or a
// backup without keys.json must not list them. Earlier builds keyed them
// by the code itself; the format-2 migration rekeys them (rekeyCodes).

// codeIndexKey is the key of code in the receipts and question-codes
// buckets: HMAC-SHA256 under a key derived from keys.json's hash key.
func codeIndexKey(key []byte, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return m.Sum(nil)
}

// codeKey is codeIndexKey under this store's key.
func (s *Store) codeKey(code string) []byte { return codeIndexKey(s.codeIndex, code) }

// rekeyCodes moves the entries of the receipts and question-codes buckets
// that are keyed by a code (up to 14 bytes; a hash is 32) under the code's
// keyed hash, and returns how many it moved.
func rekeyCodes(tx *bbolt.Tx, key []byte) (int, error) {
	n := 0
	for _, name := range [][]byte{bucketReceipts, bucketQCodes} {
		b := tx.Bucket(name)
		if b == nil {
			continue
		}
		type entry struct{ k, v []byte }
		var plain []entry
		if err := b.ForEach(func(k, v []byte) error {
			if len(k) != sha256.Size {
				plain = append(plain, entry{append([]byte(nil), k...), append([]byte(nil), v...)})
			}
			return nil
		}); err != nil {
			return n, err
		}
		for _, e := range plain {
			hk := codeIndexKey(key, string(e.k))
			if b.Get(hk) == nil { // a code both old and new keeps what it opened first
				if err := b.Put(hk, e.v); err != nil {
					return n, fmt.Errorf("%s: %w", name, err)
				}
			}
			if err := b.Delete(e.k); err != nil {
				return n, fmt.Errorf("%s: %w", name, err)
			}
			n++
		}
	}
	return n, nil
}
