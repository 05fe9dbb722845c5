package bolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/keyring"
	"allimi/internal/loadgen"
	"allimi/sync/catalog"
	"allimi/sync/outbox"
)

var (
	// storeT0 is when the kiosks' events in these tests happen.
	storeT0 = time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	// storeNow is central's clock: a day after the events.
	storeNow = storeT0.Add(24 * time.Hour)

	storeKim = allimi.Citizen{Name: "김철수", Mobile: "010-1234-5678", BirthDate: "1950-01-02"}
	storeLee = allimi.Citizen{Name: "이영희", Mobile: "010-9876-5432", BirthDate: "1948-11-30"}
)

// storeFixture is a central data directory with its keys and an open store.
type storeFixture struct {
	t    *testing.T
	dir  string
	path string
	keys *keyring.Keys
	st   *Store
}

func newStoreFixture(t *testing.T, opt StoreOptions) *storeFixture {
	t.Helper()
	f := &storeFixture{t: t, dir: t.TempDir()}
	f.path = filepath.Join(f.dir, DBFile)
	keys, err := keyring.Load(f.dir)
	require.NoError(t, err)
	f.keys = keys
	f.open(opt)
	t.Cleanup(func() {
		if f.st != nil {
			_ = f.st.Close()
		}
	})
	return f
}

func (f *storeFixture) open(opt StoreOptions) {
	f.t.Helper()
	st, err := OpenStore(f.path, f.keys, opt)
	require.NoError(f.t, err)
	st.now = func() time.Time { return storeNow }
	f.st = st
}

func (f *storeFixture) close() {
	f.t.Helper()
	require.NoError(f.t, f.st.Close())
	f.st = nil
}

// commit commits the events in one batch, as the ingest would after decoding them.
func (f *storeFixture) commit(events ...allimi.Event) allimi.CommitOutcome {
	f.t.Helper()
	batch := make([]allimi.Incoming, len(events))
	for i := range events {
		batch[i] = allimi.Incoming{Kiosk: events[i].Kiosk, Event: &events[i]}
	}
	out, err := f.st.Commit(batch)
	require.NoError(f.t, err)
	return out
}

func (f *storeFixture) stats() allimi.RegistryStats {
	f.t.Helper()
	s, err := f.st.Stats()
	require.NoError(f.t, err)
	return s
}

// Consent is Kim's current consent to health-checkup notices on KakaoTalk.
func (f *storeFixture) Consent() allimi.ConsentAction {
	f.t.Helper()
	a, found, err := f.st.ConsentOf(storeKim.Mobile, storeKim.BirthDate, allimi.TypeHealthCheckup, allimi.ChannelKakao)
	require.NoError(f.t, err)
	require.True(f.t, found, "Kim has a consent state")
	return a
}

func (f *storeFixture) Conflicts(all bool) []allimi.Conflict {
	f.t.Helper()
	cs, err := f.st.Conflicts(all)
	require.NoError(f.t, err)
	return cs
}

// storeEvent builds and validates an event, as a kiosk writes it at time at.
func storeEvent(t *testing.T, kiosk string, seq uint64, at time.Time, kind string, c allimi.Citizen, consents ...allimi.Consent) allimi.Event {
	t.Helper()
	payload, err := json.Marshal(allimi.ConsentPayload{Consents: consents})
	require.NoError(t, err)
	e := allimi.Event{V: allimi.EventVersion, Kiosk: kiosk, Seq: seq, HLC: allimi.NextHLC(0, at),
		Kind: kind, Citizen: c, Payload: payload}
	require.NoError(t, e.Validate(storeNow))
	return e
}

func storeConsent(action allimi.ConsentAction, at time.Time) allimi.Consent {
	return allimi.Consent{Type: allimi.TypeHealthCheckup, Channel: allimi.ChannelKakao, Action: action,
		By: allimi.Actor{Kind: allimi.ActorSelf}, At: at}
}

// storeGrant is Kim signing up at kiosk for health-checkup notices on KakaoTalk.
func storeGrant(t *testing.T, kiosk string, seq uint64, at time.Time) allimi.Event {
	return storeEvent(t, kiosk, seq, at, allimi.KindSignup, storeKim, storeConsent(allimi.ActionGrant, at))
}

// storeWithdraw is Kim withdrawing that consent at kiosk.
func storeWithdraw(t *testing.T, kiosk string, seq uint64, at time.Time) allimi.Event {
	return storeEvent(t, kiosk, seq, at, allimi.KindConsent, storeKim, storeConsent(allimi.ActionWithdraw, at))
}

func storeFromDraft(t *testing.T, kiosk string, seq uint64, at time.Time, d outbox.Draft) allimi.Event {
	return storeEvent(t, kiosk, seq, at, d.Kind, d.Citizen, d.Payload.(*allimi.ConsentPayload).Consents...)
}

