package tests

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// adminGet GETs url with the admin token of the keys.json in data: the
// statistics, conflicts and rejections are staff-only.
func adminGet(t *testing.T, cl *http.Client, url, data string) *http.Response {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "keys.json"))
	require.NoError(t, err)
	var keys struct {
		AdminToken string `json:"adminToken"`
	}
	require.NoError(t, json.Unmarshal(b, &keys))
	require.NotEmpty(t, keys.AdminToken, "keys.json has an admin token")
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+keys.AdminToken)
	resp, err := cl.Do(req)
	require.NoError(t, err)
	return resp
}
