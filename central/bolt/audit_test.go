package bolt

import (
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

func TestAudit_ConsentChangesAndResolutionsAreChained(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f) // a grant from k1, a withdrawal from k2
	require.NoError(t, f.st.ResolveConflict(id, allimi.ActionGrant, "official-7"))

	r, err := f.st.VerifyAudit()
	require.NoError(t, err)
	assert.Equal(t, 3, r.Entries)
	var entries []allimi.AuditEntry
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketAudit).ForEach(func(_, v []byte) error {
			var e allimi.AuditEntry
			require.NoError(t, json.Unmarshal(v, &e))
			entries = append(entries, e)
			return nil
		})
	}))
	require.Len(t, entries, 3)
	assert.Equal(t, allimi.AuditConsent, entries[0].Kind)
	assert.Equal(t, "k1/1", entries[0].By)
	assert.Equal(t, "grant health-checkup kakao", entries[0].What)
	assert.Equal(t, allimi.AuditResolution, entries[2].Kind)
	assert.Equal(t, "official-7", entries[2].By)
	assert.Equal(t, entries[0].Person, entries[2].Person, "one pseudonym per person")
	for _, e := range entries {
		for _, secret := range []string{storeKim.Name, storeKim.Mobile, storeKim.BirthDate} {
			assert.NotContains(t, e.Person+e.What+e.By, secret, "no personal data in the log")
		}
	}
	assert.Equal(t, entries[0].Hash, entries[1].Prev)
	assert.Equal(t, r.Head, entries[2].Hash)
}

func TestAudit_VerifyFindsAChangedOrRemovedEntry(t *testing.T) {
	for name, tamper := range map[string]func(b *bbolt.Bucket){
		"changed": func(b *bbolt.Bucket) {
			v := b.Get(binary.BigEndian.AppendUint64(nil, 2))
			require.NoError(t, b.Put(binary.BigEndian.AppendUint64(nil, 2), []byte(strings.Replace(string(v), "withdraw", "grant", 1))))
		},
		"removed": func(b *bbolt.Bucket) { require.NoError(t, b.Delete(binary.BigEndian.AppendUint64(nil, 2))) },
		"last removed": func(b *bbolt.Bucket) {
			require.NoError(t, b.Delete(binary.BigEndian.AppendUint64(nil, 3)))
		},
		"rehashed alone": func(b *bbolt.Bucket) {
			// Rewriting an entry with a fresh hash still breaks the next link.
			k := binary.BigEndian.AppendUint64(nil, 2)
			var e allimi.AuditEntry
			require.NoError(t, json.Unmarshal(b.Get(k), &e))
			e.What = "nothing happened"
			e.Hash = e.Digest()
			v, _ := json.Marshal(e)
			require.NoError(t, b.Put(k, v))
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
			id := storeConflicted(t, f)
			require.NoError(t, f.st.ResolveConflict(id, allimi.ActionGrant, "official-7"))
			require.NoError(t, f.st.db.Update(func(tx *bbolt.Tx) error { tamper(tx.Bucket(bucketAudit)); return nil }))
			r, err := f.st.VerifyAudit()
			require.ErrorIs(t, err, allimi.ErrAuditBroken)
			assert.NotZero(t, r.Broken)
			assert.NotEmpty(t, r.Reason)
		})
	}
}
