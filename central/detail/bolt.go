package detail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Buckets in central's bbolt file.
var (
	bucketTokens   = []byte("detail-tokens")   // sequence → token record (record.go)
	bucketAttempts = []byte("detail-attempts") // sequence → wrong tries and lock
	bucketShared   = []byte("detail-shared")   // caller's key → shared detail
	allBuckets     = [][]byte{bucketTokens, bucketAttempts, bucketShared}
)

// Buckets names the buckets the detail pages keep in central's bbolt file
// (for tools that read the file, such as the port to PostgreSQL):
// TokensBucket, whose sequence counts the tokens reserved and which holds
// the records of tokens issued one by one, AttemptsBucket the wrong tries
// and SharedBucket the shared details (ReadBolt reads them).
var (
	Buckets        = []string{string(bucketTokens), string(bucketAttempts), string(bucketShared)}
	TokensBucket   = string(bucketTokens)
	AttemptsBucket = string(bucketAttempts)
	SharedBucket   = string(bucketShared)
)

// Resolver answers, on bbolt, for the tokens a caller made with TokenFor
// from a secret it can derive again, so that it need not store a record
// per token: central's dispatcher keeps a million recipients' details in
// its own records already, and one write per delivery instead of two is
// most of a campaign's speed. Dates of birth are still checked, and tries
// counted and locked, by the Store.
type Resolver interface {
	// ResolveToken returns the record of token number seq whose secret
	// part is secret: the recipient's own fields, the key of the shared
	// detail (PutShared), their date of birth (YYYY-MM-DD), when the page
	// expires and their language. ok is false for a token it does not
	// know or whose secret does not match (compare in constant time); err
	// is a failure of the store.
	ResolveToken(tx *bbolt.Tx, seq uint64, secret [16]byte) (r Resolved, ok bool, err error)
}

// Bolt keeps the pages' data in db's buckets (Buckets), which it creates
// when missing; r, when not nil, answers for reserved tokens that have no
// record.
func Bolt(db *bbolt.DB, r Resolver) (Storage, error) {
	err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("detail store: %w", err)
	}
	return &boltStorage{db: db, r: r}, nil
}

// BoltTx is tx as a Writer, so that a caller issues tokens and stores
// shared details inside its own transaction on the bbolt file given to
// Bolt. It allocates nothing.
func BoltTx(tx *bbolt.Tx) Writer { return (*boltWriter)(tx) }

type boltStorage struct {
	db *bbolt.DB
	r  Resolver
}

var errNoBuckets = errors.New("detail store: the transaction's database has no detail buckets: use the db given to Bolt")

func (b *boltStorage) ViewDetails(f func(Tx) error) error {
	return b.db.View(func(tx *bbolt.Tx) error { return f(&boltTx{boltWriter: (*boltWriter)(tx), r: b.r}) })
}

func (b *boltStorage) UpdateDetails(f func(Tx) error) error {
	return b.db.Update(func(tx *bbolt.Tx) error { return f(&boltTx{boltWriter: (*boltWriter)(tx), r: b.r}) })
}

// boltKey is the key of token number seq: its seqLen bytes, big endian.
func boltKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[8-seqLen:]
}

// boltWriter is a bbolt transaction as a Writer.
type boltWriter bbolt.Tx

func (w *boltWriter) tx() *bbolt.Tx { return (*bbolt.Tx)(w) }

func (w *boltWriter) ReserveTokens(n uint64) (uint64, error) {
	b := w.tx().Bucket(bucketTokens)
	if b == nil {
		return 0, errNoBuckets
	}
	base := b.Sequence()
	if base+n > maxSeq {
		// Checked here too, so that the sequence never passes it.
		return 0, fmt.Errorf("detail token sequence exhausted (%d issued)", base)
	}
	return base, b.SetSequence(base + n)
}

func (w *boltWriter) PutRecord(seq uint64, _ time.Time, record []byte) error {
	b := w.tx().Bucket(bucketTokens)
	if b == nil {
		return errNoBuckets
	}
	// Records are never rewritten and keys only grow: full pages.
	b.FillPercent = 1
	return b.Put(boltKey(seq), record) // bbolt keeps key and value until commit: both are the caller's to give
}

func (w *boltWriter) Shared(key string) (time.Time, []byte, error) {
	b := w.tx().Bucket(bucketShared)
	if b == nil {
		return time.Time{}, nil, errNoBuckets
	}
	v := b.Get([]byte(key))
	if len(v) < sharedHeaderLen {
		return time.Time{}, nil, nil
	}
	return time.Unix(int64(binary.BigEndian.Uint64(v)), 0), v[sharedHeaderLen:], nil
}

func (w *boltWriter) PutShared(key string, expires time.Time, detail []byte) error {
	b := w.tx().Bucket(bucketShared)
	if b == nil {
		return errNoBuckets
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, sharedHeaderLen+len(detail)), uint64(expires.Unix()))
	return b.Put([]byte(key), append(v, detail...))
}

// boltTx is a transaction of boltStorage.
type boltTx struct {
	*boltWriter
	r Resolver
}

func (t *boltTx) Record(seq uint64) ([]byte, error) {
	b := t.tx().Bucket(bucketTokens)
	if b == nil {
		return nil, errNoBuckets
	}
	return b.Get(boltKey(seq)), nil
}

