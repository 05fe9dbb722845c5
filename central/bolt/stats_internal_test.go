package bolt

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

// TestStats_PeopleCountedOnceFromAFileOfAnEarlierBuild: a file written
// before the people per channel were counted gets them from its consents
// when it is opened, once; changes after keep them.
func TestStats_PeopleCountedOnceFromAFileOfAnEarlierBuild(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	sms := storeConsent(allimi.ActionGrant, storeT0)
	sms.Channel = allimi.ChannelSMS
	vaccSMS := sms
	vaccSMS.Type = allimi.TypeVaccination
	f.commit(storeEvent(t, "k1", 1, storeT0, allimi.KindSignup, storeKim, storeConsent(allimi.ActionGrant, storeT0), sms, vaccSMS),
		storeEvent(t, "k1", 2, storeT0, allimi.KindSignup, storeLee, sms))
	want := map[allimi.Channel]int64{allimi.ChannelKakao: 1, allimi.ChannelNaver: 0, allimi.ChannelToss: 0, allimi.ChannelSMS: 2}
	got, err := f.st.ChannelSubscribers()
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// As an earlier build left it: no counters, not counted.
	require.NoError(t, f.st.db.Update(func(tx *bbolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		for _, ch := range allimi.Channels {
			if err := m.Delete(peopleKey(ch)); err != nil {
				return err
			}
		}
		return m.Delete(keyPeopleCounted)
	}))
	f.close()
	f.open(StoreOptions{})
	got, err = f.st.ChannelSubscribers()
	require.NoError(t, err)
	assert.Equal(t, want, got, "counted from the consents")

	f.commit(storeWithdraw(t, "k1", 3, storeT0.Add(1e9)))
	got, err = f.st.ChannelSubscribers()
	require.NoError(t, err)
	assert.Zero(t, got[allimi.ChannelKakao], "kim left kakao")
	assert.EqualValues(t, 2, got[allimi.ChannelSMS])
}
