package central

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/time/rate"

	"allimi/sync/wire"
)

// What the embedded broker allows a client, before and after it has logged
// in. mochi reads a packet by allocating the length its fixed header
// declares and only then reading the bytes (clients.go ReadPacket), and it
// sets no deadline before CONNECT: without these limits four sockets that
// declared 100 MiB each took 400 MiB, and idle sockets stayed open forever.
const (
	// maxInboundPacket bounds every packet a client sends the broker, before
	// login or after: an up record of wire.MaxEventSize with its topic and
	// headers, with room for a record somewhat over the limit to reach the
	// ingest, which refuses it with a reason the kiosk's rejections show.
	// mochi checks it after the fixed header, before allocating
	// (clients.go ReadFixedHeader). Central's own catalog bodies, retained
	// messages of some MiB, enter through the inline client, which reads
	// no packet (embeddedBroker.publishRetained).
	maxInboundPacket = wire.MaxEventSize + 4<<10
	// maxPreLoginPerAddress bounds the sockets one address holds open
	// before their CONNECT is accepted: a kiosk needs one, a site with a
	// few kiosks behind one router a few. It also bounds the password
	// checks one address can have queued.
	maxPreLoginPerAddress = 8
	// maxPreLogin bounds those sockets over all addresses; with
	// maxInboundPacket it bounds what they can make central allocate.
	maxPreLogin = 1024
)

// connectTimeout is how long a socket has for its TLS handshake and its
// CONNECT (the spec's "reasonable amount of time", MQTT 5.0 §3.1.4); once
// the CONNECT is read, mochi replaces it with the keep-alive deadline
// (clients.go refreshDeadline, [MQTT-3.1.2-24]). A var for tests.
var connectTimeout = 10 * time.Second

// preLoginListener is the broker's TCP listener, beneath TLS: it refuses a
// socket when its address already holds maxPreLoginPerAddress sockets that
// have not logged in (or all addresses maxPreLogin), gives each socket
// connectTimeout to log in, and lets each address have one password
// checked at a time (preLoginHook.OnConnect).
type preLoginListener struct {
	net.Listener
	timeout time.Duration
	log     *slog.Logger
	warn    rate.Sometimes // one warning a minute when sockets are refused

	mu        sync.Mutex
	perAddr   map[string]*addressState
	open      map[*preLoginConn]struct{} // not logged in yet
	live      map[*preLoginConn]struct{} // every socket not closed, logged in or not
	refused   int
	closed    bool
	closeOnce sync.Once
}

// addressState is what one address's sockets that have not logged in share.
type addressState struct {
	sockets int
	// turn is held by the socket whose password is being checked: with the
	// process-wide passwordChecks alone, 16 threads of wrong passwords from
	// one address filled the queue and a good connect waited behind them.
	turn    chan struct{}
	waiting int // sockets waiting for the turn
}

// listenPreLogin opens the broker's TCP listener at addr; ln is what the
// broker serves, with TLS above l when tlsCfg is not nil.
func listenPreLogin(addr string, tlsCfg *tls.Config, log *slog.Logger) (l *preLoginListener, ln net.Listener, err error) {
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	l = &preLoginListener{Listener: raw, timeout: connectTimeout, log: log,
		warn:    rate.Sometimes{First: 1, Interval: time.Minute},
		perAddr: map[string]*addressState{}, open: map[*preLoginConn]struct{}{}, live: map[*preLoginConn]struct{}{}}
	if tlsCfg != nil {
		return l, tls.NewListener(l, tlsCfg), nil
	}
	return l, l, nil
}

func (l *preLoginListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := addressKey(c.RemoteAddr())
		l.mu.Lock()
		st := l.perAddr[key]
		full := l.closed || len(l.open) >= maxPreLogin || (st != nil && st.sockets >= maxPreLoginPerAddress)
		if full {
			l.refused++
			refused := l.refused
			l.mu.Unlock()
			c.Close()
			l.warn.Do(func() {
				l.log.Warn("broker refused sockets: too many not logged in", "address", key,
					"perAddress", maxPreLoginPerAddress, "total", maxPreLogin, "refusedSoFar", refused)
			})
			continue
		}
		if st == nil {
			st = &addressState{turn: make(chan struct{}, 1)}
			l.perAddr[key] = st
		}
		st.sockets++
		pc := &preLoginConn{Conn: c, l: l, key: key, addr: st, closed: make(chan struct{})}
		l.open[pc] = struct{}{}
		l.live[pc] = struct{}{}
		l.mu.Unlock()
		if err := c.SetDeadline(time.Now().Add(l.timeout)); err != nil {
			pc.Close()
			continue
		}
		return pc, nil
	}
}

