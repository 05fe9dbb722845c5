package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// DeliveryQueue checks allimi.DeliveryQueue, the dispatcher's storage:
// notifications and their recipients read in one snapshot, the due queue
// in time order per channel, delivery records, dead letters, early
// receipts, send-intents and statistics stored by UpdateDeliveries all
// together or not at all, read back by the transaction that made them and
// by officials through allimi.Deliveries, and durable when the backend is
// (DeliveryReopener).
func DeliveryQueue(t *testing.T, open OpenDeliveries) {
	for _, c := range []struct {
		name string
		test func(*testing.T, DeliveryBackend)
	}{
		{"NotificationRead", dqNotification},
		{"PutNotification", dqPutNotification},
		{"CampaignRecipients", dqCampaignRecipients},
		{"ListedRecipients", dqListedRecipients},
		{"DueInTimeOrder", dqDue},
		{"Records", dqRecords},
		{"RollbackOnError", dqRollback},
		{"DeadLetters", dqDeadLetters},
		{"EarlyReceipts", dqEarlyReceipts},
		{"SendIntents", dqSendIntents},
		{"CountDeliveries", dqCount},
		{"DetailLink", func(t *testing.T, b DeliveryBackend) { dqDetailLink(t, b, open(t)) }},
		{"Durable", dqDurable},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// people are n made-up citizens numbered from first, whose mobile
// numbers differ from those of any other first.
func people(first, n int) []allimi.Citizen {
	out := make([]allimi.Citizen, n)
	for i := range out {
		k := first + i
		out[i] = allimi.Citizen{Name: fmt.Sprintf("시민%d", k), Mobile: fmt.Sprintf("010-7%03d-%04d", k/10000, k%10000),
			BirthDate: time.Date(1940+k%50, time.Month(1+k%12), 1+k%28, 0, 0, 0, 0, time.UTC).Format(allimi.DateLayout)}
	}
	return out
}

func mask(chs ...allimi.Channel) byte {
	var m byte
	for _, ch := range chs {
		m |= allimi.ChannelBit(ch)
	}
	return m
}

// dqPeople seeds the suite's subscribers of health checkups: five by
// kakao and sms (both), three by sms only (smsOnly), and two who take
// vaccination notices only.
func dqPeople(t *testing.T, b DeliveryBackend) (both, smsOnly []allimi.Citizen) {
	t.Helper()
	both, smsOnly = people(1, 5), people(6, 3)
	b.Seed(t, both, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS)
	b.Seed(t, smsOnly, allimi.TypeHealthCheckup, allimi.ChannelSMS)
	b.Seed(t, people(9, 2), allimi.TypeVaccination, allimi.ChannelSMS)
	return both, smsOnly
}

// dqCampaign is an expanded health-checkup campaign to the suite's people:
// eight recipients.
func dqCampaign(t *testing.T, b DeliveryBackend) (allimi.Notification, []allimi.Citizen, []allimi.Citizen) {
	t.Helper()
	both, smsOnly := dqPeople(t, b)
	req := checkupRequest()
	n, _, err := b.CreateNotification("health-centre", "", req)
	require.NoError(t, err)
	n, err = b.ExpandCampaign(n.ID, nil)
	require.NoError(t, err)
	require.EqualValues(t, 8, n.Recipients)
	return n, both, smsOnly
}

func update(t *testing.T, b DeliveryBackend, f func(tx allimi.DeliveryTx)) {
	t.Helper()
	require.NoError(t, b.UpdateDeliveries(func(tx allimi.DeliveryTx) error { f(tx); return nil }))
}

func read(t *testing.T, b DeliveryBackend, f func(r allimi.DeliveryReader)) {
	t.Helper()
	require.NoError(t, b.ReadDeliveries(func(r allimi.DeliveryReader) error { f(r); return nil }))
}

// due lists ch's due entries.
func due(t *testing.T, r allimi.DeliveryReader, ch allimi.Channel) []allimi.DueEntry {
	t.Helper()
	var out []allimi.DueEntry
	require.NoError(t, r.Due(ch, func(e allimi.DueEntry) bool { out = append(out, e); return true }))
	return out
}

// sendIntents lists ch's send-intents.
func sendIntents(t *testing.T, r allimi.DeliveryReader, ch allimi.Channel) []allimi.SendIntent {
	t.Helper()
	var out []allimi.SendIntent
	require.NoError(t, r.SendIntents(ch, func(si allimi.SendIntent) bool { out = append(out, si); return true }))
	return out
}

// recipientsOf lists n's recipients on ch after seq after: their seqs, and
// the deliveries (nil for one without ch).
func recipientsOf(t *testing.T, r allimi.DeliveryReader, n *allimi.Notification, ch allimi.Channel, after uint32) ([]uint32, []*allimi.Outgoing) {
	t.Helper()
	var seqs []uint32
	var os []*allimi.Outgoing
	require.NoError(t, r.Recipients(n, ch, after, func(seq uint32, o *allimi.Outgoing) bool {
		seqs = append(seqs, seq)
		if o != nil {
			c := *o
			o = &c
		}
		os = append(os, o)
		return true
	}))
	return seqs, os
}

func seqRange(from, to uint32) []uint32 {
	var out []uint32
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func dqNotification(t *testing.T, b DeliveryBackend) {
	dqPeople(t, b)
	n, _, err := b.CreateNotification("health-centre", "", checkupRequest(people(1, 2)...))
	require.NoError(t, err)
	check := func(r allimi.DeliveryReader) {
		got, err := r.Notification(n.ID)
		require.NoError(t, err)
		assert.Equal(t, n.ID, got.ID)
		assert.Equal(t, "health-centre", got.Agency)
		assert.Equal(t, allimi.TypeHealthCheckup, got.Type)
		assert.Equal(t, n.Params, got.Params)
		assert.Equal(t, n.Title, got.Title)
		assert.Equal(t, n.Status, got.Status)
		assert.EqualValues(t, 2, got.Recipients)
		assert.Equal(t, n.Deliveries, got.Deliveries)
		assert.Equal(t, n.PerChannel, got.PerChannel)
		assert.True(t, n.ExpiresAt.Equal(got.ExpiresAt))
		_, err = r.Notification(n.ID + 1000)
		assert.ErrorIs(t, err, allimi.ErrNotFound)
	}
	read(t, b, check)
	update(t, b, func(tx allimi.DeliveryTx) { check(tx) })
}

func dqPutNotification(t *testing.T, b DeliveryBackend) {
	dqPeople(t, b)
	n, _, err := b.CreateNotification("health-centre", "", checkupRequest(people(1, 3)...))
	require.NoError(t, err)
	other, _, err := b.CreateNotification("health-centre", "", checkupRequest(people(1, 1)...))
	require.NoError(t, err)
	update(t, b, func(tx allimi.DeliveryTx) {
		got, err := tx.Notification(n.ID)
		require.NoError(t, err)
		got.Progress = map[allimi.Channel]uint32{allimi.ChannelKakao: 3, allimi.ChannelSMS: 2}
		require.NoError(t, tx.PutNotification(&got))
		again, err := tx.Notification(n.ID)
		require.NoError(t, err)
		assert.Equal(t, uint32(2), again.Progress[allimi.ChannelSMS], "a transaction sees its own changes")
	})
	got, err := b.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Equal(t, map[allimi.Channel]uint32{allimi.ChannelKakao: 3, allimi.ChannelSMS: 2}, got.Progress)
	assert.Equal(t, allimi.StatusSending, got.Status)
	assert.EqualValues(t, 3, got.Recipients, "the rest as it was")

	update(t, b, func(tx allimi.DeliveryTx) {
		got, err := tx.Notification(n.ID)
		require.NoError(t, err)
		got.Progress = map[allimi.Channel]uint32{allimi.ChannelKakao: got.Progress[allimi.ChannelKakao], allimi.ChannelSMS: 3}
		got.Status = allimi.StatusDone
		require.NoError(t, tx.PutNotification(&got))
	})
	read(t, b, func(r allimi.DeliveryReader) {
		got, err := r.Notification(n.ID)
		require.NoError(t, err)
		assert.Equal(t, allimi.StatusDone, got.Status)
		assert.Equal(t, uint32(3), got.Progress[allimi.ChannelSMS])
		o, err := r.Notification(other.ID)
		require.NoError(t, err)
		assert.Empty(t, o.Progress[allimi.ChannelSMS], "another notification untouched")
	})
	ns, err := b.ActiveNotifications()
	require.NoError(t, err)
	ids := []uint64{}
	for _, a := range ns {
		ids = append(ids, a.ID)
	}
	assert.Equal(t, []uint64{other.ID}, ids, "a notification put done is no longer active")
}

func dqCampaignRecipients(t *testing.T, b DeliveryBackend) {
	n, both, smsOnly := dqCampaign(t, b)
	var kakao, sms []*allimi.Outgoing
	read(t, b, func(r allimi.DeliveryReader) {
		var seqs []uint32
		seqs, kakao = recipientsOf(t, r, &n, allimi.ChannelKakao, 0)
		assert.Equal(t, seqRange(1, 8), seqs, "every recipient once, in order")
		seqs, sms = recipientsOf(t, r, &n, allimi.ChannelSMS, 0)
		assert.Equal(t, seqRange(1, 8), seqs)
		seqs, _ = recipientsOf(t, r, &n, allimi.ChannelNaver, 0)
		assert.Equal(t, seqRange(1, 8), seqs, "nobody takes naver: each given without a delivery")
	})
	require.Len(t, kakao, 8)
	require.Len(t, sms, 8)
	var onKakao, onSMS []allimi.Citizen
	for i := range 8 {
		seq := uint32(i + 1)
		for ch, o := range map[allimi.Channel]*allimi.Outgoing{allimi.ChannelKakao: kakao[i], allimi.ChannelSMS: sms[i]} {
			if o == nil {
				continue
			}
			assert.Equal(t, allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: ch}, o.Ref)
			if assert.NotNil(t, o.N) {
				assert.Equal(t, n.ID, o.N.ID)
			}
			assert.Zero(t, o.Prev, "not recorded")
			assert.True(t, o.Due.IsZero(), "not from the due queue")
			assert.Empty(t, o.Params, "a campaign's recipients have no parameters of their own")
		}
		require.NotNil(t, sms[i], "everyone takes sms")
		onSMS = append(onSMS, sms[i].Citizen)
		if kakao[i] == nil {
			assert.True(t, slices.Contains(smsOnly, sms[i].Citizen), "seq %d, %v: without kakao", seq, sms[i].Citizen)
			assert.Equal(t, mask(allimi.ChannelSMS), sms[i].Mask)
			continue
		}
		onKakao = append(onKakao, kakao[i].Citizen)
		assert.Equal(t, sms[i].Citizen, kakao[i].Citizen, "seq %d is one person", seq)
		assert.Equal(t, sms[i].Token, kakao[i].Token, "one detail page per recipient")
		assert.Equal(t, mask(allimi.ChannelKakao, allimi.ChannelSMS), kakao[i].Mask)
		assert.Equal(t, kakao[i].Mask, sms[i].Mask)
	}
	assert.ElementsMatch(t, both, onKakao, "each kakao subscriber once, with their contact")
	assert.ElementsMatch(t, append(slices.Clone(both), smsOnly...), onSMS, "each sms subscriber once")

	read(t, b, func(r allimi.DeliveryReader) {
		seqs, os := recipientsOf(t, r, &n, allimi.ChannelSMS, 3)
		require.Equal(t, seqRange(4, 8), seqs, "only after 3")
		for i, o := range os {
			if assert.NotNil(t, o) {
				assert.Equal(t, sms[i+3].Citizen, o.Citizen, "seq %d the same person", seqs[i])
				assert.Equal(t, sms[i+3].Ref, o.Ref)
			}
		}
		seqs, _ = recipientsOf(t, r, &n, allimi.ChannelSMS, 8)
		assert.Empty(t, seqs, "none after the last")
		calls := 0
		require.NoError(t, r.Recipients(&n, allimi.ChannelSMS, 0, func(uint32, *allimi.Outgoing) bool { calls++; return calls < 2 }))
		assert.Equal(t, 2, calls, "until each returns false")

		firstKakao := slices.IndexFunc(kakao, func(o *allimi.Outgoing) bool { return o != nil })
		require.NotEqual(t, -1, firstKakao)
		for _, want := range []*allimi.Outgoing{sms[1], sms[6], kakao[firstKakao]} {
			o, err := r.Outgoing(&n, want.Ref)
			require.NoError(t, err)
			assert.Equal(t, want.Ref, o.Ref)
			assert.Equal(t, want.Citizen, o.Citizen)
			assert.Equal(t, want.Mask, o.Mask)
			assert.Equal(t, want.Token, o.Token)
			assert.Empty(t, o.Params)
			assert.Zero(t, o.Prev)
		}
		_, err := r.Outgoing(&n, allimi.DeliveryRef{Notification: n.ID, Seq: 9, Channel: allimi.ChannelSMS})
		assert.Error(t, err, "no recipient 9")
	})
}

func dqListedRecipients(t *testing.T, b DeliveryBackend) {
	both, smsOnly := dqPeople(t, b)
	req := checkupRequest(smsOnly[0], both[2], people(50, 1)[0])
	req.Audience.Citizens[0].Params = map[string]string{"year": "2027"}
	n, _, err := b.CreateNotification("health-centre", "", req)
	require.NoError(t, err)
	require.EqualValues(t, 2, n.Recipients)
	read(t, b, func(r allimi.DeliveryReader) {
		seqs, os := recipientsOf(t, r, &n, allimi.ChannelSMS, 0)
		assert.Equal(t, seqRange(1, 2), seqs)
		byMobile := map[string]*allimi.Outgoing{}
		for _, o := range os {
			require.NotNil(t, o)
			byMobile[o.Citizen.Mobile] = o
		}
		if o := byMobile[smsOnly[0].Mobile]; assert.NotNil(t, o) {
			assert.Equal(t, smsOnly[0], o.Citizen)
			assert.Equal(t, map[string]string{"year": "2027"}, o.Params, "the recipient's own parameters")
			assert.Equal(t, mask(allimi.ChannelSMS), o.Mask)
			got, err := r.Outgoing(&n, o.Ref)
			require.NoError(t, err)
			assert.Equal(t, o.Params, got.Params)
		}
		if o := byMobile[both[2].Mobile]; assert.NotNil(t, o) {
			assert.Equal(t, both[2], o.Citizen)
			assert.Empty(t, o.Params)
			assert.Equal(t, mask(allimi.ChannelKakao, allimi.ChannelSMS), o.Mask)
		}
		seqs, os = recipientsOf(t, r, &n, allimi.ChannelKakao, 0)
		assert.Equal(t, seqRange(1, 2), seqs)
		assert.Equal(t, 1, countNil(os), "one of the two takes no kakao")
	})
}

func countNil(os []*allimi.Outgoing) int {
	n := 0
	for _, o := range os {
		if o == nil {
			n++
		}
	}
	return n
}

// ref is delivery seq of n on ch.
func ref(n allimi.Notification, seq uint32, ch allimi.Channel) allimi.DeliveryRef {
	return allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: ch}
}

// dueRefs are the refs, times and flags of entries, for comparing.
func dueRefs(es []allimi.DueEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s@%d/%d", e.Ref.Key(), e.At.UnixMilli(), e.Flags))
	}
	return out
}

