package bolt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/internal/loadgen"
)

// auditEntries reads the whole audit log.
func auditEntries(t *testing.T, f *storeFixture) []allimi.AuditEntry {
	t.Helper()
	var out []allimi.AuditEntry
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
			var e allimi.AuditEntry
			require.NoError(t, json.Unmarshal(v, &e))
			out = append(out, e)
			return nil
		})
	}))
	return out
}

// batchOfSignups is n distinct people signing up at kiosk k1.
func batchOfSignups(t *testing.T, n int) []allimi.Event {
	events := make([]allimi.Event, n)
	for i := range events {
		seq := uint64(i + 1)
		events[i] = storeFromDraft(t, "k1", seq, storeT0, loadgen.Signup("k1", seq, []allimi.Channel{allimi.ChannelSMS}, storeT0))
	}
	return events
}

func TestAudit_OneEntryPerCommittedBatchNamesEveryEvent(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	events := batchOfSignups(t, 3)
	out := f.commit(events...)
	require.Equal(t, 3, out.Stored)

	r, err := f.st.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, 1, r.Entries, "one entry for the batch")
	entries := auditEntries(t, f)
	require.Len(t, entries, 1)
	e := entries[0]
	assert.Equal(t, allimi.AuditConsent, e.Kind)
	require.Len(t, e.Items, 3)
	people := map[string]bool{}
	for i, it := range e.Items {
		assert.Equal(t, "k1/"+string(rune('1'+i)), it.By)
		assert.Contains(t, it.What, "grant health-checkup sms")
		assert.NotEmpty(t, it.Person)
		people[it.Person] = true
		for _, ev := range events {
			for _, secret := range []string{ev.Citizen.Name, ev.Citizen.Mobile, ev.Citizen.BirthDate} {
				assert.NotContains(t, it.Person+it.What+it.By, secret, "no personal data in the log")
			}
		}
	}
	assert.Len(t, people, 3, "one pseudonym per person")
	assert.Equal(t, r.Head, e.Hash)

	// A later single change and a resolution chain on after the batch entry.
	f.commit(storeGrant(t, "k2", 1, storeT0))
	r, err = f.st.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, 2, r.Entries)
	entries = auditEntries(t, f)
	assert.Equal(t, entries[0].Hash, entries[1].Prev)
	assert.Empty(t, entries[1].Items, "a batch of one is written as an entry of its own")
	assert.Equal(t, "k2/1", entries[1].By)
}

func TestAudit_VerifyFindsAChangedItemOfABatch(t *testing.T) {
	for name, tamper := range map[string]func(e *allimi.AuditEntry){
		"item changed": func(e *allimi.AuditEntry) { e.Items[1].What = strings.Replace(e.Items[1].What, "grant", "withdraw", 1) },
		"item removed": func(e *allimi.AuditEntry) { e.Items = append(e.Items[:1], e.Items[2:]...) },
		"item added": func(e *allimi.AuditEntry) {
			e.Items = append(e.Items, allimi.AuditItem{By: "k1/99", What: "grant relief sms"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{})
			f.commit(batchOfSignups(t, 3)...)
			require.NoError(t, f.st.db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket(bucketAudit)
				k := binary.BigEndian.AppendUint64(nil, 1)
				var e allimi.AuditEntry
				require.NoError(t, json.Unmarshal(b.Get(k), &e))
				tamper(&e)
				v, _ := json.Marshal(e)
				return b.Put(k, v)
			}))
			r, err := f.st.VerifyAudit()
			require.ErrorIs(t, err, allimi.ErrAuditBroken)
			assert.EqualValues(t, 1, r.Broken)
			assert.Equal(t, "changed after it was written", r.Reason)
		})
	}
}

// An audit log written before batches were audited as one entry (one entry
// per event, no items) still verifies, and new entries chain onto it.
func TestAudit_ChainWrittenBeforeBatchEntriesStillVerifies(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	// The entry exactly as earlier builds wrote it: this struct is the
	// AuditEntry of those builds, and the hash their digest.
	type oldEntry struct {
		Seq    uint64    `json:"seq"`
		At     time.Time `json:"at"`
		Kind   string    `json:"kind"`
		Person string    `json:"person,omitempty"`
		By     string    `json:"by,omitempty"`
		What   string    `json:"what,omitempty"`
		Prev   string    `json:"prev"`
		Hash   string    `json:"hash"`
	}
	prev := ""
	require.NoError(t, f.st.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		for i, by := range []string{"k0/1", "k0/2"} {
			seq, err := b.NextSequence()
			require.NoError(t, err)
			e := oldEntry{Seq: seq, At: storeT0.Add(time.Duration(i) * time.Second).UTC(), Kind: allimi.AuditConsent,
				Person: "p" + by, By: by, What: "grant relief kakao", Prev: prev}
			plain, err := json.Marshal(e)
			require.NoError(t, err)
			h := sha256.New()
			h.Write([]byte(e.Prev))
			h.Write(plain)
			e.Hash = hex.EncodeToString(h.Sum(nil))
			v, err := json.Marshal(e)
			require.NoError(t, err)
			require.NoError(t, b.Put(binary.BigEndian.AppendUint64(nil, seq), v))
			prev = e.Hash
		}
		return tx.Bucket(bucketMeta).Put(keyAuditHead, []byte(prev))
	}))

	f.commit(batchOfSignups(t, 2)...)
	r, err := f.st.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, 3, r.Entries)
	entries := auditEntries(t, f)
	require.Len(t, entries, 3)
	assert.Equal(t, prev, entries[2].Prev, "the batch entry follows the old chain")
	assert.Len(t, entries[2].Items, 2)
}
