package central_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central/keyring"
	"allimi/internal/loadgen"
	"allimi/sync/wire"
)

func getJSON(t *testing.T, url string, v any) { getJSONAs(t, url, "", v) }

// getJSONAs GETs url with token as a bearer token ("" for none).
func getJSONAs(t *testing.T, url, token string, v any) {
	t.Helper()
	resp := getAs(t, url, token)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

// getAs GETs url with token as a bearer token ("" for none): the
// statistics, conflicts, rejections and feedback are staff-only.
func getAs(t *testing.T, url, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// adminToken is the admin token of central's data directory.
func adminToken(t *testing.T, data string) string {
	t.Helper()
	keys, err := keyring.Load(data)
	require.NoError(t, err)
	return keys.AdminToken
}

func postJSON(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// consentEvent is one consent change for person n, sent from kiosk at time at.
func consentEvent(t *testing.T, kiosk string, seq, n uint64, action allimi.ConsentAction, by allimi.Actor, at time.Time) []byte {
	t.Helper()
	d := loadgen.Signup("people", n, []allimi.Channel{allimi.ChannelKakao}, at)
	p := allimi.ConsentPayload{Consents: []allimi.Consent{{Type: allimi.TypeVaccination, Channel: allimi.ChannelKakao,
		Action: action, By: by, At: at}}}
	pb, err := json.Marshal(p)
	require.NoError(t, err)
	e := allimi.Event{V: 1, Kiosk: kiosk, Seq: seq, HLC: allimi.NextHLC(0, at), Kind: allimi.KindConsent, Citizen: d.Citizen, Payload: pb}
	require.NoError(t, e.Validate(time.Now()))
	return marshal(t, e)
}

func TestAPI_ConcurrentGrantAndWithdrawalAreShownAndResolved(t *testing.T) {
	data := t.TempDir()
	c1, c2 := addKiosk(t, data, "centre-a"), addKiosk(t, data, "centre-b")
	tc := startCentral(t, data)
	keys, err := keyring.Load(data)
	require.NoError(t, err)
	k1, k2 := connectRaw(t, tc.mqtt, c1), connectRaw(t, tc.mqtt, c2)

	now := time.Now()
	official := allimi.Actor{Kind: allimi.ActorOfficial, Official: "official-7", Method: allimi.MethodVaccination}
	// Centre A's official registers the person with the vaccination form;
	// a minute later the person withdraws at centre B, which was offline.
	k1.publish(t, wire.UpTopic("centre-a"), consentEvent(t, "centre-a", 1, 42, allimi.ActionGrant, official, now))
	k1.waitAck(t, 1)
	k2.publish(t, wire.UpTopic("centre-b"), consentEvent(t, "centre-b", 1, 42, allimi.ActionWithdraw, allimi.Actor{Kind: allimi.ActorSelf}, now.Add(time.Minute)))
	k2.waitAck(t, 1)

	var list struct{ Conflicts []map[string]any }
	getJSONAs(t, tc.http+"/api/v1/conflicts", keys.AdminToken, &list)
	require.Len(t, list.Conflicts, 1)
	cf := list.Conflicts[0]
	assert.Equal(t, "vaccination", cf["type"])
	assert.Equal(t, "kakao", cf["channel"])
	assert.Regexp(t, `^010-\*\*\*\*-\d{4}$`, cf["mobile"])
	assert.Contains(t, cf["name"], "*")
	assert.NotContains(t, cf, "citizenKey")
	assert.Equal(t, "centre-a", cf["grant"].(map[string]any)["kiosk"])
	assert.Equal(t, "official-7", cf["grant"].(map[string]any)["by"].(map[string]any)["official"])
	assert.Equal(t, "centre-b", cf["withdrawal"].(map[string]any)["kiosk"])
	assert.EqualValues(t, 0, tc.stats(t).Subscribers, "the withdrawal wins until an official decides")

	id := "1"
	code, body := postJSON(t, tc.http+"/api/v1/conflicts/"+id+"/resolve", "", `{"decision":"grant","official":"official-7"}`)
	assert.Equal(t, http.StatusUnauthorized, code, body)
	code, body = postJSON(t, tc.http+"/api/v1/conflicts/"+id+"/resolve", keys.AdminToken, `{"decision":"maybe","official":"official-7"}`)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "must be grant or withdraw")
	code, body = postJSON(t, tc.http+"/api/v1/conflicts/99/resolve", keys.AdminToken, `{"decision":"grant","official":"official-7"}`)
	assert.Equal(t, http.StatusNotFound, code, body)

	code, body = postJSON(t, tc.http+"/api/v1/conflicts/"+id+"/resolve", keys.AdminToken, `{"decision":"grant","official":"official-7"}`)
	require.Equal(t, http.StatusOK, code, body)
	getJSONAs(t, tc.http+"/api/v1/conflicts", keys.AdminToken, &list)
	assert.Empty(t, list.Conflicts)
	getJSONAs(t, tc.http+"/api/v1/conflicts?all=1", keys.AdminToken, &list)
	require.Len(t, list.Conflicts, 1)
	assert.Equal(t, "grant", list.Conflicts[0]["resolved"].(map[string]any)["decision"])
	assert.EqualValues(t, 1, tc.stats(t).Subscribers)
}

func TestAPI_HealthAndMetrics(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 1, 1)))
	rk.publish(t, wire.UpTopic("k1"), []byte("{"))
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 1, 1)))
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 2, 2)))
	rk.waitAck(t, 2)

	var health map[string]any
	getJSON(t, tc.http+"/healthz", &health)
	assert.Equal(t, "ok", health["status"])

	resp, err := http.Get(tc.http + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := string(b)
	assert.Contains(t, m, `allimi_ingest_records_total{result="stored"} 2`)
	assert.Contains(t, m, `allimi_ingest_records_total{result="duplicate"} 1`)
	assert.Contains(t, m, `allimi_ingest_records_total{result="rejected"} 1`)
	assert.Contains(t, m, "allimi_subscribers 2")
	assert.Contains(t, m, "allimi_broker_connected 1")
	assert.Contains(t, m, "allimi_ingest_commit_seconds_bucket")
}
