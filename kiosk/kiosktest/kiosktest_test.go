package kiosktest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/kiosk"
)

func TestKiosk_WalksASignupByWhatTheScreenSays(t *testing.T) {
	rec := &kiosk.MemoryRecorder{Kiosk: "k1"}
	k := New(t, kiosk.Options{Recorder: rec})
	k.RequireScreen("home")
	k.Tap("home.notify")
	k.FillWho("김영희", "010-1234-5678", 1948, 5, 17)
	k.Tap("nav.next")
	k.TapCard(k.TypeName(allimi.TypeRelief))
	k.Tap("nav.next")
	k.TapCard(k.ChannelName(allimi.ChannelKakao))
	k.Tap("nav.next")
	k.RequireScreen("signup-consent")
	s := k.UI.Session()
	assert.Equal(t, map[allimi.NotificationType]bool{allimi.TypeRelief: true}, s.Types, "the card tapped")
	assert.True(t, s.Channels[allimi.ChannelKakao], "the card tapped")
	k.Tap("consent.agree")
	k.RequireScreen("signup-done")

	require.Len(t, rec.Events, 1)
	assert.Equal(t, allimi.Citizen{Name: "김영희", Mobile: "010-1234-5678", BirthDate: "1948-05-17"}, rec.Events[0].Citizen)
}

func TestKiosk_TypesOnTheEnrolmentKeyboardAndTheIdleClockIsTheTests(t *testing.T) {
	config := filepath.Join(t.TempDir(), "kiosk.json")
	k := New(t, kiosk.Options{FirstRun: &kiosk.FirstRun{ConfigPath: config, CentralURL: "http://127.0.0.1:1"}})
	k.RequireScreen("enrol")
	assert.Empty(t, k.UI.Config().ID, "no id on a kiosk not enrolled")
	k.TypeOnKeys("http://central:8080", "http://10.0.0.7:8080")
	assert.Equal(t, "http://10.0.0.7:8080", k.EntryPH("http://central:8080").Text, "addresses in small letters")
	k.TypeOnKeys("XXXX-XXXX-XXXX", "abcd2345efgh")
	assert.Equal(t, "ABCD2345EFGH", k.EntryPH("XXXX-XXXX-XXXX").Text, "codes in capitals")

	before := k.Clock.Now()
	k.Clock.Advance(time.Hour)
	assert.Equal(t, before.Add(time.Hour), k.Clock.Now())
	k.RequireScreen("enrol")
}
