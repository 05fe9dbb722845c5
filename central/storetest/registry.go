package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// RegistryBackend is what the Registry, Confirmations and AuditLog suites
// need of a store: those interfaces (each sets up through the others: an
// audit entry comes from a committed record, a confirmation from a
// sign-up), and a restart. A Backend is one, with B Backend.
type RegistryBackend[B any] interface {
	allimi.Registry
	allimi.Confirmations
	allimi.AuditLog
	Reopen(t *testing.T) B
}

// Registry checks allimi.Registry: kiosks' records stored once each, their
// effect on consents, conflicts between kiosks and their resolution,
// refusals, high-water marks, receipts and feedback, all durable.
//
// Conflicts depend on the backend's conflict window: open must give a
// store whose window is at least a minute and at most a day (central's
// default is an hour). The suite's concurrent changes lie seconds apart,
// its sequential ones days apart.
func Registry[B RegistryBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"SignupGrantsConsents", registrySignup[B]},
		{"LaterChangesWin", registryLaterChanges[B]},
		{"OneKioskFollowsItsClock", registryOneKioskClock[B]},
		{"DuplicatesCountedNotApplied", registryDuplicates[B]},
		{"RefusalsCountedAndListed", registryRefusals[B]},
		{"HighWaterMarkIsContiguous", registryHighWater[B]},
		{"ConcurrentChangesConflict", registryConflict[B]},
		{"ConflictWhicheverArrivesFirst", registryConflictEitherOrder[B]},
		{"NoConflictWithoutDisagreement", registryNoConflict[B]},
		{"ResolveConflictRefusesBadInput", registryResolveRefuses[B]},
		{"ResolutionSupersedesOlderChanges", registryResolution[B]},
		{"ResolutionByWithdrawal", registryResolveWithdraw[B]},
		{"Receipt", registryReceipt[B]},
		{"ReceiptWithoutCode", registryReceiptDerived[B]},
		{"ReceiptCodeNotTakenOver", registryReceiptTaken[B]},
		{"FeedbackCounted", registryFeedback[B]},
		{"PrepareStoresNothing", registryPrepare[B]},
		{"Durable", registryDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func registrySignup[B RegistryBackend[B]](t *testing.T, b B) {
	k := &kiosk{id: "kiosk-a"}
	at := time.Now().Add(-time.Minute)
	out := commit(t, b, k.signup(t, kim, allimi.ConsentPayload{
		Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS), Verified: true}, at))
	assert.Equal(t, 1, out.Stored)
	assert.Zero(t, out.Duplicates)
	assert.Zero(t, out.Rejected)
	assert.Zero(t, out.Confirmations, "a verified number needs no confirmation")
	assert.Equal(t, map[string]uint64{"kiosk-a": 1}, out.HW)

	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelSMS))
	assert.Empty(t, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelNaver), "a channel not chosen")
	assert.Empty(t, consentOf(t, b, kim, allimi.TypeVaccination, allimi.ChannelKakao), "a type not chosen")
	assert.Empty(t, consentOf(t, b, lee, allimi.TypeHealthCheckup, allimi.ChannelKakao), "a person never seen")
	other := kim
	other.BirthDate = "1950-01-03"
	assert.Empty(t, consentOf(t, b, other, allimi.TypeHealthCheckup, allimi.ChannelKakao), "the same number, another date of birth")

	st, err := b.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Subscribers)
	assert.EqualValues(t, 1, st.Records.Stored)
	assert.Zero(t, st.Records.Duplicates)
	assert.Zero(t, st.Records.Rejected)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelSMS)])
	assert.Zero(t, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelNaver)])
	assert.Zero(t, st.Conflicts)
	assert.Equal(t, uint64(1), st.Kiosks["kiosk-a"])
	n, err := b.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
}

