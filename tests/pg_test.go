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

	"allimi/central/pg"
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

// pgPair is two centrals (`central serve --store`, each with its own
// embedded broker) on one PostgreSQL database in which campaignSize
// people consent to health check-ups by KakaoTalk, agency nhis may send
// them, and fake providers that recognise no repeat answer each request
// after 100 ms.
type pgPair struct {
	url, keys string
	token     string // the agency's
	fakes     *fakeProviders
	a, b      *central
}

func startPGPair(t *testing.T) *pgPair {
	t.Helper()
	p := &pgPair{url: pgtest.URL(t), keys: t.TempDir()}
	runAllimi(t, "central", "migrate", "--store", p.url)
	runAllimi(t, "central", "seed", "--store", p.url, "--keys", p.keys, "--subscribers", fmt.Sprint(campaignSize),
		"--types", "health-checkup", "--channels", "kakao")
	var ag struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "agency", "add", "--store", p.url,
		"--id", "nhis", "--types", "health-checkup", "--json"), &ag))
	p.token = ag.Token
	p.fakes = startFakes(t, "--latency", "100ms", "--keep-text=false", "--no-dedupe")
	provider := "--provider-url=http://" + p.fakes.addr
	p.a = pgCentral(t, p.url, p.keys, provider, "--senders", "2")
	p.b = pgCentral(t, p.url, p.keys, provider, "--senders", "2")
	return p
}

// campaign posts a health check-up campaign to everyone through c and
// returns how many recipients it has.
func (p *pgPair) campaign(t *testing.T, c *central) int64 {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Idempotency-Key", "checkup-2026")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	var n struct{ Recipients int64 }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&n))
	return n.Recipients
}

// waitAccepted waits (a minute at most) until the provider has taken n
// messages.
func (p *pgPair) waitAccepted(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for p.fakes.stats(t).Accepted["kakao"] < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// slotsHeld are the send slots c's log says it holds now.
func slotsHeld(c *central) map[string]bool {
	held := map[string]bool{}
	for _, line := range strings.Split(c.logText(), "\n") {
		slot := ""
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "slot="); ok {
				slot = v
			}
		}
		switch {
		case strings.Contains(line, `msg="no longer sending"`):
			delete(held, slot)
		case strings.Contains(line, "msg=sending"):
			held[slot] = true
		}
	}
	return held
}

// waitSlots waits (a minute at most) until c holds all the send slots.
func waitAllSlots(t *testing.T, c *central) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(slotsHeld(c)) < pg.SendSlots && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	require.Len(t, slotsHeld(c), pg.SendSlots, "c took over every send slot")
}

// assertOnce checks that the provider took each of n recipients' message
// once, and that c counted n sent.
func (p *pgPair) assertOnce(t *testing.T, c *central, n int64) {
	t.Helper()
	st := p.fakes.stats(t)
	assert.Zero(t, st.Repeats["kakao"], "no request repeated a message the provider had taken")
	assert.Equal(t, n, st.Accepted["kakao"], "every recipient accepted exactly once by the provider")
	assert.Equal(t, n, c.delivery(t, "health-checkup", "kakao", "sent"), "counted once")
	assert.Empty(t, p.fakes.repeatedKeys(t, "kakao"))
}

// Two centrals on one PostgreSQL database are one central: a kiosk's
// records stored through one are counted by the other; a campaign posted
// to one is sent by both, each its share of the send slots; when one is
// killed with SIGKILL mid-campaign the other takes its slots over, and
// the provider (which recognises no repeat) has taken every recipient's
// message exactly once.
func TestPostgres_TwoCentralsAreOneAndSurviveOneKilled(t *testing.T) {
	p := startPGPair(t)
	a, b := p.a, p.b
	// A kiosk added while the centrals serve.
	var cred kioskCred
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "kiosk", "add", "--store", p.url, "--keys", p.keys,
		"--id", "kiosk-1", "--json"), &cred))

	// Records through a's broker, seen through b.
	sim := parseSim(t, string(runAllimi(t, simArgs("tcp://"+a.mqtt, cred, t.TempDir(), "--signups", "40", "--wait", "--timeout", "1m")...)))
	require.Equal(t, 40, sim.Acked, "every record acknowledged by central")
	assert.EqualValues(t, 40, b.stats(t).Records.Stored)

	// Both send: the slots are shared out.
	p.waitShared(t)

	// The seeded people, and those of the kiosk's sign-ups who chose
	// health check-ups by KakaoTalk.
	recipients := p.campaign(t, b)
	require.GreaterOrEqual(t, recipients, int64(campaignSize))

	// Kill one a quarter of the way through.
	p.waitAccepted(t, campaignSize/4)
	a.kill()
	require.Less(t, p.fakes.stats(t).Accepted["kakao"], recipients, "the kill must land mid-campaign")

	waitAllSlots(t, b)
	b.waitDelivery(t, "health-checkup", "kakao", "sent", recipients)
	p.assertOnce(t, b, recipients)
}

// waitShared waits (a minute at most) until both centrals hold send
// slots and together all of them.
func (p *pgPair) waitShared(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	ok := func() bool {
		na, nb := len(slotsHeld(p.a)), len(slotsHeld(p.b))
		return na > 0 && nb > 0 && na+nb == pg.SendSlots
	}
	for !ok() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	require.True(t, ok(), "the send slots shared out: a holds %v, b %v", slotsHeld(p.a), slotsHeld(p.b))
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
	p := startPGPair(t)
	recipients := p.campaign(t, p.a)
	require.EqualValues(t, campaignSize, recipients)
	p.waitAccepted(t, campaignSize/4)
	pgtest.Restart(t)
	require.Less(t, p.fakes.stats(t).Accepted["kakao"], recipients, "the restart must land mid-campaign")

	p.b.waitDelivery(t, "health-checkup", "kakao", "sent", recipients)
	p.assertOnce(t, p.a, recipients)
	for _, c := range []*central{p.a, p.b} {
		select {
		case <-c.done:
			t.Fatalf("a central exited when its database restarted: %v", c.err)
		default:
		}
	}
}

// One of the centrals is stopped (SIGSTOP) past its slots' leases: the
// other takes them over and sends the rest; when the stopped one resumes,
// its late writes are refused (its leases' fences have moved on), and
// every recipient still has the message once.
func TestPostgres_CentralStoppedPastItsLeasesCannotWriteLate(t *testing.T) {
	p := startPGPair(t)
	p.waitShared(t)
	recipients := p.campaign(t, p.a)
	require.EqualValues(t, campaignSize, recipients)
	p.waitAccepted(t, campaignSize/4)
	stoppedOne, other := p.a, p.b
	require.NoError(t, stoppedOne.cmd.Process.Signal(syscall.SIGSTOP))
	stopped := p.fakes.stats(t).Accepted["kakao"]
	require.Less(t, stopped, recipients, "the stop must land mid-campaign")

	// The other takes the slots over once their leases have run out.
	waitAllSlots(t, other)
	p.waitAccepted(t, stopped+campaignSize/10)
	require.NoError(t, stoppedOne.cmd.Process.Signal(syscall.SIGCONT))

	other.waitDelivery(t, "health-checkup", "kakao", "sent", recipients)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stoppedOne.logText(), `msg="no longer sending"`) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.Contains(t, stoppedOne.logText(), `msg="no longer sending"`, "the resumed one noticed it lost its slots")
	time.Sleep(time.Second) // what the resumed one might still write
	p.assertOnce(t, other, recipients)
}
