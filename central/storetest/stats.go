package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// StatsBackend is what the Stats suite needs of a store: the kiosks and
// their regions, the registry that keeps people (their sign-up's region,
// the people per channel), the notifications and the dispatcher's side
// that reads recipients and counts outcomes, the reports, and a restart.
type StatsBackend[B any] interface {
	allimi.Registry
	allimi.Kiosks
	allimi.KioskRegions
	allimi.SubscriberReports
	allimi.Notifications
	allimi.DeliveryQueue
	allimi.DeliveryReports
	Reopen(t *testing.T) B
}

// Stats checks the ministry's statistics as a store keeps them: kiosks'
// regions (checked, canonical, kept through a new password, durable);
// people (not consents) counted per channel as grants and withdrawals
// change; each person's region, the one of the kiosk of their last
// sign-up, given with every delivery to them; the dated delivery counts,
// summed and read by period; and a notification's records per channel
// and state.
func Stats[B StatsBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"KioskRegions", statsKioskRegions[B]},
		{"PeoplePerChannel", statsPeoplePerChannel[B]},
		{"RegionsGoWithThePerson", statsRegions[B]},
		{"DailyDeliveries", statsDaily[B]},
		{"NotificationChannels", statsNotificationChannels[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

func statsKioskRegions[B StatsBackend[B]](t *testing.T, b B) {
	_, err := b.KioskRegion("nowhere")
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	assert.ErrorIs(t, b.SetKioskRegion("nowhere", "서울"), allimi.ErrNotFound)
	_, err = b.AddKiosk("kiosk-a")
	require.NoError(t, err)
	got, err := b.KioskRegion("kiosk-a")
	require.NoError(t, err)
	assert.Empty(t, got, "none until set")
	for _, bad := range []string{"화성", "서울/종로구/청운동", "Seoul", "서울/" + string(make([]byte, 100))} {
		assert.ErrorIs(t, b.SetKioskRegion("kiosk-a", bad), allimi.ErrInvalid, "%q", bad)
	}
	require.NoError(t, b.SetKioskRegion("kiosk-a", "서울/종로구"))
	got, err = b.KioskRegion("kiosk-a")
	require.NoError(t, err)
	assert.Equal(t, "서울특별시/종로구", got, "the 시도 by its official name")
	_, err = b.AddKiosk("kiosk-a") // a new password
	require.NoError(t, err)
	b = b.Reopen(t)
	got, err = b.KioskRegion("kiosk-a")
	require.NoError(t, err)
	assert.Equal(t, "서울특별시/종로구", got, "kept through a new password and a restart")
	require.NoError(t, b.SetKioskRegion("kiosk-a", "경기"))
	got, _ = b.KioskRegion("kiosk-a")
	assert.Equal(t, "경기도", got)
	require.NoError(t, b.SetKioskRegion("kiosk-a", ""))
	got, _ = b.KioskRegion("kiosk-a")
	assert.Empty(t, got, "cleared")
}

func statsPeoplePerChannel[B StatsBackend[B]](t *testing.T, b B) {
	people := func(b B) map[allimi.Channel]int64 {
		t.Helper()
		m, err := b.ChannelSubscribers()
		require.NoError(t, err)
		return map[allimi.Channel]int64{allimi.ChannelKakao: m[allimi.ChannelKakao], allimi.ChannelNaver: m[allimi.ChannelNaver],
			allimi.ChannelToss: m[allimi.ChannelToss], allimi.ChannelSMS: m[allimi.ChannelSMS]}
	}
	assert.Equal(t, map[allimi.Channel]int64{allimi.ChannelKakao: 0, allimi.ChannelNaver: 0, allimi.ChannelToss: 0, allimi.ChannelSMS: 0}, people(b))
	t0 := time.Now().Add(-time.Hour)
	k := &kiosk{id: "kiosk-a"}
	// kim: two types on SMS (one person), kakao for one; lee: SMS;
	// park: naver, twice in one sign-up's types.
	commit(t, b,
		k.signup(t, kim, allimi.ConsentPayload{Consents: append(grants(t0, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS),
			grants(t0, allimi.TypeVaccination, allimi.ChannelSMS)...), Verified: true}, t0),
		k.signup(t, lee, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, t0),
		k.signup(t, park, allimi.ConsentPayload{Consents: append(grants(t0, allimi.TypeHealthCheckup, allimi.ChannelNaver),
			grants(t0, allimi.TypeVaccination, allimi.ChannelNaver)...), Verified: true}, t0))
	assert.Equal(t, map[allimi.Channel]int64{allimi.ChannelKakao: 1, allimi.ChannelNaver: 1, allimi.ChannelToss: 0, allimi.ChannelSMS: 2}, people(b))
	n, err := b.Subscribers()
	require.NoError(t, err)
	assert.EqualValues(t, 3, n)

	later := t0.Add(time.Minute)
	commit(t, b,
		// kim leaves kakao and one of her two SMS types: still on SMS.
		k.consent(t, kim, append(withdrawals(later, allimi.TypeHealthCheckup, allimi.ChannelKakao),
			withdrawals(later, allimi.TypeVaccination, allimi.ChannelSMS)...), later),
		// park leaves one of his naver types, then takes toss.
		k.consent(t, park, append(withdrawals(later, allimi.TypeHealthCheckup, allimi.ChannelNaver),
			grants(later, allimi.TypeHealthCheckup, allimi.ChannelToss)...), later),
		// lee leaves altogether.
		k.consent(t, lee, withdrawals(later, allimi.TypeHealthCheckup, allimi.ChannelSMS), later))
	want := map[allimi.Channel]int64{allimi.ChannelKakao: 0, allimi.ChannelNaver: 1, allimi.ChannelToss: 1, allimi.ChannelSMS: 1}
	assert.Equal(t, want, people(b))
	b = b.Reopen(t)
	assert.Equal(t, want, people(b), "durable")

	// A grant and a withdrawal crossing between kiosks: the withdrawal
	// wins until an official resolves it for the grant.
	t1 := later.Add(time.Minute)
	commit(t, b, k.consent(t, kim, grants(t1, allimi.TypeVaccination, allimi.ChannelKakao), t1))
	commit(t, b, (&kiosk{id: "kiosk-b"}).consent(t, kim, withdrawals(t1.Add(10*time.Second), allimi.TypeVaccination, allimi.ChannelKakao), t1.Add(10*time.Second)))
	assert.Zero(t, people(b)[allimi.ChannelKakao], "the withdrawal won")
	cs, err := b.Conflicts(false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.NoError(t, b.ResolveConflict(cs[0].ID, allimi.ActionGrant, "officer-kim"))
	assert.EqualValues(t, 1, people(b)[allimi.ChannelKakao], "the official's grant counts kim on kakao again")
}

func statsRegions[B StatsBackend[B]](t *testing.T, b B) {
	for _, id := range []string{"kiosk-a", "kiosk-b"} {
		_, err := b.AddKiosk(id)
		require.NoError(t, err)
	}
	require.NoError(t, b.SetKioskRegion("kiosk-a", "서울특별시/종로구"))
	t0 := time.Now().Add(-time.Hour)
	ka, kb := &kiosk{id: "kiosk-a"}, &kiosk{id: "kiosk-b"}
	signup := func(k *kiosk, c allimi.Citizen, at time.Time) allimi.Event {
		return k.signup(t, c, allimi.ConsentPayload{Consents: grants(at, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, at)
	}
	// kim at kiosk-a (Seoul), lee at kiosk-b (no region), park first at
	// kiosk-a then at kiosk-b: his last sign-up's kiosk counts. choi at
	// kiosk-b, which later gets a region: her sign-up was before.
	commit(t, b, signup(ka, kim, t0), signup(kb, lee, t0), signup(ka, park, t0), signup(kb, choi, t0))
	later := t0.Add(time.Minute)
	commit(t, b, signup(kb, park, later),
		// A change of consents is no sign-up: kim stays in Seoul.
		kb.consent(t, kim, grants(later, allimi.TypeVaccination, allimi.ChannelSMS), later))
	require.NoError(t, b.SetKioskRegion("kiosk-b", "부산"))
	want := map[string]string{kim.Mobile: "서울특별시/종로구", lee.Mobile: "", park.Mobile: "", choi.Mobile: ""}

	listed := create1(t, b, checkupRequest(kim, lee, park, choi))
	campaign := create1(t, b, checkupRequest())
	campaign, err := b.ExpandCampaign(campaign.ID, nil)
	require.NoError(t, err)
	require.EqualValues(t, 4, campaign.Recipients)
	check := func(b B) {
		t.Helper()
		for _, n := range []allimi.Notification{listed, campaign} {
			got := map[string]string{}
			require.NoError(t, b.ReadDeliveries(func(r allimi.DeliveryReader) error {
				_, os := recipientsOf(t, r, &n, allimi.ChannelSMS, 0)
				for _, o := range os {
					require.NotNil(t, o)
					got[o.Citizen.Mobile] = o.Region
					one, err := r.Outgoing(&n, o.Ref)
					require.NoError(t, err)
					assert.Equal(t, o.Region, one.Region, "delivery %s read by ref", o.Ref.Key())
				}
				return nil
			}))
			assert.Equal(t, want, got, "notification %d (campaign %v)", n.ID, n.Campaign)
		}
	}
	check(b)
	check(b.Reopen(t))
	// A sign-up at kiosk-b now counts choi in Busan.
	commit(t, b, signup(kb, choi, later.Add(time.Minute)))
	n := create1(t, b, checkupRequest(choi))
	require.NoError(t, b.ReadDeliveries(func(r allimi.DeliveryReader) error {
		_, os := recipientsOf(t, r, &n, allimi.ChannelSMS, 0)
		require.Len(t, os, 1)
		assert.Equal(t, "부산광역시", os[0].Region)
		return nil
	}))
}

func statsDaily[B StatsBackend[B]](t *testing.T, b B) {
	cell := func(day, region string, ch allimi.Channel, outcome string) allimi.DeliveryCell {
		return allimi.DeliveryCell{Day: day, Region: region, Type: allimi.TypeHealthCheckup, Channel: ch, Outcome: outcome}
	}
	count := func(cells map[allimi.DeliveryCell]int64) {
		t.Helper()
		require.NoError(t, b.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
			for c, n := range cells {
				if err := tx.CountDailyDeliveries(c, n); err != nil {
					return err
				}
			}
			return nil
		}))
	}
	seoul := "서울특별시/종로구"
	count(map[allimi.DeliveryCell]int64{
		cell("2026-12-01", seoul, allimi.ChannelKakao, "sent"):   3,
		cell("2026-12-01", "", allimi.ChannelKakao, "sent"):      1,
		cell("2026-12-02", seoul, allimi.ChannelSMS, "fellBack"): 2,
		cell("2026-12-31", seoul, allimi.ChannelSMS, "sent"):     7,
	})
	count(map[allimi.DeliveryCell]int64{cell("2026-12-01", seoul, allimi.ChannelKakao, "sent"): 2})
	got, err := b.DailyDeliveries("2026-12-01", "2026-12-02")
	require.NoError(t, err)
	assert.Equal(t, []allimi.DeliveryCount{
		{DeliveryCell: cell("2026-12-01", "", allimi.ChannelKakao, "sent"), N: 1},
		{DeliveryCell: cell("2026-12-01", seoul, allimi.ChannelKakao, "sent"), N: 5},
		{DeliveryCell: cell("2026-12-02", seoul, allimi.ChannelSMS, "fellBack"), N: 2},
	}, got, "in order of day, region, type, channel, outcome; summed")
	got, err = b.Reopen(t).DailyDeliveries("2026-12-31", "2026-12-31")
	require.NoError(t, err)
	assert.Equal(t, []allimi.DeliveryCount{{DeliveryCell: cell("2026-12-31", seoul, allimi.ChannelSMS, "sent"), N: 7}}, got, "one day; durable")
	got, err = b.DailyDeliveries("2027-01-01", "2027-12-31")
	require.NoError(t, err)
	assert.Empty(t, got)
	for _, bad := range [][2]string{{"2026-12-1", "2026-12-02"}, {"2026-12-01", "tomorrow"}, {"2026-02-30", "2026-03-01"}} {
		_, err := b.DailyDeliveries(bad[0], bad[1])
		assert.ErrorIs(t, err, allimi.ErrInvalid, "%v", bad)
	}
}

func statsNotificationChannels[B StatsBackend[B]](t *testing.T, b B) {
	subscribe(t, b)
	n := create1(t, b, checkupRequest(kim, lee))
	got, err := b.NotificationChannels(n.ID)
	require.NoError(t, err)
	assert.Empty(t, got, "nothing tried")
	now := time.Now().UnixMilli()
	put := func(seq uint32, ch allimi.Channel, st allimi.DeliveryState, flags byte) {
		t.Helper()
		require.NoError(t, b.UpdateDeliveries(func(tx allimi.DeliveryTx) error {
			return tx.PutDelivery(allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: ch},
				allimi.DeliveryRecord{State: st, Attempts: 1, Flags: flags, First: now, Updated: now})
		}))
	}
	put(1, allimi.ChannelKakao, allimi.DeliveryFellBack, 0)
	put(1, allimi.ChannelSMS, allimi.DeliveryDelivered, 0)
	put(2, allimi.ChannelSMS, allimi.DeliveryAccepted, 0)
	put(2, allimi.ChannelSMS, allimi.DeliveryRetrying, 0) // replaces
	put(2, allimi.ChannelKakao, allimi.DeliveryAccepted, allimi.DeliveryFallback)
	got, err = b.NotificationChannels(n.ID)
	require.NoError(t, err)
	assert.Equal(t, map[allimi.Channel]allimi.ChannelStates{
		allimi.ChannelKakao: {States: map[allimi.DeliveryState]int64{allimi.DeliveryFellBack: 1, allimi.DeliveryAccepted: 1}, Fallbacks: 1},
		allimi.ChannelSMS:   {States: map[allimi.DeliveryState]int64{allimi.DeliveryDelivered: 1, allimi.DeliveryRetrying: 1}},
	}, got)
	other, err := b.NotificationChannels(n.ID + 1)
	require.NoError(t, err)
	assert.Empty(t, other, "another notification's are not counted")
}
