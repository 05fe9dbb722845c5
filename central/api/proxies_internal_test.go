package api

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRealClient(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"an untrusted peer is the client, whatever it says", "198.51.100.1:4000", []string{"203.0.113.9"}, "198.51.100.1:4000"},
		{"a trusted proxy names the client", "10.0.0.5:4000", []string{"203.0.113.9"}, "203.0.113.9:0"},
		{"what the client wrote in front is not believed", "10.0.0.5:4000", []string{"1.2.3.4, 203.0.113.9"}, "203.0.113.9:0"},
		{"a chain of trusted proxies is walked", "10.0.0.5:4000", []string{"203.0.113.9, 10.1.1.1", "10.2.2.2"}, "203.0.113.9:0"},
		{"an IPv6 client", "[fd00::1]:4000", []string{"2001:db8::7"}, "[2001:db8::7]:0"},
		{"no header: the proxy itself", "10.0.0.5:4000", nil, "10.0.0.5:4000"},
		{"nonsense from the proxy: the proxy", "10.0.0.5:4000", []string{"unknown"}, "10.0.0.5:4000"},
		{"only trusted hops: the proxy", "10.0.0.5:4000", []string{"10.9.9.9"}, "10.0.0.5:4000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.peer, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			assert.Equal(t, tc.want, realClient(r, trusted))
		})
	}
	r := &http.Request{RemoteAddr: "10.0.0.5:4000", Header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}}
	assert.Equal(t, "10.0.0.5:4000", realClient(r, nil), "no trusted proxies: the header means nothing")
}
