package central_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/sync/wire"
)

// /healthz keeps the fields monitors read ("status", "broker") and adds the
// ingest's; /readyz answers the same.
func TestHealth_ReadyzAndHealthzReportTheIngest(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 1, 1)))
	rk.waitAck(t, 1)

	for _, path := range []string{"/healthz", "/readyz"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(tc.http + path)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var h struct {
				Status string
				Broker bool
				Ingest struct {
					Storing    bool
					Waiting    *int
					LastCommit string
				}
			}
			getJSON(t, tc.http+path, &h)
			assert.Equal(t, "ok", h.Status)
			assert.True(t, h.Broker)
			assert.True(t, h.Ingest.Storing)
			require.NotNil(t, h.Ingest.Waiting)
			assert.Zero(t, *h.Ingest.Waiting)
			assert.NotEmpty(t, h.Ingest.LastCommit, "the time of the last commit")
		})
	}
}

// The subscriber index is folded by the ingest once records stop coming,
// without waiting for a campaign to do it.
func TestIngest_FoldsTheSubscriberIndexWhenIdle(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	for seq := uint64(1); seq <= 20; seq++ {
		rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", seq, seq)))
	}
	rk.waitAck(t, 20)
	assert.Eventually(t, func() bool {
		resp, err := http.Get(tc.http + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "\nallimi_subscriber_index_pending 0\n")
	}, 10*time.Second, 20*time.Millisecond)
	assert.EqualValues(t, 20, tc.stats(t).Subscribers)
}
