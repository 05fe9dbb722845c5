package throttle

import (
	"bytes"
	"encoding/binary"
	"errors"

	"go.etcd.io/bbolt"
)

// ID names what a count is of, without naming it: its scope ('k' for a
// key, 'c' for a client) and the first 16 bytes of HMAC-SHA256 of the key
// or client under Options.Secret.
type ID [idLen]byte

// Count is one key's or client's failures (or uses) as a Limiter keeps
// them: how many in the window, when the window began, and until when it
// is locked (0: not locked), in Unix nanoseconds.
type Count struct {
	ID    ID
	N     uint32
	Since int64
	Until int64
}

// Storage keeps Limiters' counts, by Limiter name, so that a restart of
// central unlocks nothing. SaveCounts writes through before it returns.
type Storage interface {
	// LoadCounts returns every count kept for name.
	LoadCounts(name string) ([]Count, error)
	// SaveCounts puts counts and deletes those of del, for name, at once.
	SaveCounts(name string, put []Count, del []ID) error
}

// Bucket is the bbolt bucket Bolt keeps every Limiter's counts in (see the
// package comment for its keys).
var Bucket = []byte("throttle")

const valueLen = 4 + 8 + 8

// Bolt keeps counts in db's Bucket, which it creates when missing.
func Bolt(db *bbolt.DB) Storage { return boltStorage{db} }

type boltStorage struct{ db *bbolt.DB }

func boltKey(name string, i ID) []byte { return append(append([]byte(name), 0), i[:]...) }

func (b boltStorage) LoadCounts(name string) ([]Count, error) {
	prefix := append([]byte(name), 0)
	var out []Count
	err := b.db.Update(func(tx *bbolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(Bucket)
		if err != nil {
			return err
		}
		var damaged [][]byte
		c := bk.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(k) != len(prefix)+idLen || len(v) != valueLen {
				damaged = append(damaged, bytes.Clone(k))
				continue
			}
			var e Count
			copy(e.ID[:], k[len(prefix):])
			e.N, e.Since, e.Until = binary.BigEndian.Uint32(v), int64(binary.BigEndian.Uint64(v[4:])), int64(binary.BigEndian.Uint64(v[12:]))
			out = append(out, e)
		}
		for _, k := range damaged {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (b boltStorage) SaveCounts(name string, put []Count, del []ID) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		bk := tx.Bucket(Bucket)
		if bk == nil {
			return errors.New("no bucket")
		}
		for _, e := range put {
			// bbolt holds on to keys and values until the commit: each
			// gets its own.
			var v [valueLen]byte
			binary.BigEndian.PutUint32(v[:], e.N)
			binary.BigEndian.PutUint64(v[4:], uint64(e.Since))
			binary.BigEndian.PutUint64(v[12:], uint64(e.Until))
			if err := bk.Put(boltKey(name, e.ID), v[:]); err != nil {
				return err
			}
		}
		for _, i := range del {
			if err := bk.Delete(boltKey(name, i)); err != nil {
				return err
			}
		}
		return nil
	})
}
