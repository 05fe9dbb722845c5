package throttle

import (
	"net"
	"net/netip"
)

// Client is who a limit counts a connection from, given its remote
// address (host:port): the IP address, or for IPv6 its /64, which one
// household or one attacker holds whole. It is the peer's address: behind
// a reverse proxy every client is the proxy.
func Client(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
