package central_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/internal/loadgen"
	"allimi/internal/testlog"
	"allimi/sync/wire"
)

// TestRejections_NameTheFieldAndTheRuleButNotThePersonalValue sends
// records whose new-benefits conditions or citizen central refuses, and
// checks that the rejection list and everything central logged say which
// field broke which rule without quoting the value.
func TestRejections_NameTheFieldAndTheRuleButNotThePersonalValue(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	var logs testlog.Buffer
	tc := startCentral(t, data, func(cfg *central.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	rk := connectRaw(t, tc.mqtt, cred)

	bad := []struct {
		name    string
		profile string
		region  string
		value   string // what must not be quoted
		reason  string // what the rejection must say
	}{
		{"birth date that does not exist", `{"birthDate":"1950-13-45"}`, "", "1950-13-45",
			"conditions not kept: payload.profile birth date: not a date (YYYY-MM-DD, one that exists) (value withheld: personal data)"},
		{"birth date in the future", `{"birthDate":"2099-03-04"}`, "", "2099-03-04", "payload.profile birth date: in the future"},
		{"sex", `{"age":70,"sex":"여성"}`, "", "여성", "payload.profile sex: not M or F"},
		{"income band", `{"age":70,"income":"JA0299"}`, "", "JA0299", "payload.profile income: not an income code"},
		{"disability code", `{"age":70,"traits":["JA0399"]}`, "", "JA0399", "payload.profile traits: not personal-trait codes"},
		{"household", `{"age":70,"household":["JA0498"]}`, "", "JA0498", "payload.profile household: not household codes"},
		{"region", `{"age":70}`, "화성읍/남양리", "화성읍", "payload.region: not a 시도 or 시도/시군구 of Korea (value withheld: personal data)"},
	}
	up := wire.UpTopic("k1")
	for i, b := range bad {
		d := loadgen.Signup("k1", uint64(i+1), nil, time.Now())
		cp := d.Payload.(*allimi.ConsentPayload)
		cp.Consents = []allimi.Consent{{Type: allimi.TypeNewBenefits, Channel: allimi.ChannelKakao, Action: allimi.ActionGrant,
			By: allimi.Actor{Kind: allimi.ActorSelf}, At: time.Now()}}
		cp.Profile, cp.Region, cp.Verified = json.RawMessage(b.profile), b.region, true
		p := marshal(t, d.Payload)
		e := allimi.Event{V: 1, Kiosk: "k1", Seq: uint64(i + 1), HLC: allimi.NextHLC(0, time.Now()), Kind: d.Kind, Citizen: d.Citizen, Payload: p}
		require.NoError(t, e.Validate(time.Now()), "%s: the kiosk checks the shape; central the values", b.name)
		rk.publish(t, up, marshal(t, e))
	}
	// A citizen whose birth date does not exist is refused whole, by ingest.
	seq := uint64(len(bad) + 1)
	badCitizen := event(t, "k1", seq, 99)
	badCitizen.Citizen.BirthDate = "1951-02-30"
	rk.publish(t, up, marshal(t, badCitizen))
	rk.publish(t, up, marshal(t, event(t, "k1", seq, 99)))
	rk.waitAck(t, seq)

	rs := rejections(t, tc.http, adminToken(t, data))
	require.Len(t, rs, len(bad)+1)
	all, _ := json.Marshal(rs)
	logged := logs.String()
	for _, b := range bad {
		assert.Contains(t, string(all), b.reason, b.name)
		assert.NotContains(t, string(all), b.value, "%s: the rejection list quotes the value", b.name)
		assert.NotContains(t, logged, b.value, "%s: the log quotes the value", b.name)
	}
	assert.Contains(t, string(all), "citizen: invalid date of birth (value withheld: personal data)")
	assert.NotContains(t, string(all), "1951-02-30")
	assert.NotContains(t, logged, "1951-02-30")
	assert.Contains(t, logged, "record refused", "the log did capture central's output")

	// The records themselves were stored: the person's choices stand.
	assert.EqualValues(t, len(bad)+1, tc.stats(t).Records.Stored)
}

// rejections reads /api/v1/rejections as the admin.
func rejections(t *testing.T, base, admin string) []allimi.Rejection {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/rejections", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var rj struct{ Rejections []allimi.Rejection }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rj))
	return rj.Rejections
}
