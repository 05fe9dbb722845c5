package bolt

import (
	"crypto/hmac"
	"crypto/sha256"
)

// codeIndexKey is the key of code in the receipts and question-codes
// buckets: HMAC-SHA256 under a key derived from keys.json's hash key.
func codeIndexKey(key []byte, code string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(code))
	return m.Sum(nil)
}

// codeKey is codeIndexKey under this store's key.
func (s *Store) codeKey(code string) []byte { return codeIndexKey(s.codeIndex, code) }

// rekeyCode moves an entry of the receipts or question-codes buckets
// that is keyed by a code (up to 14 bytes; a hash is 32) under the code's
// keyed hash.
func rekeyCode(key []byte) func(k, v []byte) ([]byte, []byte, error) {
	return func(k, v []byte) ([]byte, []byte, error) {
		if len(k) == sha256.Size {
			return nil, nil, nil
		}
		return codeIndexKey(key, string(k)), append([]byte(nil), v...), nil
	}
}