func registryLaterChanges[B RegistryBackend[B]](t *testing.T, b B) {
	k := &kiosk{id: "kiosk-a"}
	t0 := time.Now().Add(-time.Hour)
	commit(t, b, k.signup(t, kim, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS), Verified: true}, t0))
	commit(t, b, k.signup(t, lee, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, t0))

	t1 := t0.Add(time.Minute)
	commit(t, b, k.consent(t, kim, withdrawals(t1, allimi.TypeHealthCheckup, allimi.ChannelKakao), t1))
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelSMS), "the other channel stands")
	assert.Zero(t, active(t, b, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	assert.EqualValues(t, 2, active(t, b, allimi.TypeHealthCheckup, allimi.ChannelSMS))
	n, err := b.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 2, n, "kim still has a grant")

	t2 := t1.Add(time.Minute)
	commit(t, b, k.consent(t, kim, withdrawals(t2, allimi.TypeHealthCheckup, allimi.ChannelSMS), t2))
	n, err = b.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "kim has no grant left")
	st, err := b.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 1, st.Subscribers)
	assert.EqualValues(t, 1, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelSMS)])

	t3 := t2.Add(time.Minute)
	commit(t, b, k.consent(t, kim, grants(t3, allimi.TypeHealthCheckup, allimi.ChannelKakao), t3))
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao), "granted again")
	n, err = b.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 2, n)
}

// A kiosk's records may arrive out of order (a resend overtakes): its
// hybrid clock, not the arrival, says which change is the later.
func registryOneKioskClock[B RegistryBackend[B]](t *testing.T, b B) {
	t0 := time.Now().Add(-time.Hour)
	signup := event(t, "kiosk-a", 1, allimi.KindSignup, kim, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t0)
	grantAgain := event(t, "kiosk-a", 2, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: grants(t0.Add(time.Minute), allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t0.Add(time.Minute))
	withdraw := event(t, "kiosk-a", 3, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: withdrawals(t0.Add(2*time.Minute), allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t0.Add(2*time.Minute))
	commit(t, b, signup)
	commit(t, b, withdraw)
	commit(t, b, grantAgain)
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao),
		"the withdrawal is the kiosk's latest change, though it arrived before the grant")
	assert.Zero(t, active(t, b, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	cs, err := b.Conflicts(true)
	require.NoError(t, err)
	assert.Empty(t, cs, "one kiosk's changes never conflict")
}

func registryDuplicates[B RegistryBackend[B]](t *testing.T, b B) {
	k := &kiosk{id: "kiosk-a"}
	at := time.Now().Add(-time.Minute)
	signup := k.signup(t, kim, allimi.ConsentPayload{Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelKakao)}, at)
	out := commit(t, b, signup)
	require.Equal(t, 1, out.Stored)
	require.Equal(t, 1, out.Confirmations)
	audit := auditEntries(t, b)

	out = commit(t, b, signup)
	assert.Zero(t, out.Stored)
	assert.Equal(t, 1, out.Duplicates)
	assert.Zero(t, out.Confirmations, "a duplicate sign-up is not confirmed twice")
	assert.Equal(t, map[string]uint64{"kiosk-a": 1}, out.HW)

	// The same kiosk and seq with other content is the same record.
	changed := event(t, "kiosk-a", 1, allimi.KindSignup, kim, allimi.ConsentPayload{
		Consents: withdrawals(at.Add(time.Minute), allimi.TypeHealthCheckup, allimi.ChannelKakao)}, at.Add(time.Minute))
	out = commit(t, b, changed)
	assert.Equal(t, 1, out.Duplicates)
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao), "a duplicate changes nothing")

	// Twice in one batch: stored once.
	second := k.signup(t, lee, allimi.ConsentPayload{Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelKakao)}, at)
	out = commit(t, b, second, second)
	assert.Equal(t, 1, out.Stored)
	assert.Equal(t, 1, out.Duplicates)
	assert.Equal(t, 1, out.Confirmations)

	st, err := b.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 2, st.Records.Stored)
	assert.EqualValues(t, 3, st.Records.Duplicates)
	assert.EqualValues(t, 2, st.Subscribers)
	assert.EqualValues(t, 2, st.Active[string(allimi.TypeHealthCheckup)][string(allimi.ChannelKakao)])
	pending, err := b.ConfirmationsPending()
	require.NoError(t, err)
	assert.Equal(t, 2, pending, "one confirmation per sign-up, however often it arrived")
	assert.Equal(t, audit+1, auditEntries(t, b), "only the new sign-up changed anyone's data")
}