func (t *boltTx) Resolve(seq uint64, secret [16]byte) (Resolved, bool, error) {
	if t.r == nil {
		return Resolved{}, false, nil
	}
	return t.r.ResolveToken(t.tx(), seq, secret)
}

func (t *boltTx) Attempts(seq uint64) (Attempts, bool, error) {
	b := t.tx().Bucket(bucketAttempts)
	if b == nil {
		return Attempts{}, false, errNoBuckets
	}
	a, ok := decodeAttempts(b.Get(boltKey(seq)))
	return a, ok, nil
}

// decodeAttempts reads a try counter (record.go); ok is false for one
// damaged or missing.
func decodeAttempts(v []byte) (a Attempts, ok bool) {
	if len(v) != attemptsLen {
		return Attempts{}, false
	}
	a.Failures = int(v[0])
	if u := int64(binary.BigEndian.Uint64(v[1:])); u != 0 {
		a.LockedUntil = time.Unix(u, 0)
	}
	return a, true
}

// PutAttempts keeps no expiry: the counters of tokens with a record go
// with the record (PurgeDetails); those of resolved tokens are kept.
func (t *boltTx) PutAttempts(seq uint64, a Attempts, _ time.Time) error {
	b := t.tx().Bucket(bucketAttempts)
	if b == nil {
		return errNoBuckets
	}
	v := make([]byte, attemptsLen)
	v[0] = byte(a.Failures)
	if !a.LockedUntil.IsZero() {
		binary.BigEndian.PutUint64(v[1:], uint64(a.LockedUntil.Unix()))
	}
	return b.Put(boltKey(seq), v)
}

func (t *boltTx) DeleteAttempts(seq uint64) error {
	b := t.tx().Bucket(bucketAttempts)
	if b == nil {
		return errNoBuckets
	}
	return b.Delete(boltKey(seq))
}

// purgeBatch bounds the records one PurgeDetails transaction scans, so
// that the dispatcher's transactions do not wait long for the write lock.
var purgeBatch = 50000

func (b *boltStorage) PurgeDetails(now time.Time) (int, error) {
	total := 0
	var from []byte
	for {
		var next []byte
		err := b.db.Update(func(tx *bbolt.Tx) error {
			b, att := tx.Bucket(bucketTokens), tx.Bucket(bucketAttempts)
			if b == nil {
				return errNoBuckets
			}
			c := b.Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			var dead [][]byte
			for n := 0; k != nil; k, v = c.Next() {
				if n == purgeBatch {
					next = bytes.Clone(k)
					break
				}
				n++
				if len(v) < headerLen || !now.Before(expiresOf(v)) {
					dead = append(dead, bytes.Clone(k))
				}
			}
			// Deleting under a live cursor can skip keys: delete after.
			for _, k := range dead {
				if err := b.Delete(k); err != nil {
					return err
				}
				if err := att.Delete(k); err != nil {
					return err
				}
			}
			total += len(dead)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("purge detail tokens: %w", err)
		}
		if next == nil {
			break
		}
		from = next
	}
	err := b.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketShared)
		var dead [][]byte
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) < sharedHeaderLen || !now.Before(time.Unix(int64(binary.BigEndian.Uint64(v)), 0)) {
				dead = append(dead, bytes.Clone(k))
			}
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("purge shared details: %w", err)
	}
	return total, nil
}

// BoltContents takes what Bolt keeps, as a Storage is given it, for a copy
// to another Storage (central/bolt's Reader, for the port to PostgreSQL):
// the shared details and the try counters (the records of tokens issued
// one by one are not read). Each func may be nil; a damaged entry is
// left, as the Store ignores it.
type BoltContents struct {
	Shared func(key string, expires time.Time, detail []byte) error
	// Attempts: expires is the token's when it has a record; zero for a
	// token without one (Resolver), whose expiry only its caller knows.
	Attempts func(seq uint64, a Attempts, expires time.Time) error
}

// ReadBolt reads what Bolt keeps in tx's file into c. The slices given
// are valid until tx ends.
func ReadBolt(tx *bbolt.Tx, c BoltContents) error {
	seqOf := func(k []byte) (uint64, bool) {
		if len(k) != seqLen {
			return 0, false
		}
		var b [8]byte
		copy(b[8-seqLen:], k)
		return binary.BigEndian.Uint64(b[:]), true
	}
	if b := tx.Bucket(bucketShared); b != nil && c.Shared != nil {
		if err := b.ForEach(func(k, v []byte) error {
			if len(v) < sharedHeaderLen {
				return nil
			}
			return c.Shared(string(k), time.Unix(int64(binary.BigEndian.Uint64(v)), 0), v[sharedHeaderLen:])
		}); err != nil {
			return err
		}
	}
	tokens := tx.Bucket(bucketTokens)
	if b := tx.Bucket(bucketAttempts); b != nil && c.Attempts != nil {
		return b.ForEach(func(k, v []byte) error {
			seq, ok := seqOf(k)
			a, valid := decodeAttempts(v)
			if !ok || !valid {
				return nil
			}
			var expires time.Time
			if tokens != nil {
				if r := tokens.Get(k); len(r) >= headerLen {
					expires = expiresOf(r)
				}
			}
			return c.Attempts(seq, a, expires)
		})
	}
	return nil
}
