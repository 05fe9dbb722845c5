// Package jsuplink gives central's ingest the kiosks' records and requests
// from a NATS cluster with JetStream, for central running as several
// worker processes. Kiosks keep publishing over MQTT to NATS's MQTT
// listener; NATS has no MQTT shared subscriptions, so the records are
// captured by one JetStream stream (work-queue retention: a record leaves it
// once acknowledged) and every worker pulls from the one durable consumer
// they share, each record going to one worker at a time. Requests reach the
// workers through a NATS queue group, so each is answered once, and the
// reply goes out as a plain NATS publish that NATS delivers to the kiosk's
// MQTT subscription.
//
// What the real servers showed (the tests here):
//
//   - NATS's PUBACK to a kiosk's QoS 1 publish says the message is stored
//     for MQTT's own use, not that the stream captured it: a record
//     published while the stream has no leader (a server killed, an
//     election under way) is acknowledged and lost to the stream. The
//     kiosk resends what central has not acknowledged on its ack topic, so
//     it arrives later, as with any broker that drops a message.
//   - A record a worker took and did not acknowledge goes to another
//     worker (or the same) after AckWait; a worker that dies loses nothing.
//     Redelivery is harmless: the store deduplicates by kiosk and sequence.
//   - An ack sent while the consumer has no leader is lost: that record too
//     comes again after AckWait.
package jsuplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"allimi/central/ingest"
	"allimi/central/natsconf"
	"allimi/sync/wire"
)

// Defaults of Config.
const (
	// DefaultStream is the stream the kiosks' records are kept in until a
	// worker has committed them.
	DefaultStream = "ALLIMI_UP"
	// DefaultConsumer is the durable consumer every worker pulls from.
	DefaultConsumer = "allimi-central"
	// DefaultQueueGroup is the queue group of the workers' request
	// subscriptions.
	DefaultQueueGroup = "allimi-central"
	// DefaultAckWait is how long a record taken by a worker and not
	// acknowledged stays with it before JetStream hands it out again. A
	// healthy ingest commits a full queue (ingest.Hold records) in
	// seconds; a minute is well beyond that, and it is what a kiosk waits
	// at most (uplink.Config.MaxResendAfter) before it sends again what
	// central has not acknowledged, so a worker killed delays its records
	// no more than the kiosk's own resend would.
	DefaultAckWait = time.Minute
	// DefaultMaxInFlight bounds the records one worker holds, taken and
	// not acknowledged: what the ingest holds (ingest.Hold), so that
	// the ingest never has to shed what JetStream gave it.
	DefaultMaxInFlight = ingest.Hold
	// DefaultMaxAckPending bounds the records all workers together hold
	// (the consumer's MaxAckPending): room for eight workers each holding
	// a full ingest; more workers share it.
	DefaultMaxAckPending = 8 * ingest.Hold
	// DefaultFetchBatch is the most records one pull asks for.
	DefaultFetchBatch = 256
	// DefaultFetchWait is how long one pull waits for records.
	DefaultFetchWait = 5 * time.Second
	// DefaultMaxAge is how long the stream keeps a record no worker took:
	// its kiosk still has it and sends it again until central acknowledges
	// it, so what is older than a day is only a duplicate.
	DefaultMaxAge = 24 * time.Hour
	// DefaultSetupTimeout bounds Open's creation of the stream and the
	// consumer while the cluster elects its leaders.
	DefaultSetupTimeout = time.Minute
)

// The subjects of the uplink: MQTT topic a/b/c is NATS subject a.b.c.
var (
	upSubject      = natsconf.Subject(wire.UpFilter)      // allimi.v1.kiosk.*.up
	requestSubject = natsconf.Subject(wire.RequestFilter) // allimi.v1.kiosk.*.req
)

// Config is how a worker reaches the servers. URLs, User and Password are
// required; the rest have defaults.
type Config struct {
	// URLs are the servers' NATS client URLs, nats://host:port (or
	// tls://), as ParseURLs reads them from --uplink.
	URLs []string
	// User and Password are central's login (natsconf.CentralUsername,
	// keyring.Keys.BrokerPassword).
	User, Password string
	// Name names the connection in the servers' monitoring.
	Name   string
	Logger *slog.Logger

	// Stream and Consumer name the stream and the durable consumer,
	// QueueGroup the request subscriptions' group: the same for every
	// worker.
	Stream, Consumer, QueueGroup string
	// Replicas is how many servers keep the stream: 0 for 3 when the
	// servers are a cluster of 3 or more, else 1 (and never fewer than an
	// existing stream has).
	Replicas int
	// AckWait, MaxAckPending, MaxInFlight, FetchBatch, FetchWait and
	// MaxAge: see their defaults.
	AckWait       time.Duration
	MaxAckPending int
	MaxInFlight   int
	FetchBatch    int
	FetchWait     time.Duration
	MaxAge        time.Duration
	SetupTimeout  time.Duration
}

