package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"allimi/internal/loadgen"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
)

// subsFromConsents is the subs index as the consents and the citizens'
// records say it should be, built from scratch: key → mask | sealed PII.
func subsFromConsents(t *testing.T, tx *bbolt.Tx) map[string][]byte {
	t.Helper()
	masks := map[string]byte{}
	require.NoError(t, tx.Bucket(bucketConsents).ForEach(func(k, v []byte) error {
		ck, rest := k[:32], k[32:]
		typ, ch, ok := bytes.Cut(rest, []byte{0})
		require.True(t, ok)
		st, err := decodeConsentState(v)
		require.NoError(t, err)
		if st.Action == allimi.ActionGrant {
			masks[string(subsKey(allimi.NotificationType(typ), ck))] |= allimi.ChannelBit(allimi.Channel(ch))
		}
		return nil
	}))
	out := map[string][]byte{}
	for k, m := range masks {
		ck := []byte(k[len(k)-32:])
		rec, err := decodeCitizenRecord(tx.Bucket(bucketCitizens).Get(ck))
		require.NoError(t, err)
		out[k] = append([]byte{m}, rec.PII...)
	}
	return out
}

// subsIndex is the subs bucket as stored.
func subsIndex(t *testing.T, tx *bbolt.Tx) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, tx.Bucket(bucketSubs).ForEach(func(k, v []byte) error {
		out[string(k)] = bytes.Clone(v)
		return nil
	}))
	return out
}

// synthetic is record n of kiosk as a kiosk-sim sign-up on channels.
func synthetic(t *testing.T, kiosk string, n uint64, channels ...allimi.Channel) allimi.Event {
	return storeFromDraft(t, kiosk, n, storeT0.Add(time.Duration(n)*time.Second), loadgen.Signup(kiosk, n, channels, storeT0))
}

func TestSubsFold_ACampaignCreatedWhileFoldsPendSeesEveryone(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	for b := 0; b < 3; b++ {
		var batch []allimi.Event
		for i := 1; i <= 10; i++ {
			batch = append(batch, synthetic(t, "k1", uint64(b*10+i), allimi.ChannelKakao))
		}
		f.commit(batch...)
	}
	// One of them withdraws from health-checkup: the campaign must not reach them.
	quitter := synthetic(t, "k1", 7, allimi.ChannelKakao).Citizen
	f.commit(storeEvent(t, "k1", 31, storeT0.Add(time.Hour), allimi.KindConsent, quitter,
		storeConsent(allimi.ActionWithdraw, storeT0.Add(time.Hour))))
	require.Positive(t, f.st.SubsPending(), "nothing folded yet")
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		assert.Zero(t, tx.Bucket(bucketSubs).Stats().KeyN, "the index is behind")
		return nil
	}))

	req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2026"}}
	req.Audience.All = true
	n, _, err := f.st.CreateNotification("nhis", "", req)
	require.NoError(t, err)
	n, err = f.st.ExpandCampaign(n.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 29, n.Recipients, "everyone committed, and not who withdrew")
	assert.Zero(t, f.st.SubsPending())

	// A listed notice folds first too.
	f.commit(synthetic(t, "k1", 32, allimi.ChannelKakao), synthetic(t, "k1", 33, allimi.ChannelSMS))
	listed := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2026"}}
	for _, seq := range []uint64{32, 33, 7} {
		c := synthetic(t, "k1", seq, allimi.ChannelKakao).Citizen
		listed.Audience.Citizens = append(listed.Audience.Citizens, allimi.RecipientRequest{Mobile: c.Mobile, BirthDate: c.BirthDate})
	}
	n, _, err = f.st.CreateNotification("nhis", "", listed)
	require.NoError(t, err)
	assert.EqualValues(t, 2, n.Recipients)
	assert.EqualValues(t, 1, n.NotSubscribed)
	assert.EqualValues(t, 1, n.PerChannel[allimi.ChannelKakao])
	assert.EqualValues(t, 1, n.PerChannel[allimi.ChannelSMS])
}