func TestStore_CommitStoresANewEvent(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	out := f.commit(storeGrant(t, "k1", 1, storeT0))
	assert.Equal(t, allimi.CommitOutcome{Stored: 1, Confirmations: 1, HW: map[string]uint64{"k1": 1}}, out)

	st := f.stats()
	assert.EqualValues(t, 1, st.Records.Stored)
	assert.Zero(t, st.Records.Duplicates)
	assert.Zero(t, st.Records.Rejected)
	assert.EqualValues(t, 1, st.Subscribers)
	assert.Equal(t, map[string]uint64{"k1": 1}, st.Kiosks)
	assert.Equal(t, allimi.ActionGrant, f.Consent())
}

func TestStore_ConsentOfUnknownPersonNotFound(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	f.commit(storeGrant(t, "k1", 1, storeT0))
	_, found, err := f.st.ConsentOf(storeLee.Mobile, storeLee.BirthDate, allimi.TypeHealthCheckup, allimi.ChannelKakao)
	require.NoError(t, err)
	assert.False(t, found)
	_, found, err = f.st.ConsentOf(storeKim.Mobile, storeKim.BirthDate, allimi.TypeRelief, allimi.ChannelKakao)
	require.NoError(t, err)
	assert.False(t, found)
}

func TestStore_CommitRepeatIsADuplicateAndChangesNothingElse(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	f.commit(storeGrant(t, "k1", 1, storeT0))
	before := f.stats()

	// The same (kiosk, seq) again, even with other content, changes nothing.
	for i, e := range []allimi.Event{
		storeGrant(t, "k1", 1, storeT0),
		storeWithdraw(t, "k1", 1, storeT0.Add(time.Minute)),
	} {
		out := f.commit(e)
		assert.Equal(t, allimi.CommitOutcome{Duplicates: 1, HW: map[string]uint64{"k1": 1}}, out)

		after := f.stats()
		want := before
		want.Records.Duplicates = int64(i + 1)
		assert.Equal(t, want, after)
		assert.Equal(t, allimi.ActionGrant, f.Consent())
	}
}

func TestStore_CommitRepeatWithinOneBatchIsADuplicate(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	e := storeGrant(t, "k1", 1, storeT0)
	out := f.commit(e, e)
	assert.Equal(t, allimi.CommitOutcome{Stored: 1, Duplicates: 1, Confirmations: 1, HW: map[string]uint64{"k1": 1}}, out)
	st := f.stats()
	assert.EqualValues(t, 1, st.Records.Stored)
	assert.EqualValues(t, 1, st.Records.Duplicates)
	assert.EqualValues(t, 1, st.Subscribers)
}

// A new person's record that names one type and channel twice is decided
// the way it always was: the second sees the first (same kiosk, same
// clock: the first stands), and the grant is counted once.
func TestStore_NewPersonNamingAConsentTwiceCountsItOnce(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	grant, withdraw := storeConsent(allimi.ActionGrant, storeT0), storeConsent(allimi.ActionWithdraw, storeT0)
	f.commit(storeEvent(t, "k1", 1, storeT0, allimi.KindSignup, storeKim, grant, grant, withdraw))
	st := f.stats()
	assert.EqualValues(t, 1, st.Subscribers)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])
	assert.Equal(t, allimi.ActionGrant, f.Consent())

	// Lee, new too, with two consents: both counted.
	f.commit(storeEvent(t, "k1", 2, storeT0, allimi.KindSignup, storeLee, grant,
		allimi.Consent{Type: allimi.TypeRelief, Channel: allimi.ChannelSMS, Action: allimi.ActionGrant,
			By: allimi.Actor{Kind: allimi.ActorSelf}, At: storeT0}))
	st = f.stats()
	assert.EqualValues(t, 2, st.Subscribers)
	assert.EqualValues(t, 2, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeRelief)][string(allimi.ChannelSMS)])
}

func TestStore_SubscribersCountedPerDistinctCitizen(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})

	// The same mobile number and date of birth, written differently, at two kiosks.
	kim1 := storeKim
	kim1.Mobile = "01012345678"
	kim2 := storeKim
	kim2.Mobile = "010 1234 5678"
	f.commit(
		storeEvent(t, "k1", 1, storeT0, allimi.KindSignup, kim1, storeConsent(allimi.ActionGrant, storeT0)),
		storeEvent(t, "k2", 1, storeT0.Add(time.Hour), allimi.KindSignup, kim2,
			allimi.Consent{Type: allimi.TypeRelief, Channel: allimi.ChannelSMS, Action: allimi.ActionGrant,
				By: allimi.Actor{Kind: allimi.ActorSelf}, At: storeT0}),
	)
	assert.EqualValues(t, 1, f.stats().Subscribers, "one person, two events")

	// The same number with another date of birth is another person.
	other := storeKim
	other.BirthDate = "1951-01-02"
	f.commit(storeEvent(t, "k1", 2, storeT0, allimi.KindSignup, other, storeConsent(allimi.ActionGrant, storeT0)))
	assert.EqualValues(t, 2, f.stats().Subscribers)
}