// positive sets *v to d unless it is above zero.
func positive[T int | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (c *Config) setDefaults() {
	set := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	set(&c.Name, "allimi-central")
	set(&c.Stream, DefaultStream)
	set(&c.Consumer, DefaultConsumer)
	set(&c.QueueGroup, DefaultQueueGroup)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	positive(&c.AckWait, DefaultAckWait)
	positive(&c.MaxAckPending, DefaultMaxAckPending)
	positive(&c.MaxInFlight, DefaultMaxInFlight)
	positive(&c.FetchBatch, DefaultFetchBatch)
	positive(&c.FetchWait, DefaultFetchWait)
	positive(&c.MaxAge, DefaultMaxAge)
	positive(&c.SetupTimeout, DefaultSetupTimeout)
}

// ParseURLs reads --uplink: the servers' URLs separated by commas,
// nats://h1:4222,nats://h2:4222.
func ParseURLs(s string) ([]string, error) {
	var urls []string
	for _, u := range strings.Split(s, ",") {
		u = strings.TrimSpace(u)
		if err := checkURL(u); err != nil {
			return nil, err
		}
		urls = append(urls, u)
	}
	return urls, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err == nil && (u.Scheme != "nats" && u.Scheme != "tls" || u.Host == "" || u.User != nil ||
		strings.Trim(u.Path, "/") != "" || u.RawQuery != "") {
		err = errors.New("not a server address")
	}
	if err == nil {
		_, _, err = net.SplitHostPort(u.Host)
	}
	if err != nil {
		return fmt.Errorf("uplink URL %q: want nats://host:port (or tls://host:port): %v", s, err)
	}
	return nil
}

// Uplink is one worker's connection to the servers.
type Uplink struct {
	cfg      Config
	log      *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream
	setupMu  sync.Mutex
	replicas int // the stream's, as Open settled it (setupMu)
	closed   atomic.Bool
	done     chan struct{} // closed by Close
}

// Open connects to the servers (reconnecting forever once connected) and
// creates the stream and the consumer, or updates them to cfg: workers
// starting at once agree on them. It fails at once when a URL is
// malformed, the servers refuse the login or JetStream is not enabled, and
// after cfg.SetupTimeout when the servers cannot create the stream.
func Open(ctx context.Context, cfg Config) (*Uplink, error) {
	cfg.setDefaults()
	if len(cfg.URLs) == 0 {
		return nil, errors.New("uplink: no server URL")
	}
	for _, u := range cfg.URLs {
		if err := checkURL(u); err != nil {
			return nil, err
		}
	}
	if cfg.User == "" {
		return nil, errors.New("uplink: no user name")
	}
	log := cfg.Logger.With("component", "jsuplink")
	nc, err := nats.Connect(strings.Join(cfg.URLs, ","),
		nats.Name(cfg.Name),
		nats.UserInfo(cfg.User, cfg.Password),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("lost the NATS server", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("reconnected to NATS", "server", c.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub != nil {
				log.Warn("NATS subscription error", "subject", sub.Subject, "err", err)
				return
			}
			log.Warn("NATS error", "err", err)
		}))
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
			return nil, fmt.Errorf("uplink %s: the servers refused user %q (wrong password, or a user their configuration lacks): %w",
				strings.Join(cfg.URLs, ","), cfg.User, err)
		}
		return nil, fmt.Errorf("uplink %s: %w", strings.Join(cfg.URLs, ","), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("uplink: %w", err)
	}
	u := &Uplink{cfg: cfg, log: log, nc: nc, js: js, done: make(chan struct{})}
	if err := u.setup(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	log.Info("uplink ready", "server", nc.ConnectedUrlRedacted(), "stream", cfg.Stream, "consumer", cfg.Consumer,
		"replicas", u.Replicas(), "ack_wait", cfg.AckWait)
	return u, nil
}

// setupAttempt bounds one attempt of setup's.
const setupAttempt = 5 * time.Second

// setup creates or updates the stream and the consumer, trying again
// while the servers cannot (no JetStream leader yet) until SetupTimeout.
func (u *Uplink) setup(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, u.cfg.SetupTimeout)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		// Each attempt has a time of its own: a call whose answer is lost
		// (the cluster electing its leaders as it starts) must not use
		// up the whole time (seen in CI: one call waited the full minute
		// although the stream had its leader a second later).
		actx, acancel := context.WithTimeout(ctx, setupAttempt)
		err := u.ensure(actx)
		acancel()
		if err == nil {
			return nil
		}
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return fmt.Errorf("uplink %s: JetStream is not enabled on the servers (a jetstream block in their configuration, as `allimi central nats-config` writes): %w",
				u.nc.ConnectedUrlRedacted(), err)
		}
		if !transient(err) {
			return fmt.Errorf("uplink: %w", err)
		}
		u.log.Info("stream or consumer not ready, trying again", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("uplink: stream %s and consumer %s not ready within %s: %w", u.cfg.Stream, u.cfg.Consumer, u.cfg.SetupTimeout, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// transient says whether a JetStream API error may go away by itself: no
// leader yet, a timeout, or another worker creating the same stream or
// consumer at the same moment.
func transient(err error) bool {
	var api *jetstream.APIError
	if !errors.As(err, &api) {
		return true // timeouts, no responders during an election, a reconnection
	}
	switch api.ErrorCode {
	case jetstream.JSErrCodeStreamNameInUse, jetstream.JSErrCodeConsumerNameExists,
		jetstream.JSErrCodeConsumerExists, jetstream.JSErrCodeConsumerAlreadyExists:
		return true
	}
	return api.Code >= 500
}

// ensure creates or updates the stream and the consumer.
func (u *Uplink) ensure(ctx context.Context) error {
	u.setupMu.Lock()
	defer u.setupMu.Unlock()
	if _, err := u.js.AccountInfo(ctx); err != nil {
		return err
	}
	replicas := u.cfg.Replicas
	if replicas <= 0 {
		replicas = max(u.replicas, u.clusterReplicas())
		if s, err := u.js.Stream(ctx, u.cfg.Stream); err == nil {
			replicas = max(replicas, s.CachedInfo().Config.Replicas)
		} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return err
		}
	}
	_, err := u.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        u.cfg.Stream,
		Description: "Allimi: kiosk records until a central worker has stored them",
		Subjects:    []string{upSubject},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      u.cfg.MaxAge,
		Replicas:    replicas,
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", u.cfg.Stream, err)
	}
	u.replicas = replicas
	_, err = u.js.CreateOrUpdateConsumer(ctx, u.cfg.Stream, jetstream.ConsumerConfig{
		Durable:       u.cfg.Consumer,
		Description:   "Allimi: the central workers, each pulling records to store",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       u.cfg.AckWait,
		MaxAckPending: u.cfg.MaxAckPending,
		MaxDeliver:    -1,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return fmt.Errorf("consumer %s of stream %s: %w", u.cfg.Consumer, u.cfg.Stream, err)
	}
	return nil
}

// clusterReplicas is 3 when the server is in a cluster of 3 or more (the
// servers it knows, given and gossiped), else 1.
func (u *Uplink) clusterReplicas() int {
	if u.nc.ConnectedClusterName() == "" || len(u.nc.Servers()) < 3 {
		return 1
	}
	return 3
}

// Replicas is how many servers keep the stream, as Open settled it.
func (u *Uplink) Replicas() int {
	u.setupMu.Lock()
	defer u.setupMu.Unlock()
	return u.replicas
}

// IsConnected says whether the worker is connected to a server now; it
// reconnects by itself.
func (u *Uplink) IsConnected() bool { return u.nc.IsConnected() }

// Close ends the connection after sending what is buffered (acks among
// it); Consume returns. Records taken and not acknowledged go to another
// worker after AckWait.
func (u *Uplink) Close() {
	if u.closed.Swap(true) {
		return
	}
	close(u.done)
	_ = u.nc.FlushTimeout(2 * time.Second)
	u.nc.Close()
}

// topic is the MQTT topic of a NATS subject.
func topic(subject string) string { return strings.ReplaceAll(subject, ".", "/") }