func dueRef(r allimi.DeliveryRef, at time.Time, flags byte) string {
	return fmt.Sprintf("%s@%d/%d", r.Key(), at.UnixMilli(), flags)
}

func dqDue(t *testing.T, b DeliveryBackend) {
	n, _, _ := dqCampaign(t, b)
	t0 := time.Now().Truncate(time.Millisecond)
	r1, r2, r3, r4 := ref(n, 1, allimi.ChannelSMS), ref(n, 2, allimi.ChannelSMS), ref(n, 3, allimi.ChannelSMS), ref(n, 4, allimi.ChannelSMS)
	k1 := ref(n, 1, allimi.ChannelKakao)
	read(t, b, func(r allimi.DeliveryReader) { assert.Empty(t, due(t, r, allimi.ChannelSMS)) })
	want := []string{dueRef(r2, t0.Add(-time.Minute), allimi.DeliveryFallback), dueRef(r3, t0, 0),
		dueRef(r1, t0.Add(2*time.Second), 0), dueRef(r4, t0.Add(24*time.Hour), 0)}
	update(t, b, func(tx allimi.DeliveryTx) {
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: r1, At: t0.Add(2*time.Second + 700*time.Microsecond)}))
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: r4, At: t0.Add(24 * time.Hour)}))
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: r2, At: t0.Add(-time.Minute), Flags: allimi.DeliveryFallback}))
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: k1, At: t0.Add(-time.Hour)}))
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: r3, At: t0}))
		assert.Equal(t, want, dueRefs(due(t, tx, allimi.ChannelSMS)), "a transaction sees its own changes")
	})
	read(t, b, func(r allimi.DeliveryReader) {
		es := due(t, r, allimi.ChannelSMS)
		assert.Equal(t, want, dueRefs(es), "earliest first, those not yet due too, at millisecond precision")
		if assert.Len(t, es, 4) {
			assert.True(t, es[2].At.Equal(t0.Add(2*time.Second)), "%s: millisecond precision", es[2].At)
		}
		assert.Equal(t, []string{dueRef(k1, t0.Add(-time.Hour), 0)}, dueRefs(due(t, r, allimi.ChannelKakao)), "each channel its own")
		assert.Empty(t, due(t, r, allimi.ChannelNaver))
		calls := 0
		require.NoError(t, r.Due(allimi.ChannelSMS, func(allimi.DueEntry) bool { calls++; return false }))
		assert.Equal(t, 1, calls, "until each returns false")
	})

	update(t, b, func(tx allimi.DeliveryTx) {
		require.NoError(t, tx.DeleteDue(r3, t0))
		require.NoError(t, tx.DeleteDue(r1, t0.Add(time.Second)), "no entry of that time: nothing to delete")
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: r2, At: t0.Add(time.Hour)}))
	})
	read(t, b, func(r allimi.DeliveryReader) {
		assert.Equal(t, []string{dueRef(r2, t0.Add(-time.Minute), allimi.DeliveryFallback), dueRef(r1, t0.Add(2*time.Second), 0),
			dueRef(r2, t0.Add(time.Hour), 0), dueRef(r4, t0.Add(24*time.Hour), 0)},
			dueRefs(due(t, r, allimi.ChannelSMS)), "r3 gone; r1's entry kept, r2 due twice")
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		for _, e := range due(t, tx, allimi.ChannelSMS) {
			require.NoError(t, tx.DeleteDue(e.Ref, e.At))
		}
		assert.Empty(t, due(t, tx, allimi.ChannelSMS))
	})
	read(t, b, func(r allimi.DeliveryReader) {
		assert.Empty(t, due(t, r, allimi.ChannelSMS))
		assert.Len(t, due(t, r, allimi.ChannelKakao), 1)
	})
}

