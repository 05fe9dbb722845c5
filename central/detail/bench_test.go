package detail

import (
	"crypto/rand"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// benchDB opens a bbolt file as central opens its own.
func benchDB(b *testing.B) *bbolt.DB {
	b.Helper()
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "central.db"), 0o600, &bbolt.Options{
		Timeout: time.Second, InitialMmapSize: 1 << 30, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	return db
}

func benchStore(b *testing.B) (*bbolt.DB, *Store) {
	b.Helper()
	db := benchDB(b)
	st, err := NewStore(openBolt(b, db, nil), []byte(strings.Repeat("k", 32)), Options{BaseURL: "https://allimi.example.kr"})
	if err != nil {
		b.Fatal(err)
	}
	return db, st
}

const benchPerTx = 1000

// benchOwn is one recipient's own fields in a campaign using IssueRef.
var benchOwn = []Field{{"과태료", "40,000원"}, {"납부기한", "2026-12-31"}}

// BenchmarkIssue issues 1,000 tokens per transaction, as the dispatcher
// does; the figure is µs/token. The baselines, measured in the same run,
// are raw bbolt puts of values as long as IssueRef's records: with keys
// that grow, as Issue's do, and with random 16-byte keys, which is what
// using a plain random token as the key would cost.
func BenchmarkIssue(b *testing.B) {
	b.Run("Issue", func(b *testing.B) {
		db, st := benchStore(b)
		d := penalty()
		d.Expires = time.Now().Add(30 * 24 * time.Hour)
		benchTx(b, db, func(tx *bbolt.Tx) error {
			_, _, err := st.Issue(BoltTx(tx), d, kimBirth)
			return err
		})
	})
	b.Run("IssueRef", func(b *testing.B) {
		db, st := benchStore(b)
		d := penalty()
		d.Fields = nil
		d.Expires = time.Now().Add(30 * 24 * time.Hour)
		if err := db.Update(func(tx *bbolt.Tx) error { return st.PutShared(BoltTx(tx), "n1", d) }); err != nil {
			b.Fatal(err)
		}
		benchTx(b, db, func(tx *bbolt.Tx) error {
			_, _, err := st.IssueRef(BoltTx(tx), "n1", benchOwn, kimBirth, time.Time{})
			return err
		})
	})
	size := refRecordLen(b)
	b.Run("baseline-bbolt-growing-keys", func(b *testing.B) {
		db := benchDB(b)
		benchTx(b, db, func(tx *bbolt.Tx) error {
			bk := tx.Bucket(bucketTokens)
			bk.FillPercent = 1
			seq, _ := bk.NextSequence()
			k := make([]byte, seqLen)
			binary.BigEndian.PutUint32(k[1:], uint32(seq))
			return bk.Put(k, make([]byte, size))
		})
	})
	b.Run("baseline-bbolt-random-keys", func(b *testing.B) {
		db := benchDB(b)
		benchTx(b, db, func(tx *bbolt.Tx) error {
			k := make([]byte, randLen)
			_, _ = rand.Read(k)
			return tx.Bucket(bucketTokens).Put(k, make([]byte, size))
		})
	})
}

// benchTx runs one transaction of benchPerTx calls of issue per iteration
// and reports µs and stored bytes per token.
func benchTx(b *testing.B, db *bbolt.DB, issue func(*bbolt.Tx) error) {
	b.Helper()
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketTokens)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		err := db.Update(func(tx *bbolt.Tx) error {
			for range benchPerTx {
				if err := issue(tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	tokens := float64(b.N * benchPerTx)
	b.ReportMetric(float64(elapsed.Microseconds())/tokens, "µs/token")
	b.ReportMetric(tokens/elapsed.Seconds(), "tokens/s")
	_ = db.View(func(tx *bbolt.Tx) error {
		st := tx.Bucket(bucketTokens).Stats()
		b.ReportMetric(float64(st.LeafInuse)/float64(st.KeyN), "B/token")
		return nil
	})
}

// refRecordLen is the length of the record IssueRef stores for benchOwn.
func refRecordLen(b *testing.B) int {
	db, st := benchStore(b)
	d := checkup()
	d.Expires = time.Now().Add(time.Hour)
	var n int
	err := db.Update(func(tx *bbolt.Tx) error {
		if err := st.PutShared(BoltTx(tx), "n1", d); err != nil {
			return err
		}
		if _, _, err := st.IssueRef(BoltTx(tx), "n1", benchOwn, kimBirth, time.Time{}); err != nil {
			return err
		}
		_, v := tx.Bucket(bucketTokens).Cursor().First()
		n = len(v)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}
