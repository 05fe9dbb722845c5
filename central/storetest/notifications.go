package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// NotificationsBackend is what the Notifications suite needs of a store:
// the interface, the registry that makes people subscribers (their
// sign-ups and withdrawals, committed), and a restart (Reopen, as
// Backend's). A Backend is one, with B Backend.
type NotificationsBackend[B any] interface {
	allimi.Registry
	allimi.Notifications
	Reopen(t *testing.T) B
}

// Notifications checks allimi.Notifications: requests refused or stored
// once per idempotency key, listed audiences resolved against consents,
// campaigns expanded to every subscriber of their type, all durable.
func Notifications[B NotificationsBackend[B]](t *testing.T, open func(*testing.T) B) {
	for _, c := range []struct {
		name string
		test func(*testing.T, B)
	}{
		{"ListedAudienceResolved", notificationsListed[B]},
		{"InvalidRequestStoresNothing", notificationsInvalid[B]},
		{"IdempotencyKey", notificationsIdempotent[B]},
		{"CampaignExpanded", notificationsCampaign[B]},
		{"CampaignWithoutSubscribers", notificationsEmptyCampaign[B]},
		{"Unknown", notificationsUnknown[B]},
		{"Durable", notificationsDurable[B]},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, open(t)) })
	}
}

// subscribe commits the suite's people: kim takes health checkups by
// kakao and sms, lee by sms, park took them by sms and withdrew, and
// choi takes vaccinations only.
func subscribe(t *testing.T, b allimi.Registry) {
	t.Helper()
	t0 := time.Now().Add(-time.Hour)
	k := &kiosk{id: "kiosk-a"}
	commit(t, b,
		k.signup(t, kim, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelKakao, allimi.ChannelSMS), Verified: true}, t0),
		k.signup(t, lee, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, t0),
		k.signup(t, park, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeHealthCheckup, allimi.ChannelSMS), Verified: true}, t0),
		k.signup(t, choi, allimi.ConsentPayload{Consents: grants(t0, allimi.TypeVaccination, allimi.ChannelNaver), Verified: true}, t0))
	later := t0.Add(time.Minute)
	commit(t, b, k.consent(t, park, withdrawals(later, allimi.TypeHealthCheckup, allimi.ChannelSMS), later))
}

var choi = allimi.Citizen{Name: "최지우", Mobile: "010-2222-3333", BirthDate: "1960-06-06"}

func recipient(c allimi.Citizen) allimi.RecipientRequest {
	return allimi.RecipientRequest{Mobile: c.Mobile, BirthDate: c.BirthDate}
}

// checkupRequest is a health-checkup notice to the listed people, or to
// every subscriber when none is listed.
func checkupRequest(people ...allimi.Citizen) *allimi.NotificationRequest {
	req := &allimi.NotificationRequest{Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2026"},
		Title: "국가건강검진 안내", Fields: []allimi.DetailField{{Label: "기간", Value: "12월 31일까지"}}}
	req.Audience.All = len(people) == 0
	for _, c := range people {
		req.Audience.Citizens = append(req.Audience.Citizens, recipient(c))
	}
	return req
}

func create(t *testing.T, b allimi.Notifications, agency, key string, req *allimi.NotificationRequest) (allimi.Notification, bool) {
	t.Helper()
	n, repeat, err := b.CreateNotification(agency, key, req)
	require.NoError(t, err)
	return n, repeat
}

func activeIDs(t *testing.T, b allimi.Notifications) []uint64 {
	t.Helper()
	ns, err := b.ActiveNotifications()
	require.NoError(t, err)
	ids := []uint64{}
	for _, n := range ns {
		ids = append(ids, n.ID)
	}
	return ids
}