func record(state allimi.DeliveryState, reason string) allimi.DeliveryRecord {
	now := time.Now().UnixMilli()
	return allimi.DeliveryRecord{State: state, Attempts: 2, Flags: allimi.DeliveryFallback, First: now - 60000, Updated: now, Reason: reason}
}

func status(t *testing.T, b DeliveryBackend, r allimi.DeliveryRef) string {
	t.Helper()
	st, reason, err := b.DeliveryStatus(r)
	require.NoError(t, err)
	return st.String() + " " + reason
}

func dqRecords(t *testing.T, b DeliveryBackend) {
	n, _, _ := dqCampaign(t, b)
	r1, r2 := ref(n, 1, allimi.ChannelSMS), ref(n, 2, allimi.ChannelSMS)
	rec := record(allimi.DeliveryRetrying, "timeout")
	update(t, b, func(tx allimi.DeliveryTx) {
		_, ok, err := tx.Delivery(r1)
		require.NoError(t, err)
		assert.False(t, ok, "not recorded yet")
		require.NoError(t, tx.PutDelivery(r1, rec))
		got, ok, err := tx.Delivery(r1)
		require.NoError(t, err)
		assert.True(t, ok, "a transaction sees its own changes")
		assert.Equal(t, rec, got)
		o, err := tx.Outgoing(&n, r1)
		require.NoError(t, err)
		assert.Equal(t, rec, o.Prev)
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		got, ok, err := tx.Delivery(r1)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, rec, got)
		for _, other := range []allimi.DeliveryRef{r2, ref(n, 1, allimi.ChannelKakao), {Notification: n.ID + 1, Seq: 1, Channel: allimi.ChannelSMS}} {
			_, ok, err := tx.Delivery(other)
			require.NoError(t, err)
			assert.False(t, ok, other.Key())
		}
	})
	read(t, b, func(r allimi.DeliveryReader) {
		o, err := r.Outgoing(&n, r1)
		require.NoError(t, err)
		assert.Equal(t, rec, o.Prev, "the stored record")
		o, err = r.Outgoing(&n, r2)
		require.NoError(t, err)
		assert.Zero(t, o.Prev, "none stored")
	})
	assert.Equal(t, "retrying timeout", status(t, b, r1), "officials see it")
	assert.Equal(t, "queued ", status(t, b, r2))

	accepted := allimi.DeliveryRecord{State: allimi.DeliveryAccepted, Attempts: 3, First: rec.First, Updated: rec.Updated + 5000}
	update(t, b, func(tx allimi.DeliveryTx) { require.NoError(t, tx.PutDelivery(r1, accepted)) })
	update(t, b, func(tx allimi.DeliveryTx) {
		got, _, err := tx.Delivery(r1)
		require.NoError(t, err)
		assert.Equal(t, accepted, got, "replaced")
	})
	assert.Equal(t, "accepted ", status(t, b, r1))
}

