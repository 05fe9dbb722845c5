package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
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

// pgCluster is n centrals (`central serve --store`, each with its own
// embedded broker) on one PostgreSQL database in which a number of people
// consent to health check-ups by KakaoTalk, agency nhis may send them,
// and fake providers that recognise no repeat answer each request after
// 100 ms.
type pgCluster struct {
	url, keys string
	token     string // the agency's
	fakes     *fakeProviders
	centrals  []*central
}

// startPGCluster seeds people and starts n centrals, each sending with
// senders requests in flight per channel.
func startPGCluster(t *testing.T, n, people, senders int) *pgCluster {
	t.Helper()
	p := &pgCluster{url: pgtest.URL(t), keys: t.TempDir()}
	runAllimi(t, "central", "migrate", "--store", p.url)
	seeding := time.Now()
	runAllimi(t, "central", "seed", "--store", p.url, "--keys", p.keys, "--subscribers", fmt.Sprint(people),
		"--types", "health-checkup", "--channels", "kakao")
	t.Logf("%d people seeded in %s", people, time.Since(seeding).Round(time.Millisecond))
	var ag struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "agency", "add", "--store", p.url,
		"--id", "nhis", "--types", "health-checkup", "--json"), &ag))
	p.token = ag.Token
	p.fakes = startFakes(t, "--latency", "100ms", "--keep-text=false", "--no-dedupe")
	provider := "--provider-url=http://" + p.fakes.addr
	for range n {
		p.centrals = append(p.centrals, pgCentral(t, p.url, p.keys, provider, "--senders", fmt.Sprint(senders)))
	}
	return p
}

// startPGPair is a cluster of two centrals, campaignSize people, two
// requests in flight per channel.
func startPGPair(t *testing.T) (p *pgCluster, a, b *central) {
	t.Helper()
	p = startPGCluster(t, 2, campaignSize, 2)
	return p, p.centrals[0], p.centrals[1]
}

// campaign posts a health check-up campaign to everyone through c and
// returns how many recipients it has, and its id.
func (p *pgCluster) campaign(t *testing.T, c *central) (int64, uint64) {
	t.Helper()
	n, err := p.postCampaign(c)
	require.NoError(t, err)
	return n.Recipients, n.ID
}

// posted is what central answers a notification's POST.
type posted struct {
	ID         uint64
	Recipients int64
}

// postCampaign posts the campaign (see campaign) off the test's
// goroutine: central answers once it has every recipient, and for a large
// campaign it sends meanwhile.
func (p *pgCluster) postCampaign(c *central) (posted, error) {
	var n posted
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Idempotency-Key", "checkup-2026")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return n, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		return n, fmt.Errorf("POST /api/v1/notifications: %s: %s", resp.Status, b)
	}
	return n, json.NewDecoder(resp.Body).Decode(&n)
}

// status is notification id's status ("sending", "done") as c reads it.
func (p *pgCluster) status(t *testing.T, c *central, id uint64) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/api/v1/notifications/%d", c.http, id), nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var n struct{ Status string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&n))
	return n.Status
}

// waitAccepted waits (a minute at most) until the provider has taken n
// messages.
func (p *pgCluster) waitAccepted(t *testing.T, n int64) {
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

// assertOnce checks that the provider took each of n recipients' message
// once, and that c counted n sent.
func (p *pgCluster) assertOnce(t *testing.T, c *central, n int64) {
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
	p, a, b := startPGPair(t)
	// A kiosk added while the centrals serve.
	var cred kioskCred
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "kiosk", "add", "--store", p.url, "--keys", p.keys,
		"--id", "kiosk-1", "--json"), &cred))

	// Records through a's broker, seen through b.
	sim := parseSim(t, string(runAllimi(t, simArgs("tcp://"+a.mqtt, cred, t.TempDir(), "--signups", "40", "--wait", "--timeout", "1m")...)))
	require.Equal(t, 40, sim.Acked, "every record acknowledged by central")
	assert.EqualValues(t, 40, b.stats(t).Records.Stored)

	// Both send: the slots are shared out.
	waitShared(t, a, b)

	// The seeded people, and those of the kiosk's sign-ups who chose
	// health check-ups by KakaoTalk.
	recipients, _ := p.campaign(t, b)
	require.GreaterOrEqual(t, recipients, int64(campaignSize))

	// Kill one a quarter of the way through.
	p.waitAccepted(t, campaignSize/4)
	a.kill()
	require.Less(t, p.fakes.stats(t).Accepted["kakao"], recipients, "the kill must land mid-campaign")

	waitShared(t, b)
	b.waitDelivery(t, "health-checkup", "kakao", "sent", recipients)
	p.assertOnce(t, b, recipients)
}