func registryRefusals[B RegistryBackend[B]](t *testing.T, b B) {
	before := time.Now().Add(-time.Second)
	reasons := []string{"payload: not JSON", "citizen: invalid name (value withheld: personal data)", "v=2: unsupported message version"}
	batch := make([]allimi.Incoming, len(reasons))
	for i, r := range reasons {
		batch[i] = allimi.Incoming{Kiosk: "kiosk-a", Reject: errors.New(r)}
	}
	out, err := b.Commit(batch)
	require.NoError(t, err)
	assert.Equal(t, 3, out.Rejected)
	assert.Zero(t, out.Stored)
	at := time.Now().Add(-time.Minute)
	k := &kiosk{id: "kiosk-b"}
	e := k.signup(t, kim, allimi.ConsentPayload{Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, at)
	out, err = b.Commit([]allimi.Incoming{{Kiosk: "kiosk-b", Reject: errors.New("seq: must start at 1")}, {Kiosk: "kiosk-b", Event: &e}})
	require.NoError(t, err)
	assert.Equal(t, 1, out.Rejected)
	assert.Equal(t, 1, out.Stored, "a refusal does not spoil its batch")
	after := time.Now().Add(time.Second)

	list, err := b.Rejections(10)
	require.NoError(t, err)
	require.Len(t, list, 4)
	assert.Contains(t, list[0].Reason, "seq: must start at 1", "newest first")
	assert.Equal(t, "kiosk-b", list[0].Kiosk)
	for i, r := range reasons {
		got := list[3-i]
		assert.Contains(t, got.Reason, r)
		assert.Equal(t, "kiosk-a", got.Kiosk)
		assert.True(t, !got.At.Before(before) && !got.At.After(after), "refused at %s, between %s and %s", got.At, before, after)
	}
	for i := 1; i < len(list); i++ {
		assert.NotEqual(t, list[i-1].ID, list[i].ID)
	}
	list, err = b.Rejections(2)
	require.NoError(t, err)
	assert.Len(t, list, 2)

	st, err := b.Stats()
	require.NoError(t, err)
	assert.EqualValues(t, 4, st.Records.Rejected)
	assert.EqualValues(t, 1, st.Records.Stored)
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelSMS))
}

func registryHighWater[B RegistryBackend[B]](t *testing.T, b B) {
	at := time.Now().Add(-time.Hour)
	rec := func(kiosk string, seq uint64, c allimi.Citizen) allimi.Event {
		return event(t, kiosk, seq, allimi.KindSignup, c, allimi.ConsentPayload{
			Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, at.Add(time.Duration(seq)*time.Second))
	}
	hw := func(kiosk string) uint64 {
		n, err := b.HW(kiosk)
		require.NoError(t, err)
		return n
	}
	assert.Zero(t, hw("kiosk-a"), "a kiosk never heard of")
	out := commit(t, b, rec("kiosk-a", 1, kim), rec("kiosk-a", 2, lee))
	assert.Equal(t, map[string]uint64{"kiosk-a": 2}, out.HW)
	out = commit(t, b, rec("kiosk-a", 4, park), rec("kiosk-b", 2, kim))
	assert.Equal(t, map[string]uint64{"kiosk-a": 2, "kiosk-b": 0}, out.HW, "a gap holds the mark")
	assert.Equal(t, uint64(2), hw("kiosk-a"))
	out = commit(t, b, rec("kiosk-a", 3, park))
	assert.Equal(t, map[string]uint64{"kiosk-a": 4}, out.HW, "the gap filled, the mark passes what waited")
	assert.Equal(t, uint64(4), hw("kiosk-a"))
	assert.Zero(t, hw("kiosk-b"))
	out = commit(t, b, rec("kiosk-b", 1, lee))
	assert.Equal(t, map[string]uint64{"kiosk-b": 2}, out.HW)
	st, err := b.Stats()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"kiosk-a": 4, "kiosk-b": 2}, st.Kiosks)
}

