package centraltest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCentral_KioskAddedBeforeStartAndStatsForTheAdmin(t *testing.T) {
	c := New(t)
	cred := c.AddKiosk("k1")
	assert.Equal(t, "k1", cred.ID)
	assert.Equal(t, "tcp://"+c.Config.MQTT, c.Broker())
	c.Start()

	req, err := http.NewRequest(http.MethodGet, c.URL()+"/api/v1/stats", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.AdminToken())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Stopped and started again, on the same data.
	require.NoError(t, c.Server.Close())
	c.Start()
	hw, err := c.Server.HW("k1")
	require.NoError(t, err)
	assert.Zero(t, hw)
}