func TestStore_HighWaterMarkWaitsForGaps(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	ev := func(seq uint64) allimi.Event {
		return storeFromDraft(t, "k1", seq, storeT0, loadgen.Signup("k1", seq, []allimi.Channel{allimi.ChannelSMS}, storeT0))
	}

	out := f.commit(ev(1), ev(2), ev(5))
	assert.Equal(t, map[string]uint64{"k1": 2}, out.HW)
	hw, err := f.st.HW("k1")
	require.NoError(t, err)
	assert.EqualValues(t, 2, hw)

	out = f.commit(ev(3), ev(4))
	assert.Equal(t, map[string]uint64{"k1": 5}, out.HW)
	hw, err = f.st.HW("k1")
	require.NoError(t, err)
	assert.EqualValues(t, 5, hw)
	assert.Equal(t, map[string]uint64{"k1": 5}, f.stats().Kiosks)

	hw, err = f.st.HW("k2")
	require.NoError(t, err)
	assert.Zero(t, hw)
}

func TestStore_HighWaterMarkPerKiosk(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	ev := func(kiosk string, seq uint64) allimi.Event {
		return storeFromDraft(t, kiosk, seq, storeT0, loadgen.Signup(kiosk, seq, []allimi.Channel{allimi.ChannelSMS}, storeT0))
	}
	out := f.commit(ev("k1", 1), ev("k2", 2), ev("k1", 2))
	assert.Equal(t, map[string]uint64{"k1": 2, "k2": 0}, out.HW, "k2 still misses its record 1")
	out = f.commit(ev("k2", 1))
	assert.Equal(t, map[string]uint64{"k2": 2}, out.HW)
}

func TestStore_RejectionsCountedAndListed(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	good := storeGrant(t, "k1", 1, storeT0)
	out, err := f.st.Commit([]allimi.Incoming{
		{Kiosk: "k1", Reject: fmt.Errorf("record 3: v=2: %w", allimi.ErrUnsupportedVersion)},
		{Kiosk: "k1", Event: &good},
		{Kiosk: "", Reject: errors.New(`topic "x/y" is not a kiosk up topic`)},
	})
	require.NoError(t, err)
	assert.Equal(t, allimi.CommitOutcome{Stored: 1, Rejected: 2, Confirmations: 1, HW: map[string]uint64{"k1": 1}}, out, "an unverified sign-up is to be confirmed")

	st := f.stats()
	assert.EqualValues(t, 2, st.Records.Rejected)
	assert.EqualValues(t, 1, st.Records.Stored)

	rs, err := f.st.Rejections(10)
	require.NoError(t, err)
	require.Len(t, rs, 2)
	assert.Equal(t, allimi.Rejection{ID: 2, At: storeNow, Kiosk: "", Reason: `topic "x/y" is not a kiosk up topic`}, rs[0], "newest first")
	assert.Equal(t, allimi.Rejection{ID: 1, At: storeNow, Kiosk: "k1", Reason: "record 3: v=2: unsupported message version"}, rs[1])

	rs, err = f.st.Rejections(1)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.EqualValues(t, 2, rs[0].ID)
}

func TestStore_RejectionOnlyBatchMovesNoHighWaterMark(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	out, err := f.st.Commit([]allimi.Incoming{{Kiosk: "k1", Reject: errors.New("bad")}})
	require.NoError(t, err)
	assert.Equal(t, allimi.CommitOutcome{Rejected: 1, HW: map[string]uint64{}}, out)
	assert.Empty(t, f.stats().Kiosks)
}

func TestStore_SameKioskLaterWithdrawalWins(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	f.commit(storeGrant(t, "k1", 1, storeT0))
	f.commit(storeWithdraw(t, "k1", 2, storeT0.Add(time.Minute)))
	assert.Equal(t, allimi.ActionWithdraw, f.Consent())
	assert.Empty(t, f.Conflicts(true), "one kiosk's changes are ordered by its clock, never a conflict")
	assert.Zero(t, f.stats().Subscribers)

	f.commit(storeGrant(t, "k1", 3, storeT0.Add(2*time.Minute)))
	assert.Equal(t, allimi.ActionGrant, f.Consent())
	assert.EqualValues(t, 1, f.stats().Subscribers)
}

func TestStore_SameKioskStaleChangeIgnored(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	// Record 2 (the withdrawal) arrives before record 1 (the grant).
	f.commit(storeWithdraw(t, "k1", 2, storeT0.Add(time.Minute)))
	f.commit(storeGrant(t, "k1", 1, storeT0))
	assert.Equal(t, allimi.ActionWithdraw, f.Consent())
	assert.Empty(t, f.Conflicts(true))
	st := f.stats()
	assert.Zero(t, st.Subscribers)
	assert.Zero(t, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])
}