// crossing commits kim's grant of health-checkup by kakao at kiosk-a and
// her withdrawal at kiosk-b ten seconds later, the withdrawal first when
// withdrawalFirst: two changes made without knowledge of each other.
func crossing(t *testing.T, b allimi.Registry, t0 time.Time, withdrawalFirst bool) (grant, withdrawal allimi.Event) {
	t.Helper()
	grant = event(t, "kiosk-a", 1, allimi.KindSignup, kim, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t0)
	t1 := t0.Add(10 * time.Second)
	withdrawal = event(t, "kiosk-b", 1, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: withdrawals(t1, allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t1)
	if withdrawalFirst {
		commit(t, b, withdrawal)
		commit(t, b, grant)
	} else {
		commit(t, b, grant)
		commit(t, b, withdrawal)
	}
	return grant, withdrawal
}

func registryConflict[B RegistryBackend[B]](t *testing.T, b B) {
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	before := time.Now().Add(-time.Second)
	crossing(t, b, t0, false)
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao), "the withdrawal wins")
	assert.Zero(t, active(t, b, allimi.TypeHealthCheckup, allimi.ChannelKakao))

	cs, err := b.Conflicts(false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	c := cs[0]
	assert.NotZero(t, c.ID)
	assert.Equal(t, allimi.TypeHealthCheckup, c.Type)
	assert.Equal(t, allimi.ChannelKakao, c.Channel)
	assert.Equal(t, "kiosk-a", c.Grant.Kiosk)
	assert.Equal(t, uint64(1), c.Grant.Seq)
	assert.True(t, c.Grant.At.Equal(t0), "grant at %s, want %s", c.Grant.At, t0)
	assert.Equal(t, allimi.ActorSelf, c.Grant.By.Kind)
	assert.Equal(t, "kiosk-b", c.Withdrawal.Kiosk)
	assert.Equal(t, uint64(1), c.Withdrawal.Seq)
	assert.True(t, c.Withdrawal.At.Equal(t0.Add(10*time.Second)))
	assert.False(t, c.DetectedAt.Before(before), "detected at %s, before the commit at %s", c.DetectedAt, before)
	assert.Nil(t, c.Resolved)
	assert.Equal(t, kim.MaskedName(), c.Name, "officials see the person masked")
	assert.Equal(t, kim.MaskedMobile(), c.Mobile)
	assert.Nil(t, c.CitizenKey, "the key central files people under never leaves the store")

	all, err := b.Conflicts(true)
	require.NoError(t, err)
	assert.Equal(t, cs, all)
	st, err := b.Stats()
	require.NoError(t, err)
	assert.Equal(t, 1, st.Conflicts)
}

func registryConflictEitherOrder[B RegistryBackend[B]](t *testing.T, b B) {
	crossing(t, b, time.Now().Add(-10*time.Minute), true)
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao),
		"the grant that arrives after a concurrent withdrawal does not undo it")
	cs, err := b.Conflicts(false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	assert.Equal(t, "kiosk-a", cs[0].Grant.Kiosk)
	assert.Equal(t, "kiosk-b", cs[0].Withdrawal.Kiosk)
}

func registryNoConflict[B RegistryBackend[B]](t *testing.T, b B) {
	t0 := time.Now().Add(-10 * time.Minute)
	// Two kiosks agree.
	commit(t, b, event(t, "kiosk-a", 1, allimi.KindSignup, kim, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t0))
	commit(t, b, event(t, "kiosk-b", 1, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: grants(t0.Add(5*time.Second), allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, t0.Add(5*time.Second)))
	assert.EqualValues(t, 1, active(t, b, allimi.TypeHealthCheckup, allimi.ChannelKakao), "one person's grant counts once")
	// Days apart, the later change wins whichever arrives first.
	old := t0.Add(-3 * 24 * time.Hour)
	commit(t, b, event(t, "kiosk-a", 2, allimi.KindSignup, lee, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeVaccination, allimi.ChannelSMS), Verified: true}, t0))
	commit(t, b, event(t, "kiosk-b", 2, allimi.KindConsent, lee, allimi.ConsentPayload{
		Consents: withdrawals(old, allimi.TypeVaccination, allimi.ChannelSMS), Verified: true}, old))
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, lee, allimi.TypeVaccination, allimi.ChannelSMS), "an old withdrawal arriving late")
	commit(t, b, event(t, "kiosk-a", 3, allimi.KindSignup, park, allimi.ConsentPayload{
		Consents: grants(old, allimi.TypeVaccination, allimi.ChannelSMS), Verified: true}, old))
	commit(t, b, event(t, "kiosk-b", 3, allimi.KindConsent, park, allimi.ConsentPayload{
		Consents: withdrawals(t0, allimi.TypeVaccination, allimi.ChannelSMS), Verified: true}, t0))
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, park, allimi.TypeVaccination, allimi.ChannelSMS), "a withdrawal days after the grant")
	// One kiosk changes its mind within seconds.
	commit(t, b, event(t, "kiosk-c", 1, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeScholarship, allimi.ChannelNaver), Verified: true}, t0))
	commit(t, b, event(t, "kiosk-c", 2, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: withdrawals(t0.Add(time.Second), allimi.TypeScholarship, allimi.ChannelNaver), Verified: true}, t0.Add(time.Second)))
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeScholarship, allimi.ChannelNaver))

	cs, err := b.Conflicts(true)
	require.NoError(t, err)
	assert.Empty(t, cs)
	st, err := b.Stats()
	require.NoError(t, err)
	assert.Zero(t, st.Conflicts)
}

