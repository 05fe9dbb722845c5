package central_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/api"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/uplink"
)

func TestEnrol_ACodeGivesAKioskItsCredentialsOnce(t *testing.T) {
	f := newKioskFixture(t)
	base := "http://" + f.srv.HTTPAddr()

	code, body := postJSON(t, base+"/api/v1/kiosks/gongju-07/enrol", "", `{"ttl":"1h"}`)
	require.Equal(t, http.StatusUnauthorized, code, body)
	code, body = postJSON(t, base+"/api/v1/kiosks/Bad_ID/enrol", f.admin, `{}`)
	require.Equal(t, http.StatusBadRequest, code, body)
	code, body = postJSON(t, base+"/api/v1/kiosks/gongju-07/enrol", f.admin, `{"ttl":"1h"}`)
	require.Equal(t, http.StatusOK, code, body)
	var issued struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(body), &issued))
	require.Len(t, issued.Code, 14)

	// Typed by a person: lower case, no dashes.
	typed := strings.ToLower(strings.ReplaceAll(issued.Code, "-", ""))
	code, body = postJSON(t, base+"/api/v1/enrol", "", `{"code":"`+typed+`"}`)
	require.Equal(t, http.StatusOK, code, body)
	var cred api.EnrolResponse
	require.NoError(t, json.Unmarshal([]byte(body), &cred))
	assert.Equal(t, "gongju-07", cred.ID)
	assert.Equal(t, "tcp://"+f.cfg.MQTT, cred.Broker)
	assert.NotEmpty(t, cred.CatalogKey)

	// The credentials work: a kiosk connects with them.
	db, err := outbox.OpenDB(t.TempDir())
	require.NoError(t, err)
	defer db.Close()
	ob, err := outbox.Open(db, cred.ID)
	require.NoError(t, err)
	s := uplink.NewSender(uplink.Config{Conn: transport.Conn{Broker: cred.Broker, Username: cred.Username, Password: cred.Password}}, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	require.Eventually(t, func() bool { return s.Status().Connected }, 20*time.Second, 10*time.Millisecond)
	cancel()
	<-done

	code, body = postJSON(t, base+"/api/v1/enrol", "", `{"code":"`+issued.Code+`"}`)
	assert.Equal(t, http.StatusGone, code)
	assert.Contains(t, body, "already used")
	var refused api.EnrolError
	require.NoError(t, json.Unmarshal([]byte(body), &refused))
	assert.Equal(t, api.EnrolReasonUsed, refused.Reason, "the kiosk says why in its own language")
}

func TestEnrol_ExpiredUnknownAndGuessedCodesAreRefused(t *testing.T) {
	f := newKioskFixture(t)
	base := "http://" + f.srv.HTTPAddr()
	code, body := postJSON(t, base+"/api/v1/kiosks/k-exp/enrol", f.admin, `{"ttl":"1s"}`)
	require.Equal(t, http.StatusOK, code, body)
	var issued struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(body), &issued))
	time.Sleep(1100 * time.Millisecond) // the code's lifetime is what is tested
	code, body = postJSON(t, base+"/api/v1/enrol", "", `{"code":"`+issued.Code+`"}`)
	assert.Equal(t, http.StatusGone, code)
	assert.Contains(t, body, "expired")
	assert.Contains(t, body, `"reason": "expired"`)

	code, body = postJSON(t, base+"/api/v1/enrol", "", `{"code":`)
	assert.Equal(t, http.StatusBadRequest, code, body)
	for i := 0; i < 10; i++ {
		code, _ = postJSON(t, base+"/api/v1/enrol", "", `{"code":"AAAA-BBBB-CCCC"}`)
		require.Equal(t, http.StatusNotFound, code)
	}
	resp, err := http.Post(base+"/api/v1/enrol", "application/json", strings.NewReader(`{"code":"AAAA-BBBB-CCCD"}`))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "guessing is slowed down: %s", b)
}
