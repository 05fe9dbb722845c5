package central_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"allimi"
	"allimi/central"
	"allimi/sync/wire"
)

// The attacks below declare packets of 100 MiB; central runs in the test's
// own process, so its allocations show in this process's MemStats.
const (
	declared       = 100 << 20
	allocatedBound = 32 << 20
)

// brokerHost is the host:port of tc's MQTT listener.
func brokerHost(tc *testCentral) string { return strings.TrimPrefix(tc.mqtt, "tcp://") }

// dialFrom opens a TCP connection to the broker from the loopback address
// from (any of 127.0.0.0/8 reaches a listener on 127.0.0.1).
func dialFrom(t *testing.T, tc *testCentral, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", brokerHost(tc))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// connectPacket is an MQTT 3.1.1 CONNECT with these credentials.
func connectPacket(t *testing.T, clientID, user, pass string) []byte {
	t.Helper()
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 30, ClientIdentifier: clientID,
			UsernameFlag: true, Username: []byte(user), PasswordFlag: true, Password: []byte(pass)}}
	var buf bytes.Buffer
	require.NoError(t, pk.ConnectEncode(&buf))
	return buf.Bytes()
}

// login sends a kiosk's CONNECT on c and requires central's CONNACK to
// accept it.
func login(t *testing.T, c net.Conn, cred allimi.KioskCredentials) {
	t.Helper()
	_, err := c.Write(connectPacket(t, "allimi-kiosk-"+cred.ID, cred.Username, cred.Password))
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
	ack := make([]byte, 4)
	_, err = io.ReadFull(c, ack)
	require.NoError(t, err, "no CONNACK")
	require.Equal(t, []byte{0x20, 2, 0, 0}, ack, "CONNACK: connection accepted")
	require.NoError(t, c.SetReadDeadline(time.Time{}))
}

// fixedHeader is the fixed header of a packet of type typ (with flags)
// declaring size bytes to follow [MQTT-2.2.3].
func fixedHeader(typ byte, size int) []byte {
	b := []byte{typ}
	for {
		d := byte(size % 128)
		size /= 128
		if size > 0 {
			d |= 128
		}
		b = append(b, d)
		if size == 0 {
			return b
		}
	}
}

// closedByServer waits, up to a generous bound, for the server to close c:
// a read that ends in EOF or a reset. It reports false if c is still open.
func closedByServer(t *testing.T, c net.Conn) bool {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

type memFigures struct{ totalAlloc, heapInuse uint64 }

func memNow() memFigures {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memFigures{m.TotalAlloc, m.HeapInuse}
}

// assertAllocatedLittle checks what central allocated between before and
// Now: TotalAlloc counts a buffer even if it was freed again, so it shows
// whether the declared size was ever allocated, not only kept.
func assertAllocatedLittle(t *testing.T, before memFigures) {
	t.Helper()
	after := memNow()
	alloc, inuse := after.totalAlloc-before.totalAlloc, int64(after.heapInuse)-int64(before.heapInuse)
	t.Logf("during the attack central allocated %.1f MiB; heap in use changed by %.1f MiB",
		float64(alloc)/(1<<20), float64(inuse)/(1<<20))
	assert.Less(t, alloc, uint64(allocatedBound), "bytes allocated during the attack")
	assert.Less(t, inuse, int64(allocatedBound), "heap in use after the attack")
}

// A socket's first packet must be a CONNECT, so that is what an attacker
// declares big (a PUBLISH first is refused by mochi before it reads more:
// server.go readConnectionPacket).
func TestBroker_RefusesOversizedPacketBeforeLogin(t *testing.T) {
	tc := startCentral(t, t.TempDir())
	before := memNow()
	conns := make([]net.Conn, 4)
	for i := range conns {
		conns[i] = dialFrom(t, tc, "127.0.0.1")
		_, err := conns[i].Write(append(fixedHeader(0x10, declared), make([]byte, 1024)...))
		require.NoError(t, err)
	}
	for i, c := range conns {
		assert.True(t, closedByServer(t, c), "connection %d declaring %d bytes is still open", i, declared)
	}
	assertAllocatedLittle(t, before)
}

func TestBroker_RefusesOversizedPublishFromALoggedInKiosk(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	rk := connectRaw(t, tc.mqtt, cred)
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 1, 1)))
	rk.waitAck(t, 1)
	rk.client.Disconnect(100)

	c := dialFrom(t, tc, "127.0.0.1")
	login(t, c, cred)
	before := memNow()
	topic := wire.UpTopic("k1")
	head := append(fixedHeader(0x30, declared), byte(len(topic)>>8), byte(len(topic)))
	_, err := c.Write(append(append(head, topic...), make([]byte, 64<<10)...))
	require.NoError(t, err)
	assert.True(t, closedByServer(t, c), "a kiosk declaring a %d-byte PUBLISH is still connected", declared)
	assertAllocatedLittle(t, before)

	// Nothing stored is lost, and the kiosk can come back.
	rk = connectRaw(t, tc.mqtt, cred)
	rk.publish(t, wire.UpTopic("k1"), marshal(t, event(t, "k1", 2, 2)))
	rk.waitAck(t, 2)
	assert.EqualValues(t, 2, tc.stats(t).Records.Stored)
}