// Close also closes every socket it accepted. mochi's Close waits for every
// connection it is reading (listeners.go CloseAll) but disconnects only the
// clients attached when it looked (server.go closeListenerClients, which runs
// before the listener closes): a socket not logged in yet, or a kiosk whose
// login completed just after, would keep it waiting for ever, and central
// with it (seen: SIGTERM ignored; a test restarting central hung 10 minutes).
func (l *preLoginListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		err = l.Listener.Close()
		l.mu.Lock()
		l.closed = true
		live := make([]*preLoginConn, 0, len(l.live))
		for c := range l.live {
			live = append(live, c)
		}
		l.mu.Unlock()
		for _, c := range live {
			c.Close()
		}
	})
	return err
}

func (l *preLoginListener) release(c *preLoginConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.open, c)
	if c.addr.sockets--; c.addr.sockets <= 0 {
		delete(l.perAddr, c.key)
	}
}

// waitingForTurns counts the sockets waiting for their address's turn.
func (l *preLoginListener) waitingForTurns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, st := range l.perAddr {
		n += st.waiting
	}
	return n
}

// addressKey is what the per-address limit counts by: an IPv4 address, or
// the /64 of an IPv6 one, since one host commonly holds a whole /64.
func addressKey(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		return ip4.String()
	}
	return fmt.Sprintf("%s/64", ta.IP.Mask(net.CIDRMask(64, 128)))
}

// preLoginConn is one socket of the preLoginListener; it holds its place
// until it logs in or closes.
type preLoginConn struct {
	net.Conn
	l      *preLoginListener
	key    string
	addr   *addressState
	closed chan struct{} // closed by free

	mu      sync.Mutex
	freed   bool
	hasTurn bool
	once    sync.Once
}

// takeTurn waits until no other socket of its address is having its
// password checked; false if the socket logged in or closed meanwhile.
func (c *preLoginConn) takeTurn() bool {
	c.l.mu.Lock()
	c.addr.waiting++
	c.l.mu.Unlock()
	defer func() {
		c.l.mu.Lock()
		c.addr.waiting--
		c.l.mu.Unlock()
	}()
	select {
	case c.addr.turn <- struct{}{}:
	case <-c.closed:
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.freed {
		<-c.addr.turn
		return false
	}
	c.hasTurn = true
	return true
}

// free gives the socket's place and turn back, once: at login or at close.
func (c *preLoginConn) free() {
	c.once.Do(func() {
		close(c.closed)
		c.mu.Lock()
		c.freed = true
		if c.hasTurn {
			<-c.addr.turn
			c.hasTurn = false
		}
		c.mu.Unlock()
		c.l.release(c)
	})
}

func (c *preLoginConn) Close() error {
	c.free()
	c.l.mu.Lock()
	delete(c.l.live, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// preLoginHook holds a socket's address's turn from its CONNECT to its
// login. It provides no OnConnectAuthenticate: mochi lets a client in if
// any hook says yes (hooks.go OnConnectAuthenticate).
type preLoginHook struct{ mqtt.HookBase }

func (h *preLoginHook) ID() string { return "allimi-prelogin" }

func (h *preLoginHook) Provides(b byte) bool {
	return b == mqtt.OnConnect || b == mqtt.OnSessionEstablish
}

// OnConnect runs once the CONNECT is read, before the password is checked
// (server.go attachClient); an error ends the connection.
func (h *preLoginHook) OnConnect(cl *mqtt.Client, _ packets.Packet) error {
	if pc := preLogin(cl); pc != nil && !pc.takeTurn() {
		return packets.ErrServerUnavailable
	}
	return nil
}

// OnSessionEstablish runs once the CONNECT is accepted, before the CONNACK.
// A refused client's turn ends when mochi closes its socket.
func (h *preLoginHook) OnSessionEstablish(cl *mqtt.Client, _ packets.Packet) {
	if pc := preLogin(cl); pc != nil {
		pc.free()
	}
}

// preLogin is the preLoginConn beneath a client's connection, nil for
// central's own socket.
func preLogin(cl *mqtt.Client) *preLoginConn {
	c := cl.Net.Conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	pc, _ := c.(*preLoginConn)
	return pc
}
