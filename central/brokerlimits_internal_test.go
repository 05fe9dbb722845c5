package central

import (
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAddressKey_CountsAnIPv6HostByItsSlash64(t *testing.T) {
	key := func(ip string) string { return addressKey(&net.TCPAddr{IP: net.ParseIP(ip), Port: 1883}) }
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{"two IPv4 addresses", "192.0.2.1", "192.0.2.2", false},
		{"an IPv4 address and its IPv6-mapped form", "192.0.2.1", "::ffff:192.0.2.1", true},
		{"two addresses in one /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"two /64s", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.same, key(tt.a) == key(tt.b), "%s and %s", key(tt.a), key(tt.b))
		})
	}
}
