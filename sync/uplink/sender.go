package uplink

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"allimi/sync/catalog"
	"allimi/sync/outbox"
	"allimi/sync/transport"
	"allimi/sync/wire"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Config tunes a kiosk's sender.
type Config struct {
	Conn transport.Conn
	// Window bounds the records sent but not yet acknowledged by central
	// (default 1,000). Central commits what has arrived in one transaction,
	// so the window bounds its batches: 250 kept them ~125 records and a
	// 5,000-record drain made ~70 commits, 1,000 makes ~25. It must stay
	// within what a broker queues for a slow subscriber, or the broker
	// drops messages and the kiosk has to wait out ResendAfter: Mosquitto's
	// max_queued_messages (default 1,000, beyond the 20 in flight) holds
	// one kiosk's window, and central's README sets it to 0 (no limit) for
	// many kiosks; the embedded broker holds 8,192 in flight.
	Window int
	// ResendAfter is how long to wait for central's ack to move before
	// sending the unacknowledged records again. Each resend that does not
	// move it doubles the wait, up to MaxResendAfter: a central that
	// cannot store (a full disk) is not flooded with the same window
	// again and again, and it picks up where it stopped once it can,
	// since its ack makes the sender carry on at once.
	ResendAfter    time.Duration
	MaxResendAfter time.Duration
	// Catalogs, when set, receives the signed catalogs central publishes.
	Catalogs *catalog.Store
	Logger   *slog.Logger
}

// Sender publishes a kiosk's outbox to central and deletes what central
// acknowledges. One Sender per outbox.
type Sender struct {
	cfg    Config
	outbox *outbox.Outbox
	log    *slog.Logger

	mu        sync.Mutex
	connected bool
	lastAck   uint64
	lastAckAt time.Time
	acked     int    // records deleted by acks since the sender started
	epoch     uint64 // bumped at every (re)connection: resend from the last ack
	kick      chan struct{}
	client    mqtt.Client
	replies   map[string]chan wire.Reply // requests waiting for central's answer

	acks *ackQueue // central's acks waiting to be applied (acks.go)
}

// NewSender prepares a sender; Run starts it.
func NewSender(cfg Config, o *outbox.Outbox) *Sender {
	if cfg.Window <= 0 {
		cfg.Window = 1000
	}
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = 5 * time.Second
	}
	if cfg.MaxResendAfter < cfg.ResendAfter {
		cfg.MaxResendAfter = max(cfg.ResendAfter, time.Minute)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Conn.ClientID == "" {
		cfg.Conn.ClientID = "allimi-kiosk-" + o.Kiosk()
	}
	return &Sender{cfg: cfg, outbox: o, log: cfg.Logger.With("kiosk", o.Kiosk()), kick: make(chan struct{}, 1), acks: newAckQueue()}
}

// Status is the sender's view of sync health.
type Status struct {
	Connected bool      `json:"connected"`
	LastAck   uint64    `json:"lastAck"`
	LastAckAt time.Time `json:"lastAckAt"`
	Acked     int       `json:"acked"`
}

// Status reports the connection and the last acknowledgement.
func (s *Sender) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Status{Connected: s.connected, LastAck: s.lastAck, LastAckAt: s.lastAckAt, Acked: s.acked}
}

