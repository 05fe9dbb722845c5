package throttle_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"allimi/central/throttle"
)

func TestClient_IsTheAddressOrTheIPv6Slash64(t *testing.T) {
	for _, tt := range []struct{ remote, want string }{
		{"203.0.113.7:51234", "203.0.113.7"},
		{"[::ffff:203.0.113.7]:443", "203.0.113.7"},
		{"[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:bbbb::9]:80", "2001:db8:1:2::/64"},
		{"@", "@"}, // a unix socket's peer: as it is
	} {
		assert.Equal(t, tt.want, throttle.Client(tt.remote), tt.remote)
	}
}