func registryResolveRefuses[B RegistryBackend[B]](t *testing.T, b B) {
	crossing(t, b, time.Now().Add(-10*time.Minute), false)
	cs, err := b.Conflicts(false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	id := cs[0].ID
	assert.ErrorIs(t, b.ResolveConflict(id+1000, allimi.ActionGrant, "officer-kim"), allimi.ErrNotFound)
	assert.ErrorIs(t, b.ResolveConflict(id, "maybe", "officer-kim"), allimi.ErrInvalid)
	assert.ErrorIs(t, b.ResolveConflict(id, "", "officer-kim"), allimi.ErrInvalid)
	assert.ErrorIs(t, b.ResolveConflict(id, allimi.ActionGrant, ""), allimi.ErrInvalid)
	cs, err = b.Conflicts(false)
	require.NoError(t, err)
	assert.Len(t, cs, 1, "a refused resolution resolves nothing")
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao))
}

func registryResolution[B RegistryBackend[B]](t *testing.T, b B) {
	t0 := time.Now().Add(-10 * time.Minute)
	crossing(t, b, t0, false)
	cs, err := b.Conflicts(false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	id := cs[0].ID
	audit := auditEntries(t, b)

	before := time.Now().Add(-time.Second)
	require.NoError(t, b.ResolveConflict(id, allimi.ActionGrant, "officer-kim"))
	after := time.Now().Add(time.Second)
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	assert.EqualValues(t, 1, active(t, b, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	n, err := b.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	assert.Greater(t, auditEntries(t, b), audit, "a resolution changes a person's consent: audited")

	open, err := b.Conflicts(false)
	require.NoError(t, err)
	assert.Empty(t, open)
	all, err := b.Conflicts(true)
	require.NoError(t, err)
	require.Len(t, all, 1)
	r := all[0].Resolved
	require.NotNil(t, r)
	assert.Equal(t, allimi.ActionGrant, r.Decision)
	assert.Equal(t, "officer-kim", r.Official)
	assert.True(t, !r.At.Before(before) && !r.At.After(after), "resolved at %s", r.At)
	assert.Equal(t, kim.MaskedName(), all[0].Name)
	assert.Nil(t, all[0].CitizenKey)
	st, err := b.Stats()
	require.NoError(t, err)
	assert.Zero(t, st.Conflicts)
	assert.ErrorIs(t, b.ResolveConflict(id, allimi.ActionWithdraw, "officer-lee"), allimi.ErrInvalid, "resolved once")
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao))

	// A change made before the resolution, arriving after it, is settled by it.
	late := t0.Add(20 * time.Second)
	commit(t, b, event(t, "kiosk-c", 1, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: withdrawals(late, allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, late))
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao), "an older change after the resolution")
	// What the person does after it is theirs to decide.
	next := time.Now().Add(time.Minute)
	commit(t, b, event(t, "kiosk-c", 2, allimi.KindConsent, kim, allimi.ConsentPayload{
		Consents: withdrawals(next, allimi.TypeHealthCheckup, allimi.ChannelKakao), Verified: true}, next))
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao), "a change after the resolution")
}

