package api

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"allimi"
)

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR
// prefixes (--http-trusted-proxies).
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: give an address (10.0.0.5) or a prefix (10.0.0.0/24): %w", s, allimi.ErrInvalid)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// realClient returns the address r is to be counted against: its peer,
// unless the peer is a trusted proxy; then the rightmost address of
// X-Forwarded-For that is not a trusted proxy. The entries left of it are
// whatever the client chose to send, so they are never believed (MDN,
// "X-Forwarded-For: Selecting an IP address").
func realClient(r *http.Request, trusted []netip.Prefix) string {
	if len(trusted) == 0 || !isTrusted(r.RemoteAddr, trusted) {
		return r.RemoteAddr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(h)
		if err != nil {
			break // a proxy we trust wrote nonsense: keep the peer
		}
		if !isTrusted(h, trusted) {
			return net.JoinHostPort(a.Unmap().String(), "0")
		}
	}
	return r.RemoteAddr
}

func isTrusted(addr string, trusted []netip.Prefix) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