var errRollback = errors.New("storetest: rolled back")

func dqRollback(t *testing.T, b DeliveryBackend) {
	n, _, _ := dqCampaign(t, b)
	r1, r2 := ref(n, 1, allimi.ChannelSMS), ref(n, 2, allimi.ChannelKakao)
	at := time.Now().Truncate(time.Millisecond)
	runs := 0
	err := b.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
		runs++
		m, err := tx.Notification(n.ID)
		require.NoError(t, err)
		m.Progress = map[allimi.Channel]uint32{allimi.ChannelSMS: 5}
		m.Status = allimi.StatusDone
		require.NoError(t, tx.PutNotification(&m))
		require.NoError(t, tx.PutDelivery(r1, record(allimi.DeliveryDeadLetter, "gave up")))
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: r2, At: at}))
		require.NoError(t, tx.PutDeadLetter(r1, allimi.DeadLetter{ID: r1.Key(), Notification: n.ID, Type: n.Type, Channel: r1.Channel, Reason: "gave up", Attempts: 2, At: at}))
		require.NoError(t, tx.PutEarlyReceipt(r2, allimi.ProviderReceipt{Channel: r2.Channel, IdempotencyKey: r2.Key(), Status: "delivered", At: at}))
		require.NoError(t, tx.PutSendIntent(allimi.SendIntent{Ref: r1, At: at.UnixMilli(), Group: 9}))
		require.NoError(t, tx.CountDeliveries(n.Type, allimi.ChannelSMS, "failed", 7))
		_, ok, err := tx.Delivery(r1)
		require.NoError(t, err)
		require.True(t, ok)
		return fmt.Errorf("after everything: %w", errRollback)
	})
	assert.ErrorIs(t, err, errRollback, "f's error is returned")
	assert.Equal(t, 1, runs)

	got, err := b.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Progress[allimi.ChannelSMS], "the notification as it was")
	assert.Equal(t, n.Status, got.Status)
	assert.Equal(t, "queued ", status(t, b, r1))
	dl, total, err := b.DeadLetters(10)
	require.NoError(t, err)
	assert.Empty(t, dl)
	assert.Zero(t, total)
	st, err := b.DeliveryStats()
	require.NoError(t, err)
	assert.Zero(t, st[string(n.Type)][string(allimi.ChannelSMS)]["failed"], "nothing counted")
	read(t, b, func(r allimi.DeliveryReader) {
		m, err := r.Notification(n.ID)
		require.NoError(t, err)
		assert.Empty(t, m.Progress[allimi.ChannelSMS])
		assert.Empty(t, due(t, r, allimi.ChannelKakao))
		assert.Empty(t, sendIntents(t, r, allimi.ChannelSMS))
		o, err := r.Outgoing(&n, r1)
		require.NoError(t, err)
		assert.Zero(t, o.Prev)
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		_, ok, err := tx.Delivery(r1)
		require.NoError(t, err)
		assert.False(t, ok, "no record")
		_, ok, err = tx.EarlyReceipt(r2)
		require.NoError(t, err)
		assert.False(t, ok, "no early receipt")
		_, ok, err = tx.SendIntent(r1)
		require.NoError(t, err)
		assert.False(t, ok, "no send-intent")
	})
}