func TestStore_ConcurrentGrantAndWithdrawalFromDifferentKiosks_WithdrawalWins(t *testing.T) {
	for _, tc := range []struct {
		name           string
		grantAt, wdrAt time.Duration // after storeT0
		withdrawFirst  bool
	}{
		{"grant first, withdrawal later", 0, 10 * time.Minute, false},
		{"grant first arrives last", 0, 10 * time.Minute, true},
		{"withdrawal first, grant later", 10 * time.Minute, 0, false},
		{"withdrawal first arrives last", 10 * time.Minute, 0, true},
		{"exactly the window apart", 0, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
			g := storeEvent(t, "k1", 1, storeT0.Add(tc.grantAt), allimi.KindSignup, storeKim,
				allimi.Consent{Type: allimi.TypeHealthCheckup, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant,
					By: allimi.Actor{Kind: allimi.ActorOfficial, Official: "official-3", Method: allimi.MethodPaper},
					At: storeT0.Add(tc.grantAt)})
			w := storeWithdraw(t, "k2", 7, storeT0.Add(tc.wdrAt))
			if tc.withdrawFirst {
				f.commit(w)
				f.commit(g)
			} else {
				f.commit(g)
				f.commit(w)
			}

			assert.Equal(t, allimi.ActionWithdraw, f.Consent())
			st := f.stats()
			assert.Zero(t, st.Subscribers)
			assert.Zero(t, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])
			assert.Equal(t, 1, st.Conflicts)

			cs := f.Conflicts(false)
			require.Len(t, cs, 1)
			c := cs[0]
			assert.EqualValues(t, 1, c.ID)
			assert.Equal(t, allimi.TypeHealthCheckup, c.Type)
			assert.Equal(t, allimi.ChannelKakao, c.Channel)
			assert.Equal(t, "k1", c.Grant.Kiosk)
			assert.EqualValues(t, 1, c.Grant.Seq)
			assert.True(t, c.Grant.At.Equal(storeT0.Add(tc.grantAt)))
			assert.Equal(t, allimi.Actor{Kind: allimi.ActorOfficial, Official: "official-3", Method: allimi.MethodPaper}, c.Grant.By)
			assert.Equal(t, "k2", c.Withdrawal.Kiosk)
			assert.EqualValues(t, 7, c.Withdrawal.Seq)
			assert.True(t, c.Withdrawal.At.Equal(storeT0.Add(tc.wdrAt)))
			assert.True(t, c.DetectedAt.Equal(storeNow))
			assert.Nil(t, c.Resolved)
			assert.Equal(t, "김*수", c.Name)
			assert.Equal(t, "010-****-5678", c.Mobile)
		})
	}
}

func TestStore_ListedConflictJSONHasNoCitizenKeyOrPersonalData(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	f.commit(storeGrant(t, "k1", 1, storeT0), storeWithdraw(t, "k2", 1, storeT0.Add(time.Minute)))
	cs := f.Conflicts(false)
	require.Len(t, cs, 1)
	assert.Nil(t, cs[0].CitizenKey)

	b, err := json.Marshal(cs)
	require.NoError(t, err)
	var decoded []map[string]any
	require.NoError(t, json.Unmarshal(b, &decoded))
	require.Len(t, decoded, 1)
	assert.NotContains(t, decoded[0], "citizenKey")
	assert.Equal(t, "김*수", decoded[0]["name"])
	assert.Equal(t, "010-****-5678", decoded[0]["mobile"])
	for _, secret := range []string{storeKim.Name, storeKim.Mobile, "01012345678", "1234", storeKim.BirthDate} {
		assert.NotContains(t, string(b), secret)
	}
}

func TestStore_DifferentKiosksFarApart_LaterChangeWinsWithoutConflict(t *testing.T) {
	for _, tc := range []struct {
		name         string
		first, later allimi.ConsentAction // the earlier change at k1, the later at k2
		laterFirst   bool                 // the later change arrives first
	}{
		{"grant then withdrawal", allimi.ActionGrant, allimi.ActionWithdraw, false},
		{"grant then withdrawal, arriving reversed", allimi.ActionGrant, allimi.ActionWithdraw, true},
		{"withdrawal then grant", allimi.ActionWithdraw, allimi.ActionGrant, false},
		{"withdrawal then grant, arriving reversed", allimi.ActionWithdraw, allimi.ActionGrant, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
			early := storeEvent(t, "k1", 1, storeT0, allimi.KindSignup, storeKim, storeConsent(tc.first, storeT0))
			late := storeEvent(t, "k2", 1, storeT0.Add(2*time.Hour), allimi.KindConsent, storeKim,
				storeConsent(tc.later, storeT0.Add(2*time.Hour)))
			if tc.laterFirst {
				f.commit(late)
				f.commit(early)
			} else {
				f.commit(early)
				f.commit(late)
			}
			assert.Equal(t, tc.later, f.Consent())
			assert.Empty(t, f.Conflicts(true))
			wantSubs := int64(0)
			if tc.later == allimi.ActionGrant {
				wantSubs = 1
			}
			assert.Equal(t, wantSubs, f.stats().Subscribers)
		})
	}
}