// db is a connection to the cluster's database, for what the test reads
// of the slots' state there.
func (p *pgCluster) db(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, p.url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// slotSent is how many messages the slots counted sent (each slot counts
// its deliveries in rows of its own).
func slotSent(t *testing.T, db *pgx.Conn, slots []int) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.QueryRow(context.Background(), `SELECT coalesce(sum(n), 0)::bigint FROM delivery_stats
		WHERE outcome = 'sent' AND part = ANY($1)`, slots).Scan(&n))
	return n
}

// slotState says, for each send slot, how far it is through the
// campaign (the only notification of the test's database) on KakaoTalk
// (slot_progress: its recipients are recorded up to there), how many
// messages it counted sent, and how many of its send-intents are in the
// database (requests perhaps with the provider, not yet recorded).
func slotState(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	var out []string
	for slot := range pg.SendSlots {
		var progress, sent, intents int64
		require.NoError(t, db.QueryRow(context.Background(), `SELECT
			(SELECT coalesce(max(seq), 0) FROM slot_progress WHERE slot = $1 AND channel = 'kakao'),
			(SELECT coalesce(sum(n), 0)::bigint FROM delivery_stats WHERE outcome = 'sent' AND part = $1),
			(SELECT count(*) FROM send_intents WHERE (notification + (seq - 1) / 1000) % 8 = $1)`,
			slot).Scan(&progress, &sent, &intents))
		out = append(out, fmt.Sprintf("%d: through %d, %d sent, %d intents", slot, progress, sent, intents))
	}
	return strings.Join(out, "; ")
}

