package detail

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi/central/throttle"
)

// One address trying a wrong date on many people's links is stopped after
// its limit, though no link saw more than one wrong try; the link's owner,
// from another address, still sees the page.
func TestHandler_OneAddressTryingManyLinksIsLockedAndOthersAreNot(t *testing.T) {
	f := newFixture(t)
	clients, err := throttle.Open(throttle.Bolt(f.db), "detail", throttle.Options{Now: f.clock,
		Client: throttle.Rule{Max: 20, Window: time.Hour, Lock: time.Hour}})
	require.NoError(t, err)
	st, err := NewStore(openBolt(f.t, f.db, nil), f.secret, Options{Now: f.clock, BaseURL: "http://127.0.0.1:8080/", Clients: clients,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(st.Handler())
	defer srv.Close()
	from := func(local string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	post := func(c *http.Client, token, birth string) (int, string) {
		resp, err := c.Post(srv.URL+"/n/"+token, "application/x-www-form-urlencoded",
			strings.NewReader(url.Values{"birthDate": {birth}}.Encode()))
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	guesser := from("127.0.0.2")
	var tokens []string
	for range 20 {
		tokens = append(tokens, f.issue(penalty(), kimBirth))
	}
	for i, tok := range tokens[:19] {
		status, _ := post(guesser, tok, "1950-01-03")
		require.Equal(t, http.StatusForbidden, status, "link %d", i)
	}
	status, _ := post(guesser, tokens[19], "1950-01-03")
	assert.Equal(t, http.StatusForbidden, status, "the 20th wrong try is still answered as wrong")
	status, body := post(guesser, tokens[19], kimBirth)
	assert.Equal(t, http.StatusTooManyRequests, status, "then the address is locked, the right date included")
	assert.NotContains(t, body, "40,000원")

	status, body = post(from("127.0.0.3"), tokens[19], kimBirth)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "40,000원", "the owner, elsewhere, sees the notice")
}