func deadLetter(n allimi.Notification, r allimi.DeliveryRef, reason string, at time.Time) allimi.DeadLetter {
	return allimi.DeadLetter{ID: r.Key(), Notification: n.ID, Type: n.Type, Channel: r.Channel, Reason: reason, Attempts: 5, At: at}
}

func assertDeadLetters(t *testing.T, want, got []allimi.DeadLetter) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		assert.True(t, w.At.Equal(g.At), "%s at %s, stored %s", w.ID, g.At, w.At)
		w.At, g.At = time.Time{}, time.Time{}
		assert.Equal(t, w, g)
	}
}

func dqDeadLetters(t *testing.T, b DeliveryBackend) {
	n, _, _ := dqCampaign(t, b)
	r1, r2 := ref(n, 1, allimi.ChannelSMS), ref(n, 2, allimi.ChannelKakao)
	at := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	d1, d2 := deadLetter(n, r1, "3019 not a user", at), deadLetter(n, r2, "expired token", at.Add(time.Minute))
	update(t, b, func(tx allimi.DeliveryTx) {
		for _, d := range []struct {
			r  allimi.DeliveryRef
			dl allimi.DeadLetter
		}{{r1, d1}, {r2, d2}} {
			require.NoError(t, tx.PutDelivery(d.r, record(allimi.DeliveryDeadLetter, d.dl.Reason)))
			require.NoError(t, tx.PutDeadLetter(d.r, d.dl))
		}
	})
	dl, total, err := b.DeadLetters(10)
	require.NoError(t, err)
	assert.Equal(t, 2, total)
	assertDeadLetters(t, []allimi.DeadLetter{d1, d2}, dl)
	dl, total, err = b.DeadLetters(1)
	require.NoError(t, err)
	assert.Equal(t, 2, total, "all counted")
	assert.Len(t, dl, 1, "up to limit listed")
	assert.Equal(t, "deadLetter 3019 not a user", status(t, b, r1))

	replayed, err := b.ReplayDeadLetters(r1.Key())
	require.NoError(t, err)
	assert.Equal(t, 1, replayed)
	dl, total, err = b.DeadLetters(10)
	require.NoError(t, err)
	assert.Equal(t, 1, total)
	assertDeadLetters(t, []allimi.DeadLetter{d2}, dl)
	read(t, b, func(r allimi.DeliveryReader) {
		es := due(t, r, allimi.ChannelSMS)
		if assert.Len(t, es, 1, "replayed into the due queue") {
			assert.Equal(t, r1, es[0].Ref)
		}
		assert.Empty(t, due(t, r, allimi.ChannelKakao))
	})
	_, err = b.ReplayDeadLetters(r1.Key())
	assert.ErrorIs(t, err, allimi.ErrNotFound, "replayed once")

	replayed, err = b.ReplayDeadLetters("")
	require.NoError(t, err)
	assert.Equal(t, 1, replayed, "the rest")
	_, total, err = b.DeadLetters(10)
	require.NoError(t, err)
	assert.Zero(t, total)
	read(t, b, func(r allimi.DeliveryReader) {
		es := due(t, r, allimi.ChannelKakao)
		if assert.Len(t, es, 1) {
			assert.Equal(t, r2, es[0].Ref)
		}
	})
}