func notificationsListed[B NotificationsBackend[B]](t *testing.T, b B) {
	subscribe(t, b)
	before := time.Now().Add(-time.Second)
	n, repeat := create(t, b, "health-centre", "", checkupRequest(kim, lee, park, choi, kim))
	assert.False(t, repeat)
	assert.NotZero(t, n.ID)
	assert.Equal(t, "health-centre", n.Agency)
	assert.Equal(t, allimi.TypeHealthCheckup, n.Type)
	assert.Equal(t, map[string]string{"year": "2026"}, n.Params)
	assert.Equal(t, "국가건강검진 안내", n.Title)
	assert.Equal(t, []allimi.DetailField{{Label: "기간", Value: "12월 31일까지"}}, n.Fields)
	assert.False(t, n.Campaign)
	assert.Equal(t, allimi.StatusSending, n.Status)
	assert.False(t, n.Created.Before(before))
	assert.WithinDuration(t, n.Created.Add(allimi.DefaultLifetime), n.ExpiresAt, time.Second)
	assert.EqualValues(t, 2, n.Recipients, "kim (once, though listed twice) and lee")
	assert.EqualValues(t, 2, n.NotSubscribed, "park withdrew, choi takes other notices")
	assert.EqualValues(t, 3, n.Deliveries, "kim by kakao and sms, lee by sms")
	assert.Equal(t, int64(1), n.PerChannel[allimi.ChannelKakao])
	assert.Equal(t, int64(2), n.PerChannel[allimi.ChannelSMS])
	assert.Zero(t, n.PerChannel[allimi.ChannelNaver])

	got, err := b.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Equal(t, n.ID, got.ID)
	assert.Equal(t, n.Recipients, got.Recipients)
	assert.Equal(t, n.NotSubscribed, got.NotSubscribed)
	assert.Equal(t, n.Deliveries, got.Deliveries)
	assert.Equal(t, n.PerChannel, got.PerChannel)
	assert.Equal(t, n.Params, got.Params)
	assert.True(t, n.ExpiresAt.Equal(got.ExpiresAt))
	assert.Contains(t, activeIDs(t, b), n.ID)

	expires := time.Now().Add(48 * time.Hour).Truncate(time.Second).UTC()
	req := checkupRequest(lee)
	req.ExpiresAt = &expires
	req.Urgent = true
	n2, repeat := create(t, b, "health-centre", "", req)
	assert.False(t, repeat)
	assert.NotEqual(t, n.ID, n2.ID)
	assert.True(t, n2.ExpiresAt.Equal(expires), "expires %s, asked %s", n2.ExpiresAt, expires)
	assert.True(t, n2.Urgent)
	assert.EqualValues(t, 1, n2.Recipients)
	assert.ElementsMatch(t, []uint64{n.ID, n2.ID}, activeIDs(t, b))
}

func notificationsInvalid[B NotificationsBackend[B]](t *testing.T, b B) {
	subscribe(t, b)
	for name, req := range map[string]*allimi.NotificationRequest{
		"unknown type":     {Type: "parking-ticket"},
		"no audience":      {Type: allimi.TypeHealthCheckup, Params: map[string]string{"year": "2026"}},
		"missing param":    checkupRequest(),
		"bad mobile":       {Type: allimi.TypeWelfareCard},
		"payment on a fee": {Type: allimi.TypeHealthCheckup},
	} {
		switch name {
		case "missing param":
			req.Params = nil
		case "bad mobile":
			req.Audience.Citizens = []allimi.RecipientRequest{{Mobile: "02-123-4567", BirthDate: kim.BirthDate}}
		case "payment on a fee":
			req.Params = map[string]string{"year": "2026"}
			req.Audience.All = true
			req.PaymentURL = "https://pay.example.go.kr/"
		}
		_, _, err := b.CreateNotification("health-centre", "key-"+name, req)
		var fe *allimi.FieldError
		assert.ErrorAs(t, err, &fe, name)
	}
	assert.Empty(t, activeIDs(t, b), "nothing stored")
	// The keys of refused requests are free for valid ones.
	_, repeat := create(t, b, "health-centre", "key-missing param", checkupRequest(kim))
	assert.False(t, repeat)
}

func notificationsIdempotent[B NotificationsBackend[B]](t *testing.T, b B) {
	subscribe(t, b)
	first, repeat := create(t, b, "health-centre", "batch-2026-12", checkupRequest(kim))
	require.False(t, repeat)
	again, repeat := create(t, b, "health-centre", "batch-2026-12", checkupRequest(kim, lee))
	assert.True(t, repeat, "the same agency and key")
	assert.Equal(t, first.ID, again.ID)
	assert.EqualValues(t, 1, again.Recipients, "the first request's notification, not the second's")
	assert.Len(t, activeIDs(t, b), 1)

	other, repeat := create(t, b, "police", "batch-2026-12", checkupRequest(kim))
	assert.False(t, repeat, "another agency's key is its own")
	assert.NotEqual(t, first.ID, other.ID)
	k2, repeat := create(t, b, "health-centre", "batch-2026-12b", checkupRequest(kim))
	assert.False(t, repeat)
	assert.NotEqual(t, first.ID, k2.ID)
	n1, repeat := create(t, b, "health-centre", "", checkupRequest(kim))
	assert.False(t, repeat)
	n2, repeat := create(t, b, "health-centre", "", checkupRequest(kim))
	assert.False(t, repeat, "no key: every request is new")
	assert.NotEqual(t, n1.ID, n2.ID)
	assert.Len(t, activeIDs(t, b), 5)
}