func registryResolveWithdraw[B RegistryBackend[B]](t *testing.T, b B) {
	crossing(t, b, time.Now().Add(-10*time.Minute), false)
	cs, err := b.Conflicts(false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.NoError(t, b.ResolveConflict(cs[0].ID, allimi.ActionWithdraw, "officer-kim"))
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	n, err := b.Subscribers()
	require.NoError(t, err)
	assert.Zero(t, n)
	all, err := b.Conflicts(true)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.NotNil(t, all[0].Resolved)
	assert.Equal(t, allimi.ActionWithdraw, all[0].Resolved.Decision)
}

func registryReceipt[B RegistryBackend[B]](t *testing.T, b B) {
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	k := &kiosk{id: "kiosk-a"}
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	cs := append(grants(at, allimi.TypeVaccination, allimi.ChannelSMS),
		grants(at, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS)...)
	commit(t, b, k.signup(t, kim, allimi.ConsentPayload{Consents: cs, Receipt: code}, at))

	v, err := b.Receipt(code, kim.BirthDate)
	require.NoError(t, err)
	assert.Equal(t, code, v.Code)
	assert.Equal(t, kim.MaskedName(), v.Name)
	assert.Equal(t, "kiosk-a", v.Kiosk)
	assert.False(t, v.Verified)
	assert.True(t, v.Received.Equal(at), "received %s, signed up at %s", v.Received, at)
	assert.NotEmpty(t, v.CitizenKey, "the audit log names the person by it")
	require.Len(t, v.Consents, 2)
	assert.Equal(t, typeName(allimi.TypeHealthCheckup), v.Consents[0].Type, "in the order of Types")
	assert.ElementsMatch(t, []string{"카카오톡", "문자"}, v.Consents[0].Channels)
	assert.Equal(t, typeName(allimi.TypeVaccination), v.Consents[1].Type)
	assert.Equal(t, []string{"문자"}, v.Consents[1].Channels)

	_, err = b.Receipt(code, "1950-01-03")
	assert.ErrorIs(t, err, allimi.ErrNotFound, "another date of birth")
	_, err = b.Receipt(code, "")
	assert.ErrorIs(t, err, allimi.ErrNotFound, "no date of birth")
	other, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	_, err = b.Receipt(other, kim.BirthDate)
	assert.ErrorIs(t, err, allimi.ErrNotFound, "an unknown code")

	// The page shows the grants that stand now.
	commit(t, b, k.consent(t, kim, withdrawals(at.Add(time.Minute), allimi.TypeVaccination, allimi.ChannelSMS), at.Add(time.Minute)))
	v, err = b.Receipt(code, kim.BirthDate)
	require.NoError(t, err)
	require.Len(t, v.Consents, 1)
	assert.Equal(t, typeName(allimi.TypeHealthCheckup), v.Consents[0].Type)
}

func registryReceiptDerived[B RegistryBackend[B]](t *testing.T, b B) {
	k := &kiosk{id: "kiosk-old"}
	at := time.Now().Add(-time.Hour)
	commit(t, b, k.signup(t, lee, allimi.ConsentPayload{Consents: grants(at, allimi.TypeWelfareCard, allimi.ChannelToss), Verified: true}, at))
	v, err := b.Receipt(allimi.ReceiptCode("kiosk-old", 1), lee.BirthDate)
	require.NoError(t, err)
	assert.Equal(t, lee.MaskedName(), v.Name)
	assert.True(t, v.Verified)
	require.Len(t, v.Consents, 1)
	assert.Equal(t, []string{"토스"}, v.Consents[0].Channels)
	_, err = b.Receipt(allimi.ReceiptCode("kiosk-old", 2), lee.BirthDate)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
}

func registryReceiptTaken[B RegistryBackend[B]](t *testing.T, b B) {
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	at := time.Now().Add(-time.Hour)
	commit(t, b, (&kiosk{id: "kiosk-a"}).signup(t, kim, allimi.ConsentPayload{
		Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelKakao), Receipt: code, Verified: true}, at))
	out := commit(t, b, (&kiosk{id: "kiosk-b"}).signup(t, lee, allimi.ConsentPayload{
		Consents: grants(at, allimi.TypeVaccination, allimi.ChannelSMS), Receipt: code, Verified: true}, at.Add(time.Minute)))
	assert.Equal(t, 1, out.Stored, "the second sign-up is kept")
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, lee, allimi.TypeVaccination, allimi.ChannelSMS), "and its choices stand")
	v, err := b.Receipt(code, kim.BirthDate)
	require.NoError(t, err)
	assert.Equal(t, kim.MaskedName(), v.Name, "the code still opens the first sign-up")
	assert.Equal(t, "kiosk-a", v.Kiosk)
	_, err = b.Receipt(code, lee.BirthDate)
	assert.ErrorIs(t, err, allimi.ErrNotFound, "the code opens nothing of the second")
}

