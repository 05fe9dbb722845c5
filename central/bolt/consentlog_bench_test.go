package bolt

import (
	"bytes"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/keyring"
	"allimi/central/record"
)

// BenchmarkMigratePII_100k rewrites a consent log of 100,000 raw payloads
// (with new-benefits conditions, as earlier builds kept them) and reports
// the peak live heap (as of each collection), in one transaction and in
// batches of migrationBatch: the batches are what keep the rewrite's
// memory from growing with the registry. The compaction after it is
// bbolt.Compact's, in transactions of 64 MiB, as `central compact` does.
func BenchmarkMigratePII_100k(b *testing.B) {
	const people = 100_000
	for _, batch := range []int{people, migrationBatch} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			defer func(n int) { migrationBatch = n }(migrationBatch)
			migrationBatch = batch
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := b.TempDir()
				keys, err := keyring.Load(dir)
				if err != nil {
					b.Fatal(err)
				}
				path := filepath.Join(dir, DBFile)
				writeOldConsentLog(b, path, people)
				runtime.GC()
				peak := watchHeap()
				b.StartTimer()
				db, err := bbolt.Open(path, 0o600, nil)
				if err != nil {
					b.Fatal(err)
				}
				n, err := migratePIISteps(db, keys)
				if err != nil || n.entries != people {
					b.Fatalf("migrated %d of %d: %v", n.entries, people, err)
				}
				b.StopTimer()
				db.Close()
				b.ReportMetric(float64(peak())/(1<<20), "peak-live-heap-MiB")
			}
		})
	}
}

// writeOldConsentLog writes a database whose consent log holds n raw
// payloads, as earlier builds wrote them, without the format marker.
func writeOldConsentLog(b *testing.B, path string, n int) {
	b.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	payload := []byte(`{"consents":[{"type":"new-benefits","channel":"kakao","action":"grant","by":{"kind":"self"},"at":"2024-03-01T09:00:00Z"}],` +
		`"verified":true,"profile":{"birthDate":"1950-01-02","sex":"F","income":"JA0202","traits":["JA0328"],"household":["JA0402"]},"region":"전남/순천시"}`)
	for start := 0; start < n; start += 10000 {
		err := db.Update(func(tx *bbolt.Tx) error {
			for _, name := range [][]byte{bucketMeta, bucketConsentLog} {
				if _, err := tx.CreateBucketIfNotExists(name); err != nil {
					return err
				}
			}
			log := tx.Bucket(bucketConsentLog)
			for i := start; i < min(start+10000, n); i++ {
				ck := bytes.Repeat([]byte{byte(i), byte(i >> 8), byte(i >> 16), 7}, 8)
				k := bytes.Join([][]byte{ck, u64(allimi.NextHLC(0, time.Unix(int64(i), 0))), record.Key("k1", uint64(i+1))}, nil)
				if err := log.Put(k, payload); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// watchHeap samples the live heap (as the last collection found it) until
// the returned function is called, which stops the sampler and returns
// the peak.
func watchHeap() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}
