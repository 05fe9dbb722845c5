package bolt

import (
	"testing"

	"allimi/central/record"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

// A sign-up prepared before its transaction (as the ingest does when the
// record arrives) is stored exactly as one Commit prepares itself: the same
// person's key, personal data that opens, its consent log entry, receipt
// and audit line.
func TestStore_PreparedSignupIsStoredAsAnUnpreparedOne(t *testing.T) {
	for name, prepare := range map[string]bool{"prepared on arrival": true, "prepared by Commit": false} {
		t.Run(name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{})
			e := storeGrant(t, "k1", 1, storeT0)
			p, err := e.Consents()
			require.NoError(t, err)
			in := allimi.Incoming{Kiosk: "k1", Event: &e, Consents: &p}
			if prepare {
				f.st.Prepare(&in)
				require.IsType(t, &record.Prepared{}, in.Prepared)
				require.NotNil(t, in.Prepared.(*record.Prepared).PII, "a sign-up's personal data is sealed ahead")
			}
			out, err := f.st.Commit([]allimi.Incoming{in})
			require.NoError(t, err)
			require.Equal(t, 1, out.Stored)

			ck := f.keys.CitizenKey(storeKim.Mobile, storeKim.BirthDate)
			require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
				cit, err := f.st.citizen(tx, ck)
				require.NoError(t, err)
				assert.Equal(t, storeKim, cit)
				n := 0
				c := tx.Bucket(bucketConsentLog).Cursor()
				for k, _ := c.Seek(ck); k != nil && string(k[:len(ck)]) == string(ck); k, _ = c.Next() {
					n++
				}
				assert.Equal(t, 1, n, "one consent log entry")
				return nil
			}))
			action, found, err := f.st.ConsentOf(storeKim.Mobile, storeKim.BirthDate, allimi.TypeHealthCheckup, allimi.ChannelKakao)
			require.NoError(t, err)
			assert.True(t, found)
			assert.Equal(t, allimi.ActionGrant, action)
			view, err := f.st.Receipt(allimi.ReceiptCode("k1", 1), storeKim.BirthDate)
			require.NoError(t, err)
			assert.Equal(t, "k1", view.Kiosk)
			entries := auditEntries(t, f)
			require.Len(t, entries, 1)
			assert.Equal(t, f.st.pseudonym(ck), entries[0].Person)
			assert.Equal(t, "k1/1", entries[0].By)
			_, err = f.st.VerifyAudit()
			require.NoError(t, err)
		})
	}
}