func assertReceipt(t *testing.T, want, got allimi.ProviderReceipt) {
	t.Helper()
	assert.True(t, want.At.Equal(got.At), "at %s, stored %s", got.At, want.At)
	want.At, got.At = time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

func dqEarlyReceipts(t *testing.T, b DeliveryBackend) {
	n, _, _ := dqCampaign(t, b)
	r1, r2 := ref(n, 1, allimi.ChannelSMS), ref(n, 1, allimi.ChannelKakao)
	at := time.Date(2026, 12, 1, 9, 30, 0, 123000000, time.UTC)
	p1 := allimi.ProviderReceipt{Channel: r1.Channel, IdempotencyKey: r1.Key(), ProviderID: "nhn-1", Status: "delivered", At: at}
	p2 := allimi.ProviderReceipt{Channel: r2.Channel, IdempotencyKey: r2.Key(), ProviderID: "kakao-9", Status: "failed", Reason: "blocked", At: at}
	update(t, b, func(tx allimi.DeliveryTx) {
		_, ok, err := tx.EarlyReceipt(r1)
		require.NoError(t, err)
		assert.False(t, ok)
		require.NoError(t, tx.PutEarlyReceipt(r1, p1))
		got, ok, err := tx.EarlyReceipt(r1)
		require.NoError(t, err)
		assert.True(t, ok, "a transaction sees its own changes")
		assertReceipt(t, p1, got)
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		got, ok, err := tx.EarlyReceipt(r1)
		require.NoError(t, err)
		assert.True(t, ok)
		assertReceipt(t, p1, got)
		_, ok, err = tx.EarlyReceipt(r2)
		require.NoError(t, err)
		assert.False(t, ok, "another channel's delivery has none")
		require.NoError(t, tx.PutEarlyReceipt(r2, p2))
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		require.NoError(t, tx.DeleteEarlyReceipt(r1))
		_, ok, err := tx.EarlyReceipt(r1)
		require.NoError(t, err)
		assert.False(t, ok, "forgotten")
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		_, ok, err := tx.EarlyReceipt(r1)
		require.NoError(t, err)
		assert.False(t, ok, "forgotten for good")
		got, ok, err := tx.EarlyReceipt(r2)
		require.NoError(t, err)
		assert.True(t, ok, "the other kept")
		assertReceipt(t, p2, got)
	})
}

func dqSendIntents(t *testing.T, b DeliveryBackend) {
	n, _, _ := dqCampaign(t, b)
	now := time.Now().UnixMilli()
	s1 := allimi.SendIntent{Ref: ref(n, 1, allimi.ChannelSMS), At: now, Group: 1 << 40, Fresh: true}
	s2 := allimi.SendIntent{Ref: ref(n, 4, allimi.ChannelSMS), At: now + 1, Group: 7, Flags: allimi.DeliveryFallback}
	k1 := allimi.SendIntent{Ref: ref(n, 1, allimi.ChannelKakao), At: now - 5, Group: 8, Fresh: true}
	update(t, b, func(tx allimi.DeliveryTx) {
		_, ok, err := tx.SendIntent(s1.Ref)
		require.NoError(t, err)
		assert.False(t, ok)
		for _, si := range []allimi.SendIntent{s1, s2, k1} {
			require.NoError(t, tx.PutSendIntent(si))
		}
		got, ok, err := tx.SendIntent(s2.Ref)
		require.NoError(t, err)
		assert.True(t, ok, "a transaction sees its own changes")
		assert.Equal(t, s2, got)
		assert.ElementsMatch(t, []allimi.SendIntent{s1, s2}, sendIntents(t, tx, allimi.ChannelSMS))
	})
	read(t, b, func(r allimi.DeliveryReader) {
		assert.ElementsMatch(t, []allimi.SendIntent{s1, s2}, sendIntents(t, r, allimi.ChannelSMS), "each channel its own")
		assert.Equal(t, []allimi.SendIntent{k1}, sendIntents(t, r, allimi.ChannelKakao))
		assert.Empty(t, sendIntents(t, r, allimi.ChannelNaver))
		calls := 0
		require.NoError(t, r.SendIntents(allimi.ChannelSMS, func(allimi.SendIntent) bool { calls++; return false }))
		assert.Equal(t, 1, calls, "until each returns false")
	})
	s1b := s1
	s1b.At, s1b.Group, s1b.Fresh = now+100, 99, false
	update(t, b, func(tx allimi.DeliveryTx) {
		got, ok, err := tx.SendIntent(s1.Ref)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, s1, got)
		require.NoError(t, tx.PutSendIntent(s1b))
		require.NoError(t, tx.DeleteSendIntent(s2.Ref))
		_, ok, err = tx.SendIntent(s2.Ref)
		require.NoError(t, err)
		assert.False(t, ok, "forgotten")
	})
	read(t, b, func(r allimi.DeliveryReader) {
		assert.Equal(t, []allimi.SendIntent{s1b}, sendIntents(t, r, allimi.ChannelSMS), "s1 replaced, s2 forgotten")
		assert.Equal(t, []allimi.SendIntent{k1}, sendIntents(t, r, allimi.ChannelKakao))
	})
}

