package kiosk

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/sync/outbox"
)

// A type central added comes with its catalog: the kiosk offers it at
// sign-up by the catalog's names, in the screen's language or else in
// Korean, and the person's consent to it goes to central like any other.
func TestTypes_ACatalogsTypeIsOfferedAtSignup(t *testing.T) {
	t.Cleanup(allimi.ResetTypes)
	body, err := json.Marshal(allimi.TypeList{Types: []allimi.TypeInfo{{ID: "parking-fine", Name: "주정차 위반 과태료",
		Names: map[string]string{"en": "Parking fine"}, Descs: map[string]string{"ko": "주정차 위반 과태료를 알려 드립니다", "en": "Tells you of parking fines"},
		Params: []string{"amount"}, Version: 1}}})
	require.NoError(t, err)
	n, err := InstallTypes(body)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, "Parking fine", LangEn.TypeName("parking-fine"))
	assert.Equal(t, "Tells you of parking fines", LangEn.TypeDesc("parking-fine"))
	assert.Equal(t, "주정차 위반 과태료", LangTh.TypeName("parking-fine"), "Korean when the catalog has not the language")
	assert.Equal(t, "주정차 위반 과태료를 알려 드립니다", LangTh.TypeDesc("parking-fine"))
	assert.Equal(t, LangEn.T(typeKey(allimi.TypeVaccination, "name")), LangEn.TypeName(allimi.TypeVaccination), "the kiosk's own words for its own types")

	_, err = InstallTypes([]byte(`{"types":[{"ID":"Bad Id","Name":"x"}]}`))
	assert.ErrorIs(t, err, allimi.ErrInvalid)
	_, err = InstallTypes([]byte(`{"types":`))
	assert.Error(t, err)

	db, err := outbox.OpenDB(filepath.Join(t.TempDir(), "k"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ob, err := outbox.Open(db, "k1")
	require.NoError(t, err)
	rec := &spyRecorder{inner: ob}
	k := newKiosk(t, Options{Recorder: rec})
	pr := k.ui.prefs
	pr.Lang = LangEn
	k.ui.SetPrefs(pr)
	k.tap("home.notify")
	k.fillWho("Kim Younghee", "010-1234-5678", 1948, 5, 17)
	k.tap("nav.next")
	k.requireScreen("signup-types")
	k.tapCard("Parking fine")
	k.tap("nav.next")
	k.requireScreen("signup-channels")
	k.tapCard(k.ui.T(channelKey(allimi.ChannelKakao, "name")))
	k.tap("nav.next")
	k.requireScreen("signup-consent")
	k.tap("consent.agree")
	k.requireScreen("signup-done")
	evs := rec.Events()
	require.Len(t, evs, 1)
	p, err := evs[0].Consents()
	require.NoError(t, err)
	var types []allimi.NotificationType
	for _, c := range p.Consents {
		types = append(types, c.Type)
	}
	assert.Contains(t, types, allimi.NotificationType("parking-fine"))
}
