package central

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// A kiosk whose login completed after mochi disconnected the clients it
// knew would keep mochi's Close waiting for its socket; the listener closes
// every socket it accepted, logged in or not.
func TestPreLoginListener_CloseClosesLoggedInSocketsToo(t *testing.T) {
	l, ln, err := listenPreLogin("127.0.0.1:0", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	loggedIn, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer loggedIn.Close()
	notYet, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer notYet.Close()
	(<-accepted).(*preLoginConn).free() // as preLoginHook does at login
	<-accepted

	require.NoError(t, l.Close())
	for name, c := range map[string]net.Conn{"logged in": loggedIn, "not logged in": notYet} {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, err := c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF, "%s: the listener's Close should close it", name)
	}
}