func TestBroker_ClosesASocketThatSendsNoConnect(t *testing.T) {
	tests := []struct {
		name string
		sent func(t *testing.T) []byte
	}{
		{"nothing", func(*testing.T) []byte { return nil }},
		{"half a CONNECT", func(t *testing.T) []byte {
			p := connectPacket(t, "allimi-kiosk-k1", "kiosk-k1", "whatever")
			return p[:len(p)/2]
		}},
	}
	central.SetConnectTimeout(t, time.Second)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tc := startCentral(t, t.TempDir())
			c := dialFrom(t, tc, "127.0.0.1")
			_, err := c.Write(tt.sent(t))
			require.NoError(t, err)
			assert.True(t, closedByServer(t, c), "the server kept a socket open that sent no CONNECT")
		})
	}
}

func TestBroker_LimitsSocketsNotLoggedInPerAddress(t *testing.T) {
	central.SetConnectTimeout(t, time.Minute) // the held sockets must outlive the test
	data := t.TempDir()
	k1, k2, k3 := addKiosk(t, data, "k1"), addKiosk(t, data, "k2"), addKiosk(t, data, "k3")
	tc := startCentral(t, data)

	held := make([]net.Conn, central.MaxPreLoginPerAddress)
	for i := range held {
		held[i] = dialFrom(t, tc, "127.0.0.1")
	}
	// The listener accepts in arrival order, so this one comes after the
	// held ones and finds the address full.
	extra := dialFrom(t, tc, "127.0.0.1")
	assert.True(t, closedByServer(t, extra), "socket %d from one address was accepted", len(held)+1)

	// Another address is not affected.
	login(t, dialFrom(t, tc, "127.0.0.2"), k2)
	// The held sockets are open: one of them can log in, and that frees
	// its place for a new socket from the same address.
	login(t, held[0], k1)
	login(t, dialFrom(t, tc, "127.0.0.1"), k3)
}

func TestBroker_ChecksOnePasswordAtATimePerAddress(t *testing.T) {
	// More checks may run at once than there are attackers, so only the
	// per-address turn can hold one address to one check.
	var inside atomic.Int32
	release := make(chan struct{})
	letGo := sync.OnceFunc(func() { close(release) })
	defer letGo()
	central.SetPasswordChecks(t, 2*central.MaxPreLoginPerAddress, func(hash, password []byte) error {
		inside.Add(1)
		defer inside.Add(-1)
		<-release
		return bcrypt.CompareHashAndPassword(hash, password)
	})
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)

	attack := connectPacket(t, "allimi-kiosk-k1", cred.Username, "not-the-password")
	conns := make([]net.Conn, central.MaxPreLoginPerAddress)
	for i := range conns {
		conns[i] = dialFrom(t, tc, "127.0.0.1")
		_, err := conns[i].Write(attack)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return inside.Load() == 1 && tc.srv.WaitingForTurns() == len(conns)-1 },
		20*time.Second, 5*time.Millisecond, "one check runs, the address's other sockets wait")

	// A kiosk at another address is checked meanwhile, not after them.
	good := dialFrom(t, tc, "127.0.0.2")
	_, err := good.Write(connectPacket(t, "allimi-kiosk-k1", cred.Username, cred.Password))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return inside.Load() == 2 }, 20*time.Second, 5*time.Millisecond)

	letGo()
	require.NoError(t, good.SetReadDeadline(time.Now().Add(20*time.Second)))
	ack := make([]byte, 4)
	_, err = io.ReadFull(good, ack)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x20, 2, 0, 0}, ack, "the good kiosk is accepted")
	for i, c := range conns {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
		_, err = io.ReadFull(c, ack)
		require.NoError(t, err)
		assert.Equal(t, []byte{0x20, 2, 0, 5}, ack, "attempt %d: refused, not authorised (3.1.1 return code 5)", i)
	}
}

func TestBroker_CloseDoesNotWaitForSocketsThatNeverLoggedIn(t *testing.T) {
	central.SetConnectTimeout(t, time.Hour)
	tc := startCentral(t, t.TempDir())
	c := dialFrom(t, tc, "127.0.0.1")
	_, err := c.Write([]byte{0x10}) // the first byte of a CONNECT, then nothing
	require.NoError(t, err)

	closed := make(chan error, 1)
	go func() { closed <- tc.srv.Close() }()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("central's Close still waits for a socket that never logged in")
	}
	assert.True(t, closedByServer(t, c))
}

func TestCatalog_BodyLargerThanAnyInboundPacketReachesAKiosk(t *testing.T) {
	data := t.TempDir()
	cred := addKiosk(t, data, "k1")
	tc := startCentral(t, data)
	body := bytes.Repeat([]byte("allimi catalog "), (4<<20)/15) // 4 MiB, far above the inbound limit
	_, err := tc.srv.PublishCatalog("big", 0, body)
	require.NoError(t, err)

	cs, installed := runCatalogKiosk(t, tc, cred)
	select {
	case v := <-installed:
		assert.EqualValues(t, 1, v)
	case <-time.After(30 * time.Second):
		t.Fatal("the catalog never reached the kiosk")
	}
	_, got, err := cs.Get("big")
	require.NoError(t, err)
	assert.Equal(t, body, got)
}