func (s *Sender) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Run connects and keeps the outbox flowing until ctx ends. It returns only
// when ctx is done (nil) or on a fatal error such as refused credentials.
func (s *Sender) Run(ctx context.Context) error {
	st, err := s.outbox.State()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.lastAck = st.LastAck
	s.mu.Unlock()

	ackTopic := wire.AckTopic(s.outbox.Kiosk())
	authFailed := make(chan error, 1)
	opts := s.cfg.Conn.ClientOptions().
		SetOnConnectHandler(func(c mqtt.Client) {
			// [MQTT-3.1.2-4] a persistent session keeps our subscriptions,
			// but a broker that restarted without persistence forgot them:
			// subscribe again at every connection.
			subs := map[string]byte{ackTopic: 1, wire.ReplyTopic(s.outbox.Kiosk()): 1}
			if s.cfg.Catalogs != nil {
				subs[catalog.Filter] = 1
			}
			t := c.SubscribeMultiple(subs, s.onMessage)
			go func() {
				if t.Wait() && t.Error() != nil {
					s.log.Warn("subscribe failed", "err", t.Error())
				}
			}()
			s.mu.Lock()
			s.connected = true
			s.epoch++
			s.mu.Unlock()
			s.log.Info("connected", "broker", s.cfg.Conn.Broker)
			s.poke()
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			s.mu.Lock()
			s.connected = false
			s.mu.Unlock()
			s.log.Warn("connection lost", "err", err)
		})
	opts.SetConnectionNotificationHandler(func(_ mqtt.Client, n mqtt.ConnectionNotification) {
		if f, ok := n.(mqtt.ConnectionNotificationFailed); ok && isAuthError(f.Reason) {
			select {
			case authFailed <- f.Reason:
			default:
			}
		}
	})
	client := mqtt.NewClient(opts)
	s.mu.Lock()
	s.client = client
	s.mu.Unlock()
	client.Connect() // retries in the background (ConnectRetry)
	defer client.Disconnect(250)
	ackCtx, stopAcks := context.WithCancel(ctx)
	acksDone := make(chan struct{})
	go func() {
		defer close(acksDone)
		s.applyAcks(ackCtx)
	}()
	// Runs before the Disconnect above: no ack is applied once Run returns.
	defer func() {
		stopAcks()
		<-acksDone
	}()

	var sentEpoch uint64
	var lastSent uint64 // highest seq published in this epoch
	progress := time.Now()
	resendAfter := s.cfg.ResendAfter
	var lastSeenAck uint64
	for {
		s.mu.Lock()
		connected, epoch, ack := s.connected, s.epoch, s.lastAck
		s.mu.Unlock()
		if ack != lastSeenAck {
			lastSeenAck, progress, resendAfter = ack, time.Now(), s.cfg.ResendAfter
		}
		if epoch != sentEpoch {
			// A new connection: anything not acknowledged may be lost.
			sentEpoch, lastSent = epoch, ack
		}
		if lastSent < ack {
			lastSent = ack
		}
		if connected && lastSent > ack && time.Since(progress) > resendAfter {
			s.log.Info("no ack progress, resending", "from", ack+1, "to", lastSent, "waited", resendAfter)
			lastSent, progress = ack, time.Now()
			resendAfter = min(2*resendAfter, s.cfg.MaxResendAfter)
		}
		changed := s.outbox.Changed()
		if connected && int(lastSent-ack) < s.cfg.Window {
			recs, err := s.outbox.Pending(lastSent, s.cfg.Window-int(lastSent-ack))
			if err != nil {
				return err
			}
			for _, r := range recs {
				client.Publish(wire.UpTopic(s.outbox.Kiosk()), 1, false, r.Data)
				lastSent = r.Seq
			}
			if len(recs) > 0 {
				continue
			}
		}
		timer := time.NewTimer(s.cfg.ResendAfter / 2)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case err := <-authFailed:
			timer.Stop()
			return fmt.Errorf("broker %s refused kiosk %s (%w): check its user name and password (from `allimi central kiosk add`)", s.cfg.Conn.Broker, s.outbox.Kiosk(), err)
		case <-changed:
		case <-s.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// onMessage handles acks and catalogs. The broker gets its PUBACK only after
// what the message carries is committed to bbolt.
func (s *Sender) onMessage(_ mqtt.Client, m mqtt.Message) {
	if m.Topic() == wire.ReplyTopic(s.outbox.Kiosk()) {
		s.onReply(m.Payload())
		m.Ack()
		return
	}
	if name, _, ok := catalog.ParseTopic(m.Topic()); ok {
		if err := s.cfg.Catalogs.Offer(m.Topic(), m.Payload()); err != nil {
			s.log.Warn("catalog refused", "catalog", name, "err", err)
		}
		m.Ack()
		return
	}
	a, err := wire.DecodeAck(m.Payload())
	if err != nil || a.Kiosk != s.outbox.Kiosk() {
		s.log.Warn("bad ack ignored", "topic", m.Topic(), "err", err)
		m.Ack()
		return
	}
	// Applied, with every other ack that has arrived meanwhile, by
	// applyAcks (acks.go), which gives the broker its PUBACK after.
	s.acks.add(m, a.UpTo)
}

// ErrOffline: the kiosk is not connected to central's broker now.
var ErrOffline = errors.New("not connected to central")

// Request asks central and waits for its answer until ctx ends. It fails
// at once with ErrOffline when the kiosk is not connected: callers carry on
// without the answer rather than keep a person waiting.
func (s *Sender) Request(ctx context.Context, r wire.Request) (wire.Reply, error) {
	var idb [9]byte
	_, _ = rand.Read(idb[:])
	r.V, r.ID = 1, base64.RawURLEncoding.EncodeToString(idb[:])
	payload, err := json.Marshal(r)
	if err != nil {
		return wire.Reply{}, err
	}
	ch := make(chan wire.Reply, 1)
	s.mu.Lock()
	client, connected := s.client, s.connected
	if connected {
		if s.replies == nil {
			s.replies = map[string]chan wire.Reply{}
		}
		s.replies[r.ID] = ch
	}
	s.mu.Unlock()
	if client == nil || !connected {
		return wire.Reply{}, ErrOffline
	}
	defer func() {
		s.mu.Lock()
		delete(s.replies, r.ID)
		s.mu.Unlock()
	}()
	t := client.Publish(wire.RequestTopic(s.outbox.Kiosk()), 1, false, payload)
	select {
	case <-t.Done():
		if t.Error() != nil {
			return wire.Reply{}, fmt.Errorf("request %s: %w", r.Op, t.Error())
		}
	case <-ctx.Done():
		return wire.Reply{}, fmt.Errorf("request %s: %w", r.Op, ctx.Err())
	}
	select {
	case rep := <-ch:
		return rep, nil
	case <-ctx.Done():
		return wire.Reply{}, fmt.Errorf("request %s: no answer: %w", r.Op, ctx.Err())
	}
}

func (s *Sender) onReply(b []byte) {
	r, err := wire.DecodeReply(b)
	if err != nil {
		s.log.Warn("bad reply ignored", "err", err)
		return
	}
	s.mu.Lock()
	ch := s.replies[r.ID]
	s.mu.Unlock()
	if ch == nil {
		return // its requester gave up
	}
	select {
	case ch <- r:
	default:
	}
}

// WaitDrained blocks until the outbox is empty or ctx ends.
func (s *Sender) WaitDrained(ctx context.Context) error {
	for {
		changed := s.outbox.Changed()
		st, err := s.outbox.State()
		if err != nil {
			return err
		}
		if st.Pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func isAuthError(err error) bool {
	return errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) || errors.Is(err, packets.ErrorRefusedNotAuthorised)
}
