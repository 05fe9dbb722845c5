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

func TestCrash_CentralKilledMidCampaignSendsEveryoneOnceAtTheProvider(t *testing.T) {
	data := t.TempDir()
	allimi(t, "central", "seed", "--data", data, "--subscribers", fmt.Sprint(campaignSize), "--types", "health-checkup", "--channels", "kakao")
	var ag struct{ ID, Token string }
	require.NoError(t, json.Unmarshal(allimi(t, "central", "agency", "add", "--data", data, "--id", "nhis", "--types", "health-checkup", "--json"), &ag))
	var keys struct{ ReceiptToken string }
	kb, err := os.ReadFile(filepath.Join(data, "keys.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(kb, &keys))

	httpAddr := testaddr.Free(t)
	fakes := startFakes(t, "--latency", "40ms", "--keep-text=false",
		"--receipts", "http://"+httpAddr+"/api/v1/receipts?token="+keys.ReceiptToken)
	c := &central{data: data, mqtt: testaddr.Free(t), http: httpAddr, args: []string{"--provider-url", "http://" + fakes.addr}}
	c.start(t)

	req, _ := http.NewRequest(http.MethodPost, "http://"+c.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	req.Header.Set("Idempotency-Key", "checkup-2026")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)

	// Cut central's power while the campaign is going out.
	deadline := time.Now().Add(time.Minute)
	for fakes.stats(t).Accepted["kakao"] < campaignSize/4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	c.kill()
	seen := fakes.stats(t).Accepted["kakao"]
	require.Less(t, seen, int64(campaignSize), "the kill must land mid-campaign")

	c.start(t)
	c.waitDelivery(t, "health-checkup", "kakao", "sent", campaignSize)
	c.waitDelivery(t, "health-checkup", "kakao", "delivered", campaignSize)
	st := fakes.stats(t)
	assert.EqualValues(t, campaignSize, st.Accepted["kakao"], "every recipient accepted exactly once by the provider")
	assert.EqualValues(t, campaignSize, c.delivery(t, "health-checkup", "kakao", "sent"))
	t.Logf("accepted before the kill: %d; resends the provider recognised: %d", seen, st.Duplicates["kakao"])

	// The agency's retry after the crash gets the same notification back.
	req, _ = http.NewRequest(http.MethodPost, "http://"+c.http+"/api/v1/notifications",
		strings.NewReader(`{"type":"health-checkup","audience":{"all":true},"urgent":true,"params":{"year":"2026"}}`))
	req.Header.Set("Authorization", "Bearer "+ag.Token)
	req.Header.Set("Idempotency-Key", "checkup-2026")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, campaignSize, fakes.stats(t).Accepted["kakao"])
}
