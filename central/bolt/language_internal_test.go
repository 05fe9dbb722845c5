package bolt

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

// TestLanguage_PeopleKeptByEarlierBuildsReadAsKorean: a person whose
// sealed data an earlier build wrote (the compact form of version 1, or
// JSON before it) has no language kept, which reads as empty (Korean);
// the rest of their data still reads, and a new sign-up gives them one.
func TestLanguage_PeopleKeptByEarlierBuildsReadAsKorean(t *testing.T) {
	for name, old := range map[string]func(allimi.Citizen) []byte{
		"version 1": encodePII,
		"JSON":      func(c allimi.Citizen) []byte { b, _ := json.Marshal(c); return b },
	} {
		t.Run(name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{})
			f.commit(storeGrant(t, "k1", 1, storeT0))
			ck := f.keys.CitizenKey(storeKim.Mobile, storeKim.BirthDate)
			require.NoError(t, f.st.db.Update(func(tx *bbolt.Tx) error {
				b := tx.Bucket(bucketCitizens)
				rec, err := decodeCitizenRecord(b.Get(ck))
				require.NoError(t, err)
				rec.PII = f.keys.Seal(old(storeKim), ck)
				return b.Put(ck, rec.encode())
			}))

			lang, found, err := f.st.LanguageOf(storeKim.Mobile, storeKim.BirthDate)
			require.NoError(t, err)
			assert.True(t, found)
			assert.Empty(t, lang)
			require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
				c, err := f.st.citizen(tx, ck)
				require.NoError(t, err)
				assert.Equal(t, storeKim, c)
				return nil
			}))

			e := storeGrant(t, "k1", 2, storeT0.Add(time.Minute))
			p, err := e.Consents()
			require.NoError(t, err)
			p.Lang = "ja"
			e.Payload, err = json.Marshal(p)
			require.NoError(t, err)
			require.NoError(t, e.Validate(storeNow))
			f.commit(e)
			lang, _, err = f.st.LanguageOf(storeKim.Mobile, storeKim.BirthDate)
			require.NoError(t, err)
			assert.Equal(t, "ja", lang)
		})
	}
}