func TestStore_DifferentKiosksAgreeingIsNoConflict(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	f.commit(storeGrant(t, "k1", 1, storeT0), storeGrant(t, "k2", 1, storeT0.Add(time.Minute)))
	assert.Equal(t, allimi.ActionGrant, f.Consent())
	assert.Empty(t, f.Conflicts(true))
	st := f.stats()
	assert.EqualValues(t, 1, st.Subscribers)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])
}

// storeConflicted leaves Kim with one conflict: a grant at k1 and a
// withdrawal at k2 ten minutes later. It returns the conflict's id.
func storeConflicted(t *testing.T, f *storeFixture) uint64 {
	t.Helper()
	f.commit(storeGrant(t, "k1", 1, storeT0))
	f.commit(storeWithdraw(t, "k2", 1, storeT0.Add(10*time.Minute)))
	cs := f.Conflicts(false)
	require.Len(t, cs, 1)
	require.Equal(t, allimi.ActionWithdraw, f.Consent())
	return cs[0].ID
}

func TestStore_ResolveConflictGrantReactivates(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f)

	require.NoError(t, f.st.ResolveConflict(id, allimi.ActionGrant, "official-7"))
	assert.Equal(t, allimi.ActionGrant, f.Consent())
	assert.Empty(t, f.Conflicts(false))
	st := f.stats()
	assert.Zero(t, st.Conflicts)
	assert.EqualValues(t, 1, st.Subscribers)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])

	all := f.Conflicts(true)
	require.Len(t, all, 1)
	require.NotNil(t, all[0].Resolved)
	assert.Equal(t, allimi.ActionGrant, all[0].Resolved.Decision)
	assert.Equal(t, "official-7", all[0].Resolved.Official)
	assert.True(t, all[0].Resolved.At.Equal(storeNow))
	assert.Equal(t, "김*수", all[0].Name)
}

func TestStore_ResolveConflictSupersedesOlderChanges(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f)
	require.NoError(t, f.st.ResolveConflict(id, allimi.ActionGrant, "official-7"))

	// Changes made before the resolution that arrive after it change nothing
	// and raise no new conflict, from either kiosk.
	f.commit(storeWithdraw(t, "k2", 2, storeT0.Add(20*time.Minute)))
	f.commit(storeWithdraw(t, "k1", 2, storeT0.Add(30*time.Minute)))
	f.commit(storeWithdraw(t, "k3", 1, storeNow.Add(-time.Minute)))
	assert.Equal(t, allimi.ActionGrant, f.Consent())
	assert.Empty(t, f.Conflicts(false))
	assert.EqualValues(t, 1, f.stats().Subscribers)
}

func TestStore_ResolveConflictWithdrawKeepsWithdrawal(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f)
	require.NoError(t, f.st.ResolveConflict(id, allimi.ActionWithdraw, "official-7"))
	assert.Equal(t, allimi.ActionWithdraw, f.Consent())
	st := f.stats()
	assert.Zero(t, st.Subscribers)
	assert.Zero(t, st.Conflicts)
}

func TestStore_SubscriberCountDropsOnWithdrawalAndReturnsOnResolve(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	f.commit(storeGrant(t, "k1", 1, storeT0))
	require.EqualValues(t, 1, f.stats().Subscribers)

	f.commit(storeWithdraw(t, "k2", 1, storeT0.Add(10*time.Minute)))
	assert.Zero(t, f.stats().Subscribers, "the only grant was withdrawn")

	cs := f.Conflicts(false)
	require.Len(t, cs, 1)
	require.NoError(t, f.st.ResolveConflict(cs[0].ID, allimi.ActionGrant, "official-7"))
	assert.EqualValues(t, 1, f.stats().Subscribers)
}

func TestStore_ResolveConflictTwiceRefused(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f)
	require.NoError(t, f.st.ResolveConflict(id, allimi.ActionGrant, "official-7"))

	err := f.st.ResolveConflict(id, allimi.ActionWithdraw, "official-8")
	require.Error(t, err)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Contains(t, err.Error(), "already resolved by official-7")
	assert.Equal(t, allimi.ActionGrant, f.Consent(), "the first decision stands")
	all := f.Conflicts(true)
	require.Len(t, all, 1)
	assert.Equal(t, "official-7", all[0].Resolved.Official)
}