func TestSubsFold_ACrashBetweenCommitAndFoldLosesNothing(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	var batch []allimi.Event
	for i := uint64(1); i <= 20; i++ {
		batch = append(batch, synthetic(t, "k1", i, allimi.ChannelKakao, allimi.ChannelSMS))
	}
	f.commit(batch...)
	// The process dies before any fold.
	f.close()
	f.open(StoreOptions{})
	assert.EqualValues(t, 20, f.st.SubsPending(), "the pending log survived")

	// A fold that fails half way (its transaction rolled back) leaves it all.
	boom := errors.New("power cut")
	err := f.st.db.Update(func(tx *bbolt.Tx) error {
		_, err := f.st.foldSubs(tx)
		require.NoError(t, err)
		return boom
	})
	require.ErrorIs(t, err, boom)
	f.close()
	f.open(StoreOptions{})
	assert.EqualValues(t, 20, f.st.SubsPending())

	require.NoError(t, f.st.FoldSubs())
	assert.Zero(t, f.st.SubsPending())
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		want := subsFromConsents(t, tx)
		assert.Len(t, want, 20*len(allimi.Types()))
		assert.Equal(t, want, subsIndex(t, tx))
		assert.Zero(t, tx.Bucket(bucketSubsPending).Stats().KeyN)
		return nil
	}))
	// A second fold finds nothing to do and changes nothing.
	require.NoError(t, f.st.FoldSubs())
}

// TestSubsFold_TheIndexIsWhatTheConsentsSay runs random histories of
// sign-ups, renames, grants, withdrawals from several kiosks (conflicts
// among them) and officials' resolutions, folding at random moments, and
// checks the index and the readers' view of it against the consents.
func TestSubsFold_TheIndexIsWhatTheConsentsSay(t *testing.T) {
	for round := range 4 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(round), 15))
			f := newStoreFixture(t, StoreOptions{})
			people := []allimi.Citizen{storeKim, storeLee,
				{Name: "박순자", Mobile: "010-2222-3333", BirthDate: "1940-05-06"},
				{Name: "최영호", Mobile: "010-4444-5555", BirthDate: "1939-07-08"}}
			types := []allimi.NotificationType{allimi.TypeHealthCheckup, allimi.TypeTrafficFine, allimi.TypeNewBenefits}
			channels := []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}
			seqs := map[string]uint64{}
			at := storeT0
			for step := 0; step < 40; step++ {
				var batch []allimi.Event
				for range 1 + rng.IntN(6) {
					kiosk := []string{"k1", "k2"}[rng.IntN(2)]
					seqs[kiosk]++
					at = at.Add(time.Duration(rng.IntN(90)) * time.Minute) // sometimes within the conflict window
					c := people[rng.IntN(len(people))]
					kind := allimi.KindConsent
					if rng.IntN(3) == 0 {
						kind = allimi.KindSignup
						c.Name = []string{"김영희", "김철수", "이순신"}[rng.IntN(3)]
					}
					var cs []allimi.Consent
					for range 1 + rng.IntN(3) {
						action := allimi.ActionGrant
						if rng.IntN(3) == 0 {
							action = allimi.ActionWithdraw
						}
						cs = append(cs, allimi.Consent{Type: types[rng.IntN(len(types))], Channel: channels[rng.IntN(len(channels))],
							Action: action, By: allimi.Actor{Kind: allimi.ActorSelf}, At: at})
					}
					batch = append(batch, storeEvent(t, kiosk, seqs[kiosk], at, kind, c, cs...))
				}
				f.commit(batch...)
				switch rng.IntN(4) {
				case 0:
					require.NoError(t, f.st.FoldSubs())
				case 1:
					for _, c := range f.Conflicts(false) {
						require.NoError(t, f.st.ResolveConflict(c.ID, []allimi.ConsentAction{allimi.ActionGrant, allimi.ActionWithdraw}[rng.IntN(2)], "official"))
					}
				}
				// Whatever is pending, a reader sees the consents.
				require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
					want := subsFromConsents(t, tx)
					for _, typ := range types {
						got := map[string][]byte{}
						require.NoError(t, f.st.eachSubscriber(tx, typ, func(ck, v []byte) error {
							got[string(subsKey(typ, ck))] = bytes.Clone(v)
							return nil
						}))
						for k, v := range want {
							if bytes.HasPrefix([]byte(k), []byte(string(typ)+"\x00")) {
								assert.Equal(t, v[0], got[k][0], "step %d %s: mask", step, typ)
								assertSamePerson(t, f, []byte(k[len(k)-32:]), v[1:], got[k][1:])
								delete(got, k)
							}
						}
						assert.Empty(t, got, "step %d %s: nobody else", step, typ)
					}
					return nil
				}))
			}
			require.NoError(t, f.st.FoldSubs())
			require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
				want, got := subsFromConsents(t, tx), subsIndex(t, tx)
				require.Equal(t, len(want), len(got))
				for k, v := range want {
					require.Contains(t, got, k)
					assert.Equal(t, v[0], got[k][0])
					assertSamePerson(t, f, []byte(k[len(k)-32:]), v[1:], got[k][1:])
				}
				return nil
			}))
		})
	}
}

