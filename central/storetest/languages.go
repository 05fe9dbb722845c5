package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
)

// LanguagesBackend is what the Languages suite needs of a store: the
// registry that keeps the language a person signed up in, the
// notifications and the dispatcher's reads that give it per recipient
// (allimi.Outgoing.Lang), and a restart (Reopen, as Backend's).
type LanguagesBackend[B any] interface {
	allimi.Registry
	allimi.Notifications
	allimi.DeliveryQueue
	Reopen(t *testing.T) B
}

// Languages checks that a person's language (allimi.ConsentPayload.Lang)
// is kept with them: read with each delivery to them, whether of a listed
// audience, of a campaign or of a due entry; replaced by a later sign-up,
// kept through a change of consents; empty for a sign-up that named
// none; durable. LanguageOf reads it too.
func Languages[B LanguagesBackend[B]](t *testing.T, open func(*testing.T) B) {
	t.Run("KeptWithThePerson", func(t *testing.T) { languagesKept(t, open(t)) })
}

func languagesKept[B LanguagesBackend[B]](t *testing.T, b B) {
	t0 := time.Now().Add(-time.Hour)
	ka, kb := &kiosk{id: "kiosk-a"}, &kiosk{id: "kiosk-b"}
	signup := func(k *kiosk, c allimi.Citizen, lang string, at time.Time, chs ...allimi.Channel) allimi.Event {
		return k.signup(t, c, allimi.ConsentPayload{Consents: grants(at, allimi.TypeHealthCheckup, chs...), Verified: true, Lang: lang}, at)
	}
	// kim in Thai, lee at a kiosk that says nothing (Korean), park first
	// in English and then, at another kiosk, in Vietnamese.
	out := commit(t, b,
		signup(ka, kim, "th", t0, allimi.ChannelKakao, allimi.ChannelSMS),
		signup(ka, lee, "", t0, allimi.ChannelSMS),
		signup(ka, park, "en", t0, allimi.ChannelSMS))
	require.Equal(t, 3, out.Stored)
	later := t0.Add(time.Minute)
	out = commit(t, b,
		signup(kb, park, "vi", later, allimi.ChannelSMS),
		kb.consent(t, kim, withdrawals(later, allimi.TypeHealthCheckup, allimi.ChannelKakao), later))
	require.Equal(t, 2, out.Stored)
	want := map[string]string{kim.Mobile: "th", lee.Mobile: "", park.Mobile: "vi"}

	listed := create1(t, b, checkupRequest(kim, lee, park))
	campaign := create1(t, b, checkupRequest())
	campaign, err := b.ExpandCampaign(campaign.ID, nil)
	require.NoError(t, err)
	require.EqualValues(t, 3, campaign.Recipients)

	check := func(t *testing.T, b B) {
		t.Helper()
		for _, c := range []allimi.Citizen{kim, lee, park} {
			got, found, err := b.LanguageOf(c.Mobile, c.BirthDate)
			require.NoError(t, err)
			assert.True(t, found, c.Name)
			assert.Equal(t, want[c.Mobile], got, c.Name)
		}
		_, found, err := b.LanguageOf(choi.Mobile, choi.BirthDate)
		require.NoError(t, err)
		assert.False(t, found, "a person central does not know")
		for _, n := range []allimi.Notification{listed, campaign} {
			got := map[string]string{}
			require.NoError(t, b.ReadDeliveries(func(r allimi.DeliveryReader) error {
				_, os := recipientsOf(t, r, &n, allimi.ChannelSMS, 0)
				for _, o := range os {
					require.NotNil(t, o)
					got[o.Citizen.Mobile] = o.Lang
					// A due entry's delivery is read by ref: the same language.
					one, err := r.Outgoing(&n, o.Ref)
					require.NoError(t, err)
					assert.Equal(t, o.Lang, one.Lang, "delivery %s read by ref", o.Ref.Key())
				}
				return nil
			}))
			assert.Equal(t, want, got, "notification %d (campaign %v)", n.ID, n.Campaign)
		}
	}
	check(t, b)
	check(t, b.Reopen(t))
}

// create1 stores req from the suite's agency as a new notification.
func create1(t *testing.T, b allimi.Notifications, req *allimi.NotificationRequest) allimi.Notification {
	t.Helper()
	n, repeat, err := b.CreateNotification("health-centre", "", req)
	require.NoError(t, err)
	require.False(t, repeat)
	return n
}
