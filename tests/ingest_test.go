package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/sync/wire"
)

// readiness is central's answer on /readyz (and /healthz, which says the same).
type readiness struct {
	Code   int
	Status string `json:"status"`
	Broker bool   `json:"broker"`
	Ingest struct {
		Storing bool   `json:"storing"`
		Waiting int    `json:"waiting"`
		Error   string `json:"error"`
	} `json:"ingest"`
}

func (c *central) ready(t *testing.T, path string) readiness {
	t.Helper()
	resp, err := http.Get("http://" + c.http + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	r := readiness{Code: resp.StatusCode}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
	return r
}

// metric reads one unlabelled series from central's /metrics.
func (c *central) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + c.http + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindSubmatch(b)
	require.NotNil(t, m, "metric %s", name)
	v, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return v
}

// One kiosk floods central with invalid records while another's sign-ups
// are stored: the flood is refused and counted, the pipe stays open.
func TestIngest_AFloodOfInvalidRecordsDoesNotHoldUpAnotherKiosk(t *testing.T) {
	data, kdata := t.TempDir(), t.TempDir()
	flooder := addKiosk(t, data, "flooder")
	quiet := addKiosk(t, data, "quiet")
	c := startCentral(t, data)
	broker := "tcp://" + c.mqtt

	opts := paho.NewClientOptions().AddBroker(broker).SetClientID("allimi-kiosk-" + flooder.ID).
		SetUsername(flooder.Username).SetPassword(flooder.Password).SetProtocolVersion(4).SetCleanSession(true).
		SetAutoReconnect(false)
	fc := paho.NewClient(opts)
	tok := fc.Connect()
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	t.Cleanup(func() { fc.Disconnect(100) })

	const signups = 500
	r := parseSim(t, string(runAllimi(t, simArgs(broker, quiet, kdata, "--signups", strconv.Itoa(signups))...)))
	require.Equal(t, signups, r.Pending)

	// The flood runs until the quiet kiosk is done, and at least 50,000 records.
	quietDone := make(chan struct{})
	published := make(chan int, 1)
	go func() {
		n := 0
		defer func() { published <- n }()
		var last paho.Token
		for ; ; n++ {
			if n >= 50_000 {
				select {
				case <-quietDone:
					last.Wait()
					return
				default:
				}
			}
			last = fc.Publish(wire.UpTopic(flooder.ID), 1, false, fmt.Appendf(nil, `{"v":1,"kiosk":"flooder","seq":%d,"junk`, n))
			if n%1000 == 999 {
				last.Wait() // the broker's PUBACK: as fast as the broker takes them
			}
		}
	}()

	sim := start(t, "kiosk-sim", allimiBin, simArgs(broker, quiet, kdata, "--wait", "--timeout", "5m")...)
	require.Eventually(t, func() bool { return c.stats(t).Records.Stored >= signups }, 60*time.Second, 50*time.Millisecond,
		"the quiet kiosk's sign-ups are stored during the flood")
	close(quietDone)
	sim.wait(t, time.Minute)
	require.NoError(t, sim.err, sim.logText())
	assert.Zero(t, parseSim(t, sim.output()).Pending)
	n := <-published
	require.GreaterOrEqual(t, n, 50_000)

	// Every flood record is accounted for: refused and counted, or shed
	// (acknowledged unstored, which a real kiosk would send again).
	require.Eventually(t, func() bool {
		return c.stats(t).Records.Rejected+int64(c.metric(t, "allimi_ingest_shed_total")) >= int64(n)
	}, 60*time.Second, 50*time.Millisecond, "the flood drains")
	s := c.stats(t)
	shed := int64(c.metric(t, "allimi_ingest_shed_total"))
	t.Logf("flood of %d: %d refused, %d shed", n, s.Records.Rejected, shed)
	assert.EqualValues(t, n, s.Records.Rejected+shed)
	assert.Positive(t, s.Records.Rejected, "the flood's records are refused and counted")
	assert.EqualValues(t, signups, s.Records.Stored)
	assert.Equal(t, http.StatusOK, c.ready(t, "/readyz").Code)
	assert.NotContains(t, c.logText(), "lost the broker")
}
