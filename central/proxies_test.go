package central_test

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"allimi"
	"allimi/central"
	"allimi/central/api"
)

// guessThrough posts a wrong date of birth for receipt seq through the
// client c, as forwarded for xff ("" for no header), and returns the status.
func guessThrough(t *testing.T, c *http.Client, page string, seq uint64, xff string) int {
	t.Helper()
	form := url.Values{"birthDate": {"1950-05-05"}}.Encode()
	req, err := http.NewRequest(http.MethodPost, page+allimi.ReceiptCode("sejong-99", seq), strings.NewReader(form))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func TestProxies_BehindATrustedProxyOneGuesserIsLockedAndOtherVisitorsAreNot(t *testing.T) {
	f := newKioskFixture(t, func(c *central.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	})
	page := "http://" + f.srv.HTTPAddr() + "/r/"
	proxy := fromAddr("127.0.0.2")
	// The guesser puts an address of its own choosing first; the proxy
	// appends the one it saw.
	for seq := range uint64(20) {
		guessThrough(t, proxy, page, seq+1, "198.51.100.1, 203.0.113.9")
	}
	assert.Equal(t, http.StatusTooManyRequests, guessThrough(t, proxy, page, 100, "203.0.113.9"), "the guesser is locked")
	assert.Equal(t, http.StatusTooManyRequests, guessThrough(t, proxy, page, 101, "198.51.100.1, 203.0.113.9"),
		"what the guesser writes into the header changes nothing")
	assert.Equal(t, http.StatusForbidden, guessThrough(t, proxy, page, 100, "198.51.100.7"),
		"another visitor behind the same proxy is only told the date is wrong")
}

func TestProxies_ForwardedForFromAnUntrustedPeerIsIgnored(t *testing.T) {
	f := newKioskFixture(t) // no trusted proxies
	page := "http://" + f.srv.HTTPAddr() + "/r/"
	guesser := fromAddr("127.0.0.2")
	for seq := range uint64(20) {
		// A new made-up address each time would escape a limit that
		// believed the header.
		guessThrough(t, guesser, page, seq+1, "203.0.113."+string(rune('1'+seq%9)))
	}
	assert.Equal(t, http.StatusTooManyRequests, guessThrough(t, guesser, page, 100, "198.51.100.7"))
}

func TestParseTrustedProxies(t *testing.T) {
	ps, err := api.ParseTrustedProxies("10.0.0.5, 192.168.0.0/16,::1 ,fd00::/8")
	require.NoError(t, err)
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("fd00::/8")}, ps)

	_, err = api.ParseTrustedProxies("10.0.0.5,proxy.local")
	require.ErrorIs(t, err, allimi.ErrInvalid)
	assert.Contains(t, err.Error(), `trusted proxy "proxy.local": give an address (10.0.0.5) or a prefix (10.0.0.0/24)`)
}