// waitShared waits (a minute at most) until each of cs holds send slots
// and together all of them (one central: all of them).
func waitShared(t *testing.T, cs ...*central) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	held := func() ([]map[string]bool, bool) {
		all, sum, each := make([]map[string]bool, len(cs)), 0, true
		for i, c := range cs {
			all[i] = slotsHeld(c)
			sum += len(all[i])
			each = each && len(all[i]) > 0
		}
		return all, each && sum == pg.SendSlots
	}
	for _, ok := held(); !ok && time.Now().Before(deadline); _, ok = held() {
		time.Sleep(50 * time.Millisecond)
	}
	all, ok := held()
	require.True(t, ok, "the send slots shared out: each holds %v", all)
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
	p, a, b := startPGPair(t)
	recipients, _ := p.campaign(t, a)
	require.EqualValues(t, campaignSize, recipients)
	p.waitAccepted(t, campaignSize/4)
	pgtest.Restart(t)
	require.Less(t, p.fakes.stats(t).Accepted["kakao"], recipients, "the restart must land mid-campaign")

	b.waitDelivery(t, "health-checkup", "kakao", "sent", recipients)
	p.assertOnce(t, a, recipients)
	for _, c := range []*central{a, b} {
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
	p, a, b := startPGPair(t)
	waitShared(t, a, b)
	recipients, _ := p.campaign(t, a)
	require.EqualValues(t, campaignSize, recipients)
	p.waitAccepted(t, campaignSize/4)
	stoppedOne, other := a, b
	require.NoError(t, stoppedOne.cmd.Process.Signal(syscall.SIGSTOP))
	stopped := p.fakes.stats(t).Accepted["kakao"]
	require.Less(t, stopped, recipients, "the stop must land mid-campaign")

	// The other takes the slots over once their leases have run out.
	waitShared(t, other)
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

// Three centrals send a 200,000-recipient campaign between them; one of
// them, chosen at random, is killed with SIGKILL at a random moment of
// its share of the campaign: once its send slots have counted sent
// between a tenth and four fifths of their recipients (a moment of the
// whole campaign could fall after the victim's slots are through, as the
// slots do not keep pace with one another). The campaign is posted to
// another one, which answers once it has every recipient and sends
// meanwhile: the kill may come before or after. The survivors take the
// victim's slots over and finish the campaign, and the provider, which
// recognises no repeat, has taken every recipient's message exactly
// once: the requests the killed one had in flight are settled through
// their send-intents, never sent again. ALLIMI_TEST_SEED=n replays a
// run's victim and moment.
func TestPostgres_ThreeCentralsBigCampaignSurviveOneKilledAtRandom(t *testing.T) {
	const people = 200000
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ALLIMI_TEST_SEED"); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "ALLIMI_TEST_SEED")
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	victim := rng.IntN(3)
	moment := 0.1 + 0.7*rng.Float64()
	t.Logf("seed %d (ALLIMI_TEST_SEED): central %d killed once its slots have sent %.0f%% of their share", seed, victim, 100*moment)

	begin := time.Now()
	p := startPGCluster(t, 3, people, 2)
	db := p.db(t)
	waitShared(t, p.centrals...)
	t.Logf("3 centrals share the send slots %s after the start", time.Since(begin).Round(time.Millisecond))
	killed := p.centrals[victim]
	var held []int
	for slot := range slotsHeld(killed) {
		i, err := strconv.Atoi(slot)
		require.NoError(t, err)
		held = append(held, i)
	}
	slices.Sort(held)
	// 200 chunks of 1,000 recipients, 25 for each slot.
	at := int64(moment * float64(people/pg.SendSlots*len(held)))

	sending := time.Now()
	answer := make(chan posted, 1)
	post := make(chan error, 1)
	go func() {
		n, err := p.postCampaign(p.centrals[(victim+1)%3])
		answer <- n
		post <- err
	}()
	defer func() {
		if t.Failed() {
			st := p.fakes.stats(t)
			t.Logf("at the failure: %d accepted, %d repeats, %d lookups; the slots: %s",
				st.Accepted["kakao"], st.Repeats["kakao"], st.Lookups["kakao"], slotState(t, db))
		}
	}()
	deadline := time.Now().Add(time.Minute)
	for slotSent(t, db, held) < at && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	killed.kill()
	kill := time.Now()
	accepted := p.fakes.stats(t).Accepted["kakao"]
	t.Logf("central %d (slots %v) killed %s into the campaign, %d messages accepted", victim, held,
		time.Since(sending).Round(time.Millisecond), accepted)
	t.Logf("the slots then: %s", slotState(t, db))
	require.GreaterOrEqual(t, slotSent(t, db, held), at, "the kill must land past its moment")
	require.Less(t, accepted, int64(people), "the kill must land mid-campaign")
	require.NoError(t, <-post)
	n := <-answer
	t.Logf("the campaign's POST answered %s after it was sent", time.Since(sending).Round(time.Millisecond))
	require.EqualValues(t, people, n.Recipients)

	survivors := slices.Delete(slices.Clone(p.centrals), victim, victim+1)
	waitShared(t, survivors...)
	t.Logf("the survivors hold every send slot %s after the kill", time.Since(kill).Round(time.Millisecond))
	survivors[0].waitDelivery(t, "health-checkup", "kakao", "sent", n.Recipients)
	deadline = time.Now().Add(30 * time.Second)
	for p.status(t, survivors[1], n.ID) != allimi.StatusDone && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("campaign sent %s after it was posted, %s after the kill; %d lookups at the provider",
		time.Since(sending).Round(time.Millisecond), time.Since(kill).Round(time.Millisecond), p.fakes.stats(t).Lookups["kakao"])
	assert.Equal(t, allimi.StatusDone, p.status(t, survivors[1], n.ID), "the campaign is done")
	p.assertOnce(t, survivors[1], n.Recipients)
	for i, c := range p.centrals {
		var said []string
		for _, line := range strings.Split(c.logText(), "\n") {
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.Contains(line, " slot=") {
				said = append(said, line)
			}
		}
		t.Logf("central %d's log of send slots taken and given up, warnings and errors:\n%s", i, strings.Join(said, "\n"))
	}
}