func dqCount(t *testing.T, b DeliveryBackend) {
	dqPeople(t, b)
	hc, vac := string(allimi.TypeHealthCheckup), string(allimi.TypeVaccination)
	sms, kakao := string(allimi.ChannelSMS), string(allimi.ChannelKakao)
	st, err := b.DeliveryStats()
	require.NoError(t, err)
	assert.EqualValues(t, 8, st[hc][sms]["subscribers"], "the seeded subscribers")
	assert.EqualValues(t, 5, st[hc][kakao]["subscribers"])
	assert.EqualValues(t, 2, st[vac][sms]["subscribers"])
	assert.Zero(t, st[hc][sms]["accepted"])
	update(t, b, func(tx allimi.DeliveryTx) {
		require.NoError(t, tx.CountDeliveries(allimi.TypeHealthCheckup, allimi.ChannelSMS, "accepted", 2))
		require.NoError(t, tx.CountDeliveries(allimi.TypeHealthCheckup, allimi.ChannelKakao, "accepted", 1))
		require.NoError(t, tx.CountDeliveries(allimi.TypeVaccination, allimi.ChannelSMS, "failed", 4))
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		require.NoError(t, tx.CountDeliveries(allimi.TypeHealthCheckup, allimi.ChannelSMS, "accepted", 3))
		require.NoError(t, tx.CountDeliveries(allimi.TypeHealthCheckup, allimi.ChannelSMS, "delivered", 1))
	})
	st, err = b.DeliveryStats()
	require.NoError(t, err)
	assert.EqualValues(t, 5, st[hc][sms]["accepted"], "added up")
	assert.EqualValues(t, 1, st[hc][sms]["delivered"])
	assert.EqualValues(t, 1, st[hc][kakao]["accepted"])
	assert.EqualValues(t, 4, st[vac][sms]["failed"])
	assert.Zero(t, st[vac][sms]["accepted"])
	assert.Zero(t, st[hc][kakao]["failed"])
	assert.EqualValues(t, 8, st[hc][sms]["subscribers"], "subscribers as they were")
}

