package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
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

// PostgreSQL restarted (as after a crash) mid-campaign: the centrals
// reconnect, the one that leads sends the rest, and every recipient has
// the message once.
func TestPostgres_DatabaseRestartedMidCampaign(t *testing.T) {
	url, keys := pgtest.URL(t), t.TempDir()
	runAllimi(t, "central", "migrate", "--store", url)
	runAllimi(t, "central", "seed", "--store", url, "--keys", keys, "--subscribers", fmt.Sprint(campaignSize),
		"--types", "health-checkup", "--channels", "kakao")
	var ag struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "agency", "add", "--store", url,
		"--id", "nhis", "--types", "health-checkup", "--json"), &ag))
	fakes := startFakes(t, "--latency", "100ms", "--keep-text=false", "--no-dedupe")
	provider := "--provider-url=http://" + fakes.addr
	a := pgCentral(t, url, keys, provider, "--senders", "2")
	b := pgCentral(t, url, keys, provider, "--senders", "2")

	req, _ := http.NewRequest(http.MethodPost, "http://"+a.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	deadline := time.Now().Add(time.Minute)
	for fakes.stats(t).Accepted["kakao"] < campaignSize/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	pgtest.Restart(t)
	require.Less(t, fakes.stats(t).Accepted["kakao"], int64(campaignSize), "the restart must land mid-campaign")

	b.waitDelivery(t, "health-checkup", "kakao", "sent", campaignSize)
	st := fakes.stats(t)
	assert.Zero(t, st.Repeats["kakao"], "no request repeated a message the provider had taken")
	assert.EqualValues(t, campaignSize, st.Accepted["kakao"], "every recipient accepted exactly once by the provider")
	assert.EqualValues(t, campaignSize, a.delivery(t, "health-checkup", "kakao", "sent"))
	for _, c := range []*central{a, b} {
		select {
		case <-c.done:
			t.Fatalf("a central exited when its database restarted: %v", c.err)
		default:
		}
	}
}

// The central sending is stopped (SIGSTOP) past its lease: the other
// takes the lease over and sends the rest; when the stopped one resumes,
// its late writes are refused (its lease's fence has moved on), and every
// recipient still has the message once.
func TestPostgres_LeaderStoppedPastItsLeaseCannotWriteLate(t *testing.T) {
	url, keys := pgtest.URL(t), t.TempDir()
	runAllimi(t, "central", "migrate", "--store", url)
	runAllimi(t, "central", "seed", "--store", url, "--keys", keys, "--subscribers", fmt.Sprint(campaignSize),
		"--types", "health-checkup", "--channels", "kakao")
	var ag struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "agency", "add", "--store", url,
		"--id", "nhis", "--types", "health-checkup", "--json"), &ag))
	fakes := startFakes(t, "--latency", "100ms", "--keep-text=false", "--no-dedupe")
	provider := "--provider-url=http://" + fakes.addr
	a := pgCentral(t, url, keys, provider, "--senders", "2")
	b := pgCentral(t, url, keys, provider, "--senders", "2")

	req, _ := http.NewRequest(http.MethodPost, "http://"+a.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	deadline := time.Now().Add(time.Minute)
	for fakes.stats(t).Accepted["kakao"] < campaignSize/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	leader, other := a, b
	if strings.Contains(b.logText(), "msg=leading") {
		leader, other = b, a
	}
	require.NoError(t, leader.cmd.Process.Signal(syscall.SIGSTOP))
	stopped := fakes.stats(t).Accepted["kakao"]
	require.Less(t, stopped, int64(campaignSize), "the stop must land mid-campaign")

	// The other takes over once the lease has run out, and sends more.
	deadline = time.Now().Add(time.Minute)
	for !strings.Contains(other.logText(), "msg=leading") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	require.Contains(t, other.logText(), "msg=leading", "the other took the lease over")
	for fakes.stats(t).Accepted["kakao"] < stopped+campaignSize/10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, leader.cmd.Process.Signal(syscall.SIGCONT))

	other.waitDelivery(t, "health-checkup", "kakao", "sent", campaignSize)
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(leader.logText(), "no longer leading") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.Contains(t, leader.logText(), "no longer leading", "the resumed one noticed it lost its lease")
	time.Sleep(time.Second) // what the resumed one might still write
	st := fakes.stats(t)
	assert.Zero(t, st.Repeats["kakao"], "no request repeated a message the provider had taken")
	assert.EqualValues(t, campaignSize, st.Accepted["kakao"], "every recipient accepted exactly once by the provider")
	assert.EqualValues(t, campaignSize, other.delivery(t, "health-checkup", "kakao", "sent"), "counted once")
}