func notificationsCampaign[B NotificationsBackend[B]](t *testing.T, b B) {
	subscribe(t, b)
	n, repeat := create(t, b, "health-centre", "", checkupRequest())
	require.False(t, repeat)
	assert.True(t, n.Campaign)
	assert.Equal(t, allimi.StatusExpanding, n.Status)
	assert.Zero(t, n.Recipients, "expanded afterwards")
	assert.Contains(t, activeIDs(t, b), n.ID)

	var steps []allimi.Notification
	done, err := b.ExpandCampaign(n.ID, func(s allimi.Notification) { steps = append(steps, s) })
	require.NoError(t, err)
	assert.Equal(t, n.ID, done.ID)
	assert.Equal(t, allimi.StatusSending, done.Status)
	assert.EqualValues(t, 2, done.Recipients, "kim and lee; not park, who withdrew, nor choi")
	assert.EqualValues(t, 3, done.Deliveries)
	assert.Equal(t, int64(1), done.PerChannel[allimi.ChannelKakao])
	assert.Equal(t, int64(2), done.PerChannel[allimi.ChannelSMS])
	require.NotEmpty(t, steps, "each is called after every step")
	last := steps[len(steps)-1]
	assert.Equal(t, done.Recipients, last.Recipients)
	assert.Equal(t, done.Status, last.Status)

	got, err := b.GetNotification(n.ID)
	require.NoError(t, err)
	assert.Equal(t, allimi.StatusSending, got.Status)
	assert.EqualValues(t, 2, got.Recipients)
	assert.Contains(t, activeIDs(t, b), n.ID)

	again, err := b.ExpandCampaign(n.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, again.Recipients, "expanded once")
	listed, _ := create(t, b, "health-centre", "", checkupRequest(lee))
	same, err := b.ExpandCampaign(listed.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, same.Recipients, "a listed audience has nothing to expand")
}

func notificationsEmptyCampaign[B NotificationsBackend[B]](t *testing.T, b B) {
	subscribe(t, b)
	req := &allimi.NotificationRequest{Type: allimi.TypeScholarship, Params: map[string]string{"semester": "2027-1"}}
	req.Audience.All = true
	n, _ := create(t, b, "kosaf", "", req)
	done, err := b.ExpandCampaign(n.ID, nil)
	require.NoError(t, err)
	assert.Zero(t, done.Recipients)
	assert.Zero(t, done.Deliveries)
	assert.NotEqual(t, allimi.StatusExpanding, done.Status)
}

func notificationsUnknown[B NotificationsBackend[B]](t *testing.T, b B) {
	_, err := b.GetNotification(42)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	_, err = b.ExpandCampaign(42, nil)
	assert.ErrorIs(t, err, allimi.ErrNotFound)
	ns, err := b.ActiveNotifications()
	require.NoError(t, err)
	assert.Empty(t, ns)
}

func notificationsDurable[B NotificationsBackend[B]](t *testing.T, b B) {
	subscribe(t, b)
	listed, _ := create(t, b, "health-centre", "once", checkupRequest(kim, lee))
	campaign, _ := create(t, b, "health-centre", "", checkupRequest())
	b = b.Reopen(t)
	got, err := b.GetNotification(listed.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 2, got.Recipients)
	again, repeat := create(t, b, "health-centre", "once", checkupRequest(kim))
	assert.True(t, repeat, "an idempotency key outlives a restart")
	assert.Equal(t, listed.ID, again.ID)
	done, err := b.ExpandCampaign(campaign.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, done.Recipients, "a campaign expanded after a restart")
	assert.ElementsMatch(t, []uint64{listed.ID, campaign.ID}, activeIDs(t, b))
}
