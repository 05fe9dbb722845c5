package central_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/bolt"
	"allimi/central/notify"
)

// put sends a type's file as the administrator.
func (f *fanout) putType(t *testing.T, id, file string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, f.tc.http+"/api/v1/types/"+id, strings.NewReader(file))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+f.keys.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

// trafficFineV1 is traffic-fine as an administrator changes it: a new
// param (where the offence was) and new words.
func trafficFineV1(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../assets/templates/traffic-fine.toml")
	require.NoError(t, err)
	// The shipped file begins with its [type] table: a new param.
	file := strings.Replace(string(b), `params = ["amount", "dueDate", "violation"]`,
		`params = ["amount", "dueDate", "violation", "place"]`+"\nlabels = { place = \"단속 장소\" }", 1)
	require.NotEqual(t, string(b), file)
	file = strings.Replace(file, "[알리미] 교통 범칙금 부과 안내\n", "[알리미] 교통 범칙금 부과 안내 ({{place}})\n", 1)
	// New words need new AlimTalk template codes (registered with them).
	return strings.ReplaceAll(file, "ALLIMI_TRAFFIC_FINE_01", "ALLIMI_TRAFFIC_FINE_02")
}

// An administrator changes a type while central runs: a file that does
// not check is refused naming the problem and changes nothing; one that
// checks is the type's next version, written with at once, known again
// after a restart, and given to the kiosks in the types' catalog.
func TestTypes_PutChangesATypeWhileCentralRuns(t *testing.T) {
	t.Cleanup(allimi.ResetTypes)
	f := newFanout(t, fanoutOptions{people: 1})
	p := f.people[0]

	bad := strings.Replace(trafficFineV1(t), "({{place}})", "({{street}})", 1)
	code, resp := f.putType(t, "traffic-fine", bad)
	require.Equal(t, http.StatusBadRequest, code, resp)
	assert.Contains(t, resp["error"], `traffic-fine.toml: kakao: body line 1: unknown variable "street"`)
	sameCode := strings.ReplaceAll(trafficFineV1(t), "ALLIMI_TRAFFIC_FINE_02", "ALLIMI_TRAFFIC_FINE_01")
	code, resp = f.putType(t, "traffic-fine", sameCode)
	require.Equal(t, http.StatusBadRequest, code, resp)
	assert.Contains(t, resp["error"], `kakao: code "ALLIMI_TRAFFIC_FINE_01": its text changed`)
	ti, _ := allimi.TypeTrafficFine.Info()
	assert.Zero(t, ti.Version, "nothing changed")

	code, resp = f.putType(t, "traffic-fine", trafficFineV1(t))
	require.Equal(t, http.StatusOK, code, resp)
	assert.EqualValues(t, 1, resp["version"])
	assert.Equal(t, []any{"amount", "dueDate", "violation", "place"}, resp["params"])

	send := func(n int) {
		body := `{"type":"traffic-fine","params":{"amount":"40,000","dueDate":"2026-12-31","violation":"신호위반","place":"세종로"},
		  "audience":{"citizens":[` + listed(p) + `]}, "urgent":true}`
		code, resp := f.post(t, body, "")
		require.Equal(t, http.StatusAccepted, code, resp)
		f.waitMetric(t, allimi.TypeTrafficFine, allimi.ChannelKakao, notify.MetricSent, int64(n))
		msgs := f.fake.Messages(allimi.ChannelKakao)
		require.Len(t, msgs, n)
		// The fake has not the new template registered: it shows the
		// code and values sent, the new ones.
		assert.Contains(t, msgs[n-1].Text, "[ALLIMI_TRAFFIC_FINE_02]", "the new template, at once")
		assert.Contains(t, msgs[n-1].Text, "place=세종로")
	}
	send(1)

	var listed struct{ Types []struct{ ID string } }
	getJSONAs(t, f.tc.http+"/api/v1/types", "", &listed)
	assert.Len(t, listed.Types, len(allimi.Types()))

	// A restart, as a new process: the built-in types, then the ones put.
	require.NoError(t, f.tc.srv.Close())
	allimi.ResetTypes()
	srv, err := central.Start(context.Background(), f.tc.cfg)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	f.tc.srv = srv
	ti, _ = allimi.TypeTrafficFine.Info()
	assert.EqualValues(t, 1, ti.Version)
	send(2)

	req, _ := http.NewRequest(http.MethodGet, f.tc.http+"/api/v1/types/traffic-fine?version=1", nil)
	req.Header.Set("Authorization", "Bearer "+f.keys.AdminToken)
	r, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	kept, _ := io.ReadAll(r.Body)
	r.Body.Close()
	assert.Equal(t, trafficFineV1(t), string(kept), "the file as put")

	require.NoError(t, srv.Close())
	st, _, err := bolt.OpenData(f.tc.cfg.Data, bolt.StoreOptions{})
	require.NoError(t, err)
	defer st.Close()
	c, ok, err := st.Catalog(allimi.TypesCatalog)
	require.NoError(t, err)
	require.True(t, ok, "the kiosks' catalog")
	assert.Contains(t, string(c.Body), `"ID":"traffic-fine"`)
	assert.Contains(t, string(c.Body), fmt.Sprintf(`"Version":%d`, 1))
}