func TestStore_ResolveConflictRefusals(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f)
	for _, tc := range []struct {
		name     string
		id       uint64
		decision allimi.ConsentAction
		official string
		want     error
	}{
		{"unknown id", id + 41, allimi.ActionGrant, "official-7", allimi.ErrNotFound},
		{"id 0", 0, allimi.ActionGrant, "official-7", allimi.ErrNotFound},
		{"bad decision", id, "maybe", "official-7", allimi.ErrInvalid},
		{"empty decision", id, "", "official-7", allimi.ErrInvalid},
		{"no official", id, allimi.ActionGrant, "", allimi.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.st.ResolveConflict(tc.id, tc.decision, tc.official)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			// Nothing changed.
			assert.Len(t, f.Conflicts(false), 1)
			assert.Equal(t, allimi.ActionWithdraw, f.Consent())
		})
	}
}

func TestStore_StatsActivePerTypeAndChannel(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	everything := loadgen.Signup("k1", 1, []allimi.Channel{allimi.ChannelKakao, allimi.ChannelSMS}, storeT0)
	f.commit(
		storeFromDraft(t, "k1", 1, storeT0, everything),
		storeGrant(t, "k1", 2, storeT0),
	)
	st := f.stats()
	assert.EqualValues(t, 2, st.Subscribers)
	require.Len(t, st.Active, len(allimi.Types()))
	for _, ti := range allimi.Types() {
		want := map[string]int64{"kakao": 1, "sms": 1}
		if ti.ID == allimi.TypeHealthCheckup {
			want["kakao"] = 2
		}
		assert.Equal(t, want, st.Active[string(ti.ID)], ti.ID)
	}

	f.commit(storeWithdraw(t, "k1", 3, storeT0.Add(time.Minute)))
	st = f.stats()
	assert.EqualValues(t, 1, st.Active["health-checkup"]["kakao"])
	assert.EqualValues(t, 1, st.Active["health-checkup"]["sms"])
	assert.EqualValues(t, 1, st.Subscribers)
}

func TestStore_PersonalDataEncryptedAtRest(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	f.commit(
		storeGrant(t, "k1", 1, storeT0),
		storeEvent(t, "k1", 2, storeT0, allimi.KindSignup, storeLee, storeConsent(allimi.ActionGrant, storeT0)),
	)
	f.commit(storeWithdraw(t, "k2", 1, storeT0.Add(time.Minute))) // a conflict, naming Kim
	require.Len(t, f.Conflicts(false), 1)

	// Still readable through the keys after a restart.
	f.close()
	f.open(StoreOptions{ConflictWindow: time.Hour})
	cs := f.Conflicts(false)
	require.Len(t, cs, 1)
	assert.Equal(t, "김*수", cs[0].Name)
	f.close()

	raw, err := os.ReadFile(f.path)
	require.NoError(t, err)
	for _, secret := range []string{
		storeKim.Mobile, "01012345678", "1234-5678", storeKim.Name, storeKim.BirthDate,
		storeLee.Mobile, "01098765432", "9876-5432", storeLee.Name, storeLee.BirthDate,
	} {
		assert.NotContains(t, string(raw), secret, "the database file shows %q in clear", secret)
	}
}

