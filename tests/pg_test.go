package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/internal/pgtest"
	"allimi/internal/testaddr"
)

// pgCentral starts `central serve --store URL --keys DIR` with an
// embedded broker of its own.
func pgCentral(t *testing.T, url, keys string, extra ...string) *central {
	t.Helper()
	c := &central{data: keys, mqtt: testaddr.Free(t), http: testaddr.Free(t)}
	args := append([]string{"central", "serve", "--store", url, "--keys", keys, "--mqtt", c.mqtt, "--http", c.http}, extra...)
	c.proc = start(t, "central", allimiBin, args...)
	c.waitHealthy(t)
	return c
}

// Two centrals on one PostgreSQL database are one central: a kiosk's
// records stored through one are counted by the other; a campaign posted
// to one is sent by whichever leads; when the leader is killed with
// SIGKILL mid-campaign the other takes over, and the provider (which
// recognises no repeat) has taken every recipient's message exactly once.
func TestPostgres_TwoCentralsAreOneAndSurviveTheLeaderKilled(t *testing.T) {
	url, keys := pgtest.URL(t), t.TempDir()
	runAllimi(t, "central", "migrate", "--store", url)
	runAllimi(t, "central", "seed", "--store", url, "--keys", keys, "--subscribers", fmt.Sprint(campaignSize),
		"--types", "health-checkup", "--channels", "kakao")
	var ag struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "agency", "add", "--store", url,
		"--id", "nhis", "--types", "health-checkup", "--json"), &ag))
	var cred kioskCred
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "kiosk", "add", "--store", url, "--keys", keys,
		"--id", "kiosk-1", "--json"), &cred))

	fakes := startFakes(t, "--latency", "100ms", "--keep-text=false", "--no-dedupe")
	provider := "--provider-url=http://" + fakes.addr
	a := pgCentral(t, url, keys, provider, "--senders", "2")
	b := pgCentral(t, url, keys, provider, "--senders", "2")

	// Records through a's broker, seen through b.
	sim := parseSim(t, string(runAllimi(t, simArgs("tcp://"+a.mqtt, cred, t.TempDir(), "--signups", "40", "--wait", "--timeout", "1m")...)))
	require.Equal(t, 40, sim.Acked, "every record acknowledged by central")
	assert.EqualValues(t, 40, b.stats(t).Records.Stored)

	req, _ := http.NewRequest(http.MethodPost, "http://"+b.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	req.Header.Set("Idempotency-Key", "checkup-2026")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var n struct{ Recipients int64 }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&n))
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	// The seeded people, and those of the kiosk's sign-ups who chose
	// health check-ups by KakaoTalk.
	require.GreaterOrEqual(t, n.Recipients, int64(campaignSize))

	// Kill whichever is sending, a quarter of the way through.
	deadline := time.Now().Add(time.Minute)
	for fakes.stats(t).Accepted["kakao"] < campaignSize/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	leader, other := a, b
	if strings.Contains(b.logText(), `msg=leading`) {
		leader, other = b, a
	}
	require.Contains(t, leader.logText(), "msg=leading")
	require.NotContains(t, other.logText(), "msg=leading", "one leads at a time")
	leader.kill()
	require.Less(t, fakes.stats(t).Accepted["kakao"], n.Recipients, "the kill must land mid-campaign")

	other.waitDelivery(t, "health-checkup", "kakao", "sent", n.Recipients)
	assert.Contains(t, other.logText(), "msg=leading", "the other took over")
	st := fakes.stats(t)
	assert.Zero(t, st.Repeats["kakao"], "no request repeated a message the provider had taken")
	assert.Equal(t, n.Recipients, st.Accepted["kakao"], "every recipient accepted exactly once by the provider")
	assert.Equal(t, n.Recipients, other.delivery(t, "health-checkup", "kakao", "sent"))
	assert.Empty(t, fakes.repeatedKeys(t, "kakao"))
}

// bench fanout --store runs a campaign through central processes on
// PostgreSQL and reports what they sent.
func TestPostgres_BenchFanoutWithWorkers(t *testing.T) {
	url := pgtest.URL(t)
	out := runAllimi(t, "bench", "fanout", "--store", url, "--workers", "2", "--provider-latency", "5ms", "--subscribers", "2000", "--json")
	var r struct {
		Store           string
		Workers         int
		ProviderLatency string
		Deliveries      int64
		Seconds         float64
		PerSecond       float64
	}
	require.NoError(t, json.Unmarshal(out, &r), "%s", out)
	assert.Equal(t, "postgres", r.Store)
	assert.Equal(t, 2, r.Workers)
	assert.Equal(t, "5ms", r.ProviderLatency)
	assert.EqualValues(t, 2000, r.Deliveries)
	assert.Positive(t, r.Seconds)
	assert.InDelta(t, float64(r.Deliveries)/r.Seconds, r.PerSecond, 1)
}