func registryFeedback[B RegistryBackend[B]](t *testing.T, b B) {
	k := &kiosk{id: "kiosk-a"}
	at := time.Now().Add(-time.Minute)
	fb := func(entry string, helpful bool) allimi.Event {
		return k.record(t, allimi.KindFeedback, allimi.Citizen{}, allimi.FeedbackPayload{Entry: entry, Helpful: helpful}, at)
	}
	first := fb("health-checkup-where", true)
	out := commit(t, b, first, fb("health-checkup-where", true), fb("health-checkup-where", false), fb("welfare_card-2", true))
	assert.Equal(t, 4, out.Stored)
	commit(t, b, first)
	got, err := b.Feedback()
	require.NoError(t, err)
	assert.ElementsMatch(t, []allimi.FeedbackCount{
		{Entry: "health-checkup-where", Helpful: 2, NotHelpful: 1},
		{Entry: "welfare_card-2", Helpful: 1},
	}, got)
	n, err := b.Subscribers()
	require.NoError(t, err)
	assert.Zero(t, n, "feedback names nobody")
}

func registryPrepare[B RegistryBackend[B]](t *testing.T, b B) {
	at := time.Now().Add(-time.Minute)
	k := &kiosk{id: "kiosk-a"}
	e1 := k.signup(t, kim, allimi.ConsentPayload{Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, at)
	e2 := k.signup(t, lee, allimi.ConsentPayload{Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, at)
	batch := []allimi.Incoming{{Kiosk: "kiosk-a", Event: &e1}, {Kiosk: "kiosk-a", Event: &e2}, {Kiosk: "kiosk-a", Reject: errors.New("bad")}}
	for i := range batch {
		b.Prepare(&batch[i])
	}
	assert.Empty(t, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelSMS), "Prepare stores nothing")
	hw, err := b.HW("kiosk-a")
	require.NoError(t, err)
	assert.Zero(t, hw)
	out, err := b.Commit(batch)
	require.NoError(t, err)
	assert.Equal(t, 2, out.Stored)
	assert.Equal(t, 1, out.Rejected)
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelSMS), "a prepared record applies as any other")
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, lee, allimi.TypeHealthCheckup, allimi.ChannelSMS))
}

func registryDurable[B RegistryBackend[B]](t *testing.T, b B) {
	code, err := allimi.NewReceiptCode()
	require.NoError(t, err)
	t0 := time.Now().Add(-10 * time.Minute)
	grant, _ := crossing(t, b, t0, false)
	commit(t, b, (&kiosk{id: "kiosk-c"}).signup(t, lee, allimi.ConsentPayload{
		Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelSMS), Receipt: code}, t0))
	_, err = b.Commit([]allimi.Incoming{{Kiosk: "kiosk-c", Reject: errors.New("payload: not JSON")}})
	require.NoError(t, err)
	commit(t, b, (&kiosk{id: "kiosk-d"}).record(t, allimi.KindFeedback, allimi.Citizen{}, allimi.FeedbackPayload{Entry: "e1", Helpful: true}, t0))
	st, err := b.Stats()
	require.NoError(t, err)

	b = b.Reopen(t)
	again, err := b.Stats()
	require.NoError(t, err)
	assert.Equal(t, st, again)
	assert.Equal(t, allimi.ActionWithdraw, consentOf(t, b, kim, allimi.TypeHealthCheckup, allimi.ChannelKakao))
	assert.Equal(t, allimi.ActionGrant, consentOf(t, b, lee, allimi.TypeHealthCheckup, allimi.ChannelSMS))
	cs, err := b.Conflicts(false)
	require.NoError(t, err)
	assert.Len(t, cs, 1)
	hw, err := b.HW("kiosk-c")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), hw)
	v, err := b.Receipt(code, lee.BirthDate)
	require.NoError(t, err)
	assert.Equal(t, lee.MaskedName(), v.Name)
	rs, err := b.Rejections(10)
	require.NoError(t, err)
	assert.Len(t, rs, 1)
	fb, err := b.Feedback()
	require.NoError(t, err)
	assert.Equal(t, []allimi.FeedbackCount{{Entry: "e1", Helpful: 1}}, fb)
	out := commit(t, b, grant)
	assert.Equal(t, 1, out.Duplicates, "a record stored before the restart is still a duplicate")
	require.NoError(t, b.ResolveConflict(cs[0].ID, allimi.ActionGrant, "officer-kim"))
}
