package tests

import (
	"allimi/internal/testaddr"

	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const campaignSize = 20000

// fakeProviders is an `allimi fake-providers` process.
type fakeProviders struct {
	*proc
	addr string
}

func startFakes(t *testing.T, args ...string) *fakeProviders {
	t.Helper()
	f := &fakeProviders{addr: testaddr.Free(t)}
	f.proc = start(t, "fake-providers", allimiBin, append([]string{"fake-providers", "--http", f.addr}, args...)...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + f.addr + "/_fake/healthz"); err == nil {
			resp.Body.Close()
			return f
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("fake providers not listening")
	return nil
}

type fakeStats struct {
	Accepted   map[string]int64
	Duplicates map[string]int64
	Repeats    map[string]int64 // --no-dedupe: acceptances of a key already accepted
	Lookups    map[string]int64
	Providers  map[string]map[string]int64 // per provider API: "kakao.nhn", "kakao.sens", …
}

// repeatedKeys lists the keys /_fake/messages shows more than once.
func (f *fakeProviders) repeatedKeys(t *testing.T, ch string) []string {
	t.Helper()
	resp, err := http.Get("http://" + f.addr + "/_fake/messages?channel=" + ch)
	require.NoError(t, err)
	defer resp.Body.Close()
	var msgs []struct{ IdempotencyKey, Status string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&msgs))
	seen := map[string]int{}
	var again []string
	for _, m := range msgs {
		if m.Status != "accepted" {
			continue
		}
		if seen[m.IdempotencyKey]++; seen[m.IdempotencyKey] == 2 {
			again = append(again, m.IdempotencyKey)
		}
	}
	return again
}

func (f *fakeProviders) stats(t *testing.T) fakeStats {
	t.Helper()
	var s fakeStats
	resp, err := http.Get("http://" + f.addr + "/_fake/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

func (c *central) delivery(t *testing.T, typ, ch, metric string) int64 {
	t.Helper()
	var s struct {
		Delivery map[string]map[string]map[string]int64
	}
	resp := adminGet(t, http.DefaultClient, "http://"+c.http+"/api/v1/stats", c.data)
	defer resp.Body.Close()
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s.Delivery[typ][ch][metric]
}

func (c *central) waitDelivery(t *testing.T, typ, ch, metric string, want int64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if c.delivery(t, typ, ch, metric) >= want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/%s %s did not reach %d (is %d)", typ, ch, metric, want, c.delivery(t, typ, ch, metric))
}

// startCampaign seeds campaignSize kakao subscribers, starts fake
// providers that take every request as new (--no-dedupe) and central, and
// posts a campaign to all of them. Two requests of 1,000 are in flight at a
// time, 100 ms each: the campaign takes about a second, long enough to be
// cut several times.
func startCampaign(t *testing.T) (*central, *fakeProviders, string) {
	t.Helper()
	data := t.TempDir()
	runAllimi(t, "central", "seed", "--data", data, "--subscribers", fmt.Sprint(campaignSize), "--types", "health-checkup", "--channels", "kakao")
	var ag struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(runAllimi(t, "central", "agency", "add", "--data", data, "--id", "nhis", "--types", "health-checkup", "--json"), &ag))
	var keys struct{ ReceiptToken string }
	kb, err := os.ReadFile(filepath.Join(data, "keys.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(kb, &keys))

	httpAddr := testaddr.Free(t)
	fakes := startFakes(t, "--latency", "100ms", "--keep-text=false", "--no-dedupe",
		"--receipts", "http://"+httpAddr+"/api/v1/receipts?token="+keys.ReceiptToken)
	c := &central{data: data, mqtt: testaddr.Free(t), http: httpAddr,
		args: []string{"--provider-url", "http://" + fakes.addr, "--senders", "2"}}
	c.start(t)

	req, _ := http.NewRequest(http.MethodPost, "http://"+c.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	req.Header.Set("Idempotency-Key", "checkup-2026")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	return c, fakes, ag.Token
}

// setFaults posts {"kakao": "lookup:1"} and the like to the fake.
func (f *fakeProviders) setFaults(t *testing.T, faults string) {
	t.Helper()
	resp, err := http.Post("http://"+f.addr+"/_fake/faults", "application/json", strings.NewReader(faults))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// The fake takes every request as new (--no-dedupe), as NHN Cloud and Naver
// SENS do: only central's send-intents, reconciled with the provider's
// result query after each crash, keep a person from getting the notice
// twice.
func TestCrash_CentralKilledMidCampaignSendsEveryoneOnceAtTheProvider(t *testing.T) {
	c, fakes, agToken := startCampaign(t)

	// Cut central's power three times while the campaign is going out,
	// each time with requests in flight.
	var seen []int64
	for quarter := int64(1); quarter <= 3; quarter++ {
		deadline := time.Now().Add(time.Minute)
		for fakes.stats(t).Accepted["kakao"] < quarter*campaignSize/4 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		c.kill()
		seen = append(seen, fakes.stats(t).Accepted["kakao"])
		require.Less(t, seen[len(seen)-1], int64(campaignSize), "the kill must land mid-campaign")
		c.start(t)
	}

	c.waitDelivery(t, "health-checkup", "kakao", "sent", campaignSize)
	c.waitDelivery(t, "health-checkup", "kakao", "delivered", campaignSize)
	st := fakes.stats(t)
	assert.Zero(t, st.Repeats["kakao"], "no request repeated a message the provider had taken")
	again := fakes.repeatedKeys(t, "kakao")
	assert.Zero(t, len(again), "/_fake/messages lists each key once; listed again: %v…", again[:min(5, len(again))])
	assert.Zero(t, st.Duplicates["kakao"], "--no-dedupe: the fake recognises nothing")
	assert.EqualValues(t, campaignSize, st.Accepted["kakao"], "every recipient accepted exactly once by the provider")
	assert.EqualValues(t, campaignSize, c.delivery(t, "health-checkup", "kakao", "sent"))
	assert.Positive(t, st.Lookups["kakao"], "central asked the provider about the requests the kills cut off")
	t.Logf("accepted before each kill: %v; result queries: %d", seen, st.Lookups["kakao"])

	// The agency's retry after the crash gets the same notification back.
	req, _ := http.NewRequest(http.MethodPost, "http://"+c.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+agToken)
	req.Header.Set("Idempotency-Key", "checkup-2026")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, campaignSize, fakes.stats(t).Accepted["kakao"])
}

// After a crash the provider cannot say what it took (its result query
// fails): central sends the rest of the campaign but not the requests in
// doubt, and asks again until the provider answers; then everyone has the
// notice once.
func TestCrash_ProviderThatCannotSayWhatItTookGetsNothingResentUntilItCan(t *testing.T) {
	c, fakes, _ := startCampaign(t)
	deadline := time.Now().Add(time.Minute)
	for fakes.stats(t).Accepted["kakao"] < campaignSize/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c.kill()
	require.Less(t, fakes.stats(t).Accepted["kakao"], int64(campaignSize), "the kill must land mid-campaign")
	fakes.setFaults(t, `{"kakao":"lookup:1"}`)
	c.start(t)

	// The first question fails, and so does the next, a second later.
	var first int64
	require.Eventually(t, func() bool { first = fakes.stats(t).Lookups["kakao"]; return first > 0 },
		time.Minute, 10*time.Millisecond, "central asks about the requests the kill cut off")
	require.Eventually(t, func() bool { return fakes.stats(t).Lookups["kakao"] > first },
		time.Minute, 10*time.Millisecond, "and asks again")
	c.waitDelivery(t, "health-checkup", "kakao", "sent", 1)
	assert.Less(t, c.delivery(t, "health-checkup", "kakao", "sent"), int64(campaignSize), "the requests in doubt are not counted sent")
	assert.Zero(t, fakes.stats(t).Repeats["kakao"], "nothing was resent blindly")

	fakes.setFaults(t, `{"kakao":"none"}`)
	c.waitDelivery(t, "health-checkup", "kakao", "sent", campaignSize)
	c.waitDelivery(t, "health-checkup", "kakao", "delivered", campaignSize)
	st := fakes.stats(t)
	assert.Zero(t, st.Repeats["kakao"])
	assert.EqualValues(t, campaignSize, st.Accepted["kakao"])
	assert.EqualValues(t, campaignSize, c.delivery(t, "health-checkup", "kakao", "sent"))
}

// NHN Cloud goes down mid-campaign (the fake drops its connections): the
// kakao channel fails over to Naver Cloud SENS, and a kill of central while
// it does leaves central to ask both providers what they took. Everyone
// gets the notice once, through one provider or the other, and its
// receipt.
func TestProviders_KakaoFailsOverToSENSAcrossACrashOnceEach(t *testing.T) {
	c, fakes, _ := startCampaign(t)
	waitAccepted := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for fakes.stats(t).Accepted["kakao"] < n && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitAccepted(campaignSize / 5)
	fakes.setFaults(t, `{"kakao.nhn":"outage:1"}`)
	require.Eventually(t, func() bool { return fakes.stats(t).Providers["kakao.sens"]["accepted"] > 0 },
		time.Minute, 5*time.Millisecond, "the kakao channel fails over to SENS")
	c.kill()
	require.Less(t, fakes.stats(t).Accepted["kakao"], int64(campaignSize), "the kill must land mid-campaign")
	c.start(t)
	c.waitDelivery(t, "health-checkup", "kakao", "sent", campaignSize)
	fakes.setFaults(t, `{"kakao.nhn":"none"}`)
	c.waitDelivery(t, "health-checkup", "kakao", "delivered", campaignSize)

	st := fakes.stats(t)
	assert.Zero(t, st.Repeats["kakao"], "no message taken twice, by one provider or both")
	assert.Empty(t, fakes.repeatedKeys(t, "kakao"))
	assert.EqualValues(t, campaignSize, st.Accepted["kakao"])
	assert.EqualValues(t, campaignSize, st.Providers["kakao.nhn"]["accepted"]+st.Providers["kakao.sens"]["accepted"])
	assert.Positive(t, st.Providers["kakao.nhn"]["accepted"])
	assert.Positive(t, st.Providers["kakao.sens"]["accepted"])
	assert.Zero(t, c.delivery(t, "health-checkup", "kakao", "fellBack"), "KakaoTalk carried everyone")
	t.Logf("nhn %v, sens %v", st.Providers["kakao.nhn"], st.Providers["kakao.sens"])
}