func dqDetailLink(t *testing.T, b, other DeliveryBackend) {
	n, _, _ := dqCampaign(t, b)
	var o1, o2 allimi.Outgoing
	read(t, b, func(r allimi.DeliveryReader) {
		var err error
		o1, err = r.Outgoing(&n, ref(n, 1, allimi.ChannelSMS))
		require.NoError(t, err)
		o2, err = r.Outgoing(&n, ref(n, 2, allimi.ChannelSMS))
		require.NoError(t, err)
	})
	l1 := b.DetailLink(o1.Ref, o1.Token)
	assert.Contains(t, l1, "/n/")
	assert.Equal(t, l1, b.DetailLink(o1.Ref, o1.Token), "the same at every resend")
	kakao := o1.Ref
	kakao.Channel = allimi.ChannelKakao
	assert.Equal(t, l1, b.DetailLink(kakao, o1.Token), "one page per recipient, whatever the channel")
	l2 := b.DetailLink(o2.Ref, o2.Token)
	assert.NotEqual(t, l1, l2, "another recipient's page")
	assert.False(t, strings.Contains(l1, o1.Ref.Key()), "%s: not the delivery key", l1)

	// Another store's keys give another link to its recipient 1 of its
	// notification 1: a link is not to be guessed from what it names.
	on, _, _ := dqCampaign(t, other)
	require.Equal(t, n.ID, on.ID, "both stores' first notification")
	var oo allimi.Outgoing
	read(t, other, func(r allimi.DeliveryReader) {
		var err error
		oo, err = r.Outgoing(&on, ref(on, 1, allimi.ChannelSMS))
		require.NoError(t, err)
	})
	assert.NotEqual(t, l1, other.DetailLink(oo.Ref, oo.Token), "keyed")
}

func dqDurable(t *testing.T, b DeliveryBackend) {
	re, ok := b.(DeliveryReopener)
	if !ok {
		t.Skip("the backend keeps nothing across a restart")
	}
	n, _, _ := dqCampaign(t, b)
	r1, r2 := ref(n, 1, allimi.ChannelSMS), ref(n, 2, allimi.ChannelKakao)
	at := time.Now().Truncate(time.Millisecond)
	rec := record(allimi.DeliveryRetrying, "timeout")
	si := allimi.SendIntent{Ref: r2, At: at.UnixMilli(), Group: 12, Flags: allimi.DeliveryFallback, Fresh: true}
	p := allimi.ProviderReceipt{Channel: r2.Channel, IdempotencyKey: r2.Key(), ProviderID: "p", Status: "delivered", At: at.UTC()}
	d := deadLetter(n, r2, "gave up", at)
	update(t, b, func(tx allimi.DeliveryTx) {
		m, err := tx.Notification(n.ID)
		require.NoError(t, err)
		m.Progress = map[allimi.Channel]uint32{allimi.ChannelSMS: 4}
		require.NoError(t, tx.PutNotification(&m))
		require.NoError(t, tx.PutDelivery(r1, rec))
		require.NoError(t, tx.PutDue(allimi.DueEntry{Ref: r1, At: at, Flags: allimi.DeliveryFallback}))
		require.NoError(t, tx.PutSendIntent(si))
		require.NoError(t, tx.PutEarlyReceipt(r2, p))
		require.NoError(t, tx.PutDeadLetter(r2, d))
		require.NoError(t, tx.CountDeliveries(n.Type, allimi.ChannelSMS, "accepted", 6))
	})
	var o allimi.Outgoing
	read(t, b, func(r allimi.DeliveryReader) {
		var err error
		o, err = r.Outgoing(&n, r1)
		require.NoError(t, err)
	})
	link := b.DetailLink(o.Ref, o.Token)

	b = re.ReopenDeliveries(t)
	read(t, b, func(r allimi.DeliveryReader) {
		m, err := r.Notification(n.ID)
		require.NoError(t, err)
		assert.Equal(t, uint32(4), m.Progress[allimi.ChannelSMS])
		assert.EqualValues(t, 8, m.Recipients)
		assert.Equal(t, []string{dueRef(r1, at, allimi.DeliveryFallback)}, dueRefs(due(t, r, allimi.ChannelSMS)))
		assert.Equal(t, []allimi.SendIntent{si}, sendIntents(t, r, allimi.ChannelKakao))
		got, err := r.Outgoing(&m, r1)
		require.NoError(t, err)
		assert.Equal(t, rec, got.Prev)
		assert.Equal(t, o.Citizen, got.Citizen)
		assert.Equal(t, o.Token, got.Token)
		seqs, _ := recipientsOf(t, r, &m, allimi.ChannelSMS, 0)
		assert.Equal(t, seqRange(1, 8), seqs)
	})
	update(t, b, func(tx allimi.DeliveryTx) {
		got, ok, err := tx.EarlyReceipt(r2)
		require.NoError(t, err)
		if assert.True(t, ok) {
			assertReceipt(t, p, got)
		}
	})
	dl, _, err := b.DeadLetters(10)
	require.NoError(t, err)
	assertDeadLetters(t, []allimi.DeadLetter{d}, dl)
	st, err := b.DeliveryStats()
	require.NoError(t, err)
	assert.EqualValues(t, 6, st[string(n.Type)][string(allimi.ChannelSMS)]["accepted"])
	assert.Equal(t, link, b.DetailLink(o.Ref, o.Token), "the same link after a restart")
}