// assertSamePerson checks that two sealed PII values hold the same person
// (an entry refreshed in the commit and one folded later are sealed apart).
func assertSamePerson(t *testing.T, f *storeFixture, ck, a, b []byte) {
	t.Helper()
	ca, err := f.st.openPII(ck, a)
	require.NoError(t, err)
	cb, err := f.st.openPII(ck, b)
	require.NoError(t, err)
	assert.Equal(t, ca, cb)
}

func TestSubsFold_AProfileIsKeptBeforeItsGrantIsFolded(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	p := allimi.ConsentPayload{Consents: []allimi.Consent{{Type: allimi.TypeNewBenefits, Channel: allimi.ChannelKakao,
		Action: allimi.ActionGrant, By: allimi.Actor{Kind: allimi.ActorSelf}, At: storeT0}},
		Profile: json.RawMessage(`{"birthDate":"1950-01-02"}`)}
	payload, err := json.Marshal(p)
	require.NoError(t, err)
	e := allimi.Event{V: allimi.EventVersion, Kiosk: "k1", Seq: 1, HLC: allimi.NextHLC(0, storeT0),
		Kind: allimi.KindSignup, Citizen: storeKim, Payload: payload}
	require.NoError(t, e.Validate(storeNow))
	f.commit(e)
	require.Positive(t, f.st.SubsPending())
	require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
		assert.NotNil(t, tx.Bucket(bucketProfiles).Get(f.keys.CitizenKey(storeKim.Mobile, storeKim.BirthDate)))
		return nil
	}))
}

func TestCommit_ReceiptCodesAreCheckedWithinTheBatch(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	withCode := func(e allimi.Event, code string) allimi.Event {
		var p allimi.ConsentPayload
		require.NoError(t, json.Unmarshal(e.Payload, &p))
		p.Receipt = code
		b, err := json.Marshal(p)
		require.NoError(t, err)
		e.Payload = b
		return e
	}
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	kim := withCode(storeGrant(t, "k1", 1, storeT0), code)
	lee := withCode(storeEvent(t, "k2", 1, storeT0, allimi.KindSignup, storeLee, storeConsent(allimi.ActionGrant, storeT0)), code)
	qs := questionEvents(t, "k3", 1, code, allimi.ReplyAtKiosk, testPCM(100))
	out := f.commit(append([]allimi.Event{kim, lee}, qs...)...)
	assert.Equal(t, 2+len(qs), out.Stored, "every record is kept")

	view, err := f.st.Receipt(code, storeKim.BirthDate)
	require.NoError(t, err, "the first sign-up of the batch keeps the code")
	assert.Equal(t, "k1", view.Kiosk)
	_, err = f.st.Receipt(code, storeLee.BirthDate)
	assert.ErrorIs(t, err, ErrReceiptWrongDOB)
	rej, err := f.st.Rejections(10)
	require.NoError(t, err)
	require.Len(t, rej, 1)
	assert.Contains(t, rej[0].Reason, "receipt code already names another sign-up")
	assert.True(t, f.onlyQuestion().CodeReused, "a question of the same batch cannot take a sign-up's code")

	n, err := f.st.ConfirmationsPending()
	require.NoError(t, err)
	assert.Equal(t, 2, n, "both unverified sign-ups are to be confirmed")
}