func TestLoadKeys_CreatesKeysFileWithMode0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, err := keyring.Load(dir)
	require.NoError(t, err)

	fi, err := os.Stat(filepath.Join(dir, keyring.KeysFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	_, err = os.Stat(filepath.Join(dir, keyring.KeysFile+".tmp"))
	assert.ErrorIs(t, err, os.ErrNotExist, "no temporary file is left behind")
}

func TestLoadKeys_ReusedOnReload(t *testing.T) {
	dir := t.TempDir()
	k1, err := keyring.Load(dir)
	require.NoError(t, err)
	before, err := os.ReadFile(filepath.Join(dir, keyring.KeysFile))
	require.NoError(t, err)

	k2, err := keyring.Load(dir)
	require.NoError(t, err)
	after, err := os.ReadFile(filepath.Join(dir, keyring.KeysFile))
	require.NoError(t, err)
	assert.Equal(t, before, after, "the file is not rewritten")

	assert.Equal(t, k1.CitizenKey(storeKim.Mobile, storeKim.BirthDate), k2.CitizenKey(storeKim.Mobile, storeKim.BirthDate))
	assert.Equal(t, k1.AdminToken, k2.AdminToken)
	assert.Equal(t, k1.BrokerPassword, k2.BrokerPassword)
	assert.Equal(t, k1.CatalogPublicKey(), k2.CatalogPublicKey())
	plain, err := k2.Open(k1.Seal([]byte("김철수"), []byte("ad")), []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, "김철수", string(plain))

	other, err := keyring.Load(t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, k1.CitizenKey(storeKim.Mobile, storeKim.BirthDate), other.CitizenKey(storeKim.Mobile, storeKim.BirthDate))
}

func TestKeys_CitizenKeyDependsOnMobileAndBirthDate(t *testing.T) {
	k, err := keyring.Load(t.TempDir())
	require.NoError(t, err)
	base := k.CitizenKey("010-1234-5678", "1950-01-02")
	assert.Len(t, base, 32)
	assert.NotEqual(t, base, k.CitizenKey("010-1234-5679", "1950-01-02"))
	assert.NotEqual(t, base, k.CitizenKey("010-1234-5678", "1950-01-03"))
	assert.NotContains(t, string(base), "1234")
}

func TestKeys_SealIsBoundToItsPlace(t *testing.T) {
	k, err := keyring.Load(t.TempDir())
	require.NoError(t, err)
	sealed := k.Seal([]byte("010-1234-5678"), []byte("place-1"))
	assert.NotContains(t, string(sealed), "010-1234-5678")
	_, err = k.Open(sealed, []byte("place-2"))
	assert.Error(t, err)
	_, err = k.Open(sealed[:5], []byte("place-1"))
	assert.Error(t, err)
	plain, err := k.Open(sealed, []byte("place-1"))
	require.NoError(t, err)
	assert.Equal(t, "010-1234-5678", string(plain))
}

func TestLoadKeys_DamagedFileSaysRestoreFromBackup(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"not JSON", "{not json"},
		{"empty", ""},
		{"truncated", `{"hashKey": "AAAA`},
		{"short key", `{"hashKey":"AAAA","dataKey":"AAAA","catalogSeed":"AAAA"}`},
		{"no keys", `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, keyring.KeysFile)
			require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))

			_, err := keyring.Load(dir)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "restore it from backup")
			assert.Contains(t, err.Error(), path)

			after, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.content, string(after), "a damaged file is never overwritten")
		})
	}
}

func TestStore_AddKioskAndCheckKiosk(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	creds, err := f.st.AddKiosk("k1")
	require.NoError(t, err)
	assert.Equal(t, "k1", creds.ID)
	assert.Equal(t, "kiosk-k1", creds.Username)
	assert.NotEmpty(t, creds.Password)
	_, err = f.st.AddKiosk("k2")
	require.NoError(t, err)

	for _, tc := range []struct {
		name, user, password string
		wantID               string
		ok                   bool
	}{
		{"right password", "kiosk-k1", creds.Password, "k1", true},
		{"wrong password", "kiosk-k1", creds.Password + "x", "", false},
		{"another kiosk's user", "kiosk-k2", creds.Password, "", false},
		{"unknown user", "kiosk-k9", creds.Password, "", false},
		{"id without prefix", "k1", creds.Password, "", false},
		{"central's user", "central", creds.Password, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok := f.st.CheckKiosk(tc.user, tc.password)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.wantID, id)
		})
	}
}

func TestStore_AddKioskAgainIssuesNewPasswordAndRevokesTheOld(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	old, err := f.st.AddKiosk("k1")
	require.NoError(t, err)
	fresh, err := f.st.AddKiosk("k1")
	require.NoError(t, err)
	require.NotEqual(t, old.Password, fresh.Password)

	_, ok := f.st.CheckKiosk("kiosk-k1", old.Password)
	assert.False(t, ok, "the old password stops working")
	id, ok := f.st.CheckKiosk("kiosk-k1", fresh.Password)
	assert.True(t, ok)
	assert.Equal(t, "k1", id)
}

func TestStore_AddKioskRefusesInvalidID(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	for _, id := range []string{"", "K1", "k/1", "k+1", "-k1"} {
		t.Run(id, func(t *testing.T) {
			_, err := f.st.AddKiosk(id)
			require.Error(t, err)
			assert.ErrorIs(t, err, allimi.ErrInvalid)
		})
	}
}

func TestStore_KiosksSurviveReopen(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	creds, err := f.st.AddKiosk("k1")
	require.NoError(t, err)
	f.close()
	f.open(StoreOptions{})
	id, ok := f.st.CheckKiosk(creds.Username, creds.Password)
	assert.True(t, ok)
	assert.Equal(t, "k1", id)
}

func TestStore_PutCatalogVersions(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	put := func(name string, version uint64, body string) (catalog.Manifest, error) {
		return f.st.PutCatalog(name, version, []byte(body))
	}

	m, err := put("subsidy24", 0, "one")
	require.NoError(t, err)
	assert.EqualValues(t, 1, m.Version)
	m, err = put("subsidy24", 0, "two")
	require.NoError(t, err)
	assert.EqualValues(t, 2, m.Version)
	m, err = put("subsidy24", 10, "ten")
	require.NoError(t, err)
	assert.EqualValues(t, 10, m.Version)
	require.NoError(t, m.Verify(f.keys.CatalogPublicKey(), []byte("ten")))

	for _, v := range []uint64{5, 10} {
		_, err = put("subsidy24", v, "stale")
		require.Error(t, err, "version %d", v)
		assert.ErrorIs(t, err, allimi.ErrInvalid)
		assert.Contains(t, err.Error(), "not above the current 10")
	}

	cats, err := f.st.Catalogs()
	require.NoError(t, err)
	require.Len(t, cats, 1)
	assert.EqualValues(t, 10, cats[0].Manifest.Version)
	assert.Equal(t, "ten", string(cats[0].Body), "the stored catalog is intact")
	assert.NoError(t, cats[0].Manifest.Verify(f.keys.CatalogPublicKey(), cats[0].Body))

	m, err = put("subsidy24", 0, "eleven")
	require.NoError(t, err)
	assert.EqualValues(t, 11, m.Version)

	m, err = put("other", 0, "x")
	require.NoError(t, err)
	assert.EqualValues(t, 1, m.Version, "each catalog counts on its own")
}

func TestOpenStore_SecondOpenWhileTheFirstIsOpenIsInUse(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	_, err := OpenStore(f.path, f.keys, StoreOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInUse)
	assert.Contains(t, err.Error(), f.path)

	f.close()
	st, err := OpenStore(f.path, f.keys, StoreOptions{})
	require.NoError(t, err)
	assert.NoError(t, st.Close())
}

func TestStore_CommittedDataSurvivesReopen(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	f.commit(storeGrant(t, "k1", 1, storeT0), storeGrant(t, "k1", 2, storeT0.Add(time.Minute)))
	before := f.stats()
	f.close()
	f.open(StoreOptions{})
	assert.Equal(t, before, f.stats())
	out := f.commit(storeGrant(t, "k1", 1, storeT0))
	assert.Equal(t, 1, out.Duplicates, "the event store remembers across restarts")
}

func TestStore_ChangeAfterAResolutionWinsWithoutANewConflict(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{ConflictWindow: time.Hour})
	id := storeConflicted(t, f)
	require.NoError(t, f.st.ResolveConflict(id, allimi.ActionWithdraw, "official-7"))

	// Ten minutes after the official's decision the person signs up again.
	f.commit(storeGrant(t, "k2", 2, storeNow.Add(10*time.Minute)))
	assert.Equal(t, allimi.ActionGrant, f.Consent())
	assert.Empty(t, f.Conflicts(false))
	assert.EqualValues(t, 1, f.stats().Subscribers)

	// A change older than the decision, arriving late, is settled by it.
	f.commit(storeWithdraw(t, "k1", 2, storeT0.Add(20*time.Minute)))
	assert.Equal(t, allimi.ActionGrant, f.Consent())
}

func TestStore_PutCatalogRefusesABadName(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	_, err := f.st.PutCatalog("Bad/Name+#", 0, []byte("x"))
	require.Error(t, err)
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	cats, err := f.st.Catalogs()
	require.NoError(t, err)
	assert.Empty(t, cats)
}

func TestStore_SeedingTwiceAddsNobodyNew(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	kakao := []allimi.Channel{allimi.ChannelKakao}
	require.NoError(t, loadgen.Seed(f.st, 10, []allimi.NotificationType{allimi.TypeRelief}, kakao))
	require.NoError(t, loadgen.Seed(f.st, 12, []allimi.NotificationType{allimi.TypeRelief}, kakao))
	st := f.stats()
	assert.EqualValues(t, 12, st.Subscribers)
	assert.EqualValues(t, 12, st.Active[string(allimi.TypeRelief)][string(allimi.ChannelKakao)])
}

func TestStore_ANewSignupRenamesThePersonInEveryCampaignIndex(t *testing.T) {
	f := newStoreFixture(t, StoreOptions{})
	f.commit(storeGrant(t, "k1", 1, storeT0))
	require.NoError(t, f.st.FoldSubs()) // the index holds the first sign-up
	renamed := storeKim
	renamed.Name = "김영희"
	fine := allimi.Consent{Type: allimi.TypeTrafficFine, Channel: allimi.ChannelSMS, Action: allimi.ActionGrant,
		By: allimi.Actor{Kind: allimi.ActorSelf}, At: storeT0.Add(time.Hour)}
	f.commit(storeEvent(t, "k1", 2, storeT0.Add(time.Hour), allimi.KindSignup, renamed, fine))

	ck := f.keys.CitizenKey(storeKim.Mobile, storeKim.BirthDate)
	check := func(types ...allimi.NotificationType) {
		t.Helper()
		require.NoError(t, f.st.db.View(func(tx *bbolt.Tx) error {
			for _, typ := range types {
				v := tx.Bucket(bucketSubs).Get(subsKey(typ, ck))
				require.NotNil(t, v, typ)
				c, err := f.st.openPII(ck, v[1:])
				require.NoError(t, err)
				assert.Equal(t, "김영희", c.Name, typ)
			}
			return nil
		}))
	}
	// The entries the index had are renamed in the sign-up's own commit
	// (a dispatcher reads contacts from them without folding) ...
	check(allimi.TypeHealthCheckup)
	// ... and the new grant's entry, once folded, holds the new name too.
	require.NoError(t, f.st.FoldSubs())
	check(allimi.TypeHealthCheckup, allimi.TypeTrafficFine)
}
