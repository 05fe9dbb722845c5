package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"allimi"
	"allimi/central/requests"
	"allimi/sync/transport"
	"allimi/sync/wire"
)

// Store is where the ingest commits: the registry, with the campaigns'
// subscriber index it keeps up to date in the background (central/bolt
// defers the index to a log of changed people, folded when the kiosks fall
// quiet; a store that keeps it in the commit itself has nothing to fold).
type Store interface {
	allimi.Registry
	// SubsPending counts the changes not yet folded into the index.
	SubsPending() int64
	// FoldSubs folds them.
	FoldSubs() error
}

// Service takes kiosk events off the broker, commits what has arrived in one
// transaction, and only then acknowledges: first to the broker (PUBACK),
// then to each kiosk on its ack topic. Taking a message off the broker
// never waits (see fairQueue), and a commit the store refuses is kept and
// tried again, unacknowledged, while /healthz says why nothing is stored.
type Service struct {
	store    Store
	metrics  *ingestMetrics
	log      *slog.Logger
	batchMax int
	queue    *fairQueue
	now      func() time.Time

	commits   ingestHealth
	inBatch   atomic.Int64 // records of the batch being committed
	shedCount prometheus.Counter
	shedLog   *rate.Sometimes // one log line per burst of shedding
	failCount prometheus.Counter

	// OnConnect runs after every (re)connection, e.g. to republish
	// retained catalogs that a restarted broker has forgotten.
	OnConnect func()
	// Service, when set, answers kiosks' requests; onCommit, when set,
	// hears every commit's outcome.
	Requests *requests.Service
	OnCommit func(allimi.CommitOutcome)

	// UpInline says the kiosks' records come through Offer (the embedded
	// broker hands them over in its process) rather than a subscription
	// of the MQTT client, which then only answers requests and sends acks.
	UpInline bool
	// RequestsElsewhere says the kiosks' requests come some other way
	// (a NATS queue group, so that several centrals answer each once):
	// the MQTT client does not subscribe to them, and Answer answers.
	RequestsElsewhere bool
	// ShareGroup, when set, subscribes as a member of this MQTT shared
	// subscription group ($share/GROUP/…): the broker gives each record
	// and request to one of the centrals sharing an external broker.
	ShareGroup string

	mu        sync.Mutex
	client    paho.Client
	connected bool
}

// Message is one kiosk record as the uplink delivered it. Ack tells the
// uplink it need not be delivered again: once it is committed, or shed
// (the kiosk sends it again, since only central's own ack lets it go).
// A paho.Message is one.
type Message interface {
	Topic() string
	Payload() []byte
	Ack()
}

// Offer takes a kiosk record that came without a broker session to
// acknowledge: the embedded broker's own subscription, which hands over
// each record as the kiosk's connection reads it (no socket, no PUBACK
// from central, no copy per subscriber). It must not wait, like take,
// and may be called for several kiosks at once. payload must not change
// afterwards.
func (in *Service) Offer(topic string, payload []byte) {
	in.take(handedOver{topic: topic, payload: payload})
}

// Take takes a kiosk record from an uplink of central's own (a JetStream
// consumer), to be acknowledged to it through m.Ack once committed or
// shed. Like Offer, it must not wait.
func (in *Service) Take(m Message) { in.take(m) }

// handedOver is a record Offer took: nothing to acknowledge.
type handedOver struct {
	topic   string
	payload []byte
}

func (h handedOver) Topic() string   { return h.topic }
func (h handedOver) Payload() []byte { return h.payload }
func (h handedOver) Ack()            {}

// New makes the ingest of store, its metrics registered with reg; batchMax
// bounds the records one commit holds (1,000 when not positive).
func New(store Store, reg prometheus.Registerer, log *slog.Logger, batchMax int) *Service {
	if batchMax <= 0 {
		batchMax = 1000
	}
	// The batch and the queue share Hold: a --batch-max above half
	// of it is taken as half, so the queue keeps room for every kiosk.
	batchMax = min(batchMax, Hold/2)
	in := &Service{store: store, metrics: newIngestMetrics(), log: log.With("component", "ingest"), batchMax: batchMax,
		queue: newFairQueue(Hold-batchMax, ingestHoldBytes), now: time.Now,
		shedLog: &rate.Sometimes{Interval: 10 * time.Second}}
	in.registerMetrics(reg)
	return in
}

// Connect starts the MQTT client; it keeps reconnecting in the background.
func (in *Service) Connect(ctx context.Context, conn transport.Conn) {
	opts := conn.ClientOptions().
		SetOnConnectHandler(func(c paho.Client) {
			// Subscribe at every connection: a broker restarted without
			// persistence has forgotten our session.
			subs := map[string]byte{}
			filter := func(f string) string {
				if in.ShareGroup != "" {
					return "$share/" + in.ShareGroup + "/" + f
				}
				return f
			}
			if !in.UpInline {
				subs[filter(wire.UpFilter)] = 1
			}
			if in.Requests != nil && !in.RequestsElsewhere {
				subs[filter(wire.RequestFilter)] = 1
			}
			if len(subs) > 0 {
				t := c.SubscribeMultiple(subs, func(c paho.Client, m paho.Message) {
					if _, ok := wire.ParseUpTopic(m.Topic()); !ok && in.Requests != nil {
						// Answered on their own: a slow SMS gateway must not
						// hold up records.
						go in.answer(ctx, c, m)
						return
					}
					in.take(m)
				})
				go func() {
					if t.Wait() && t.Error() != nil {
						in.log.Error("subscribe failed", "err", t.Error())
					}
				}()
			}
			in.setConnected(true)
			in.log.Info("connected to broker", "broker", conn.Broker)
			if in.OnConnect != nil {
				go in.OnConnect()
			}
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			in.setConnected(false)
			in.log.Warn("lost the broker", "err", err)
		})
	in.mu.Lock()
	in.client = paho.NewClient(opts)
	in.mu.Unlock()
	in.client.Connect()
}

// take is the handler of kiosk records. It runs on paho's network loop, or
// on the embedded broker's reading of a kiosk's connection (Offer), and
// must not wait (see fairQueue): what the queue cannot hold is
// acknowledged to the broker unstored, and the kiosk, which keeps it until
// central's ack covers it, sends it again. PUBACKs therefore go out of the
// order the records came in (as do those of round-robin batches), which
// [MQTT-4.6.0-2] asks of a client; the brokers central runs with (mochi,
// Mosquitto) track each QoS 1 flow by its packet id, and keeping the
// order would mean the very wait this avoids.
//
// The record is decoded, checked and prepared for the store
// (Store.prepare: serialised, sealed, keyed) here, as it arrives: that
// work, a few tens of microseconds a record, then runs while the store
// commits the batch before instead of in the one loop every record waits
// on.
func (in *Service) take(m Message) {
	kiosk, _ := wire.ParseUpTopic(m.Topic())
	inc := in.decode(m.Topic(), m.Payload())
	in.store.Prepare(&inc)
	shed := in.queue.offerDecoded(kiosk, m, inc)
	for _, s := range shed {
		s.Ack()
	}
	if len(shed) > 0 {
		in.shedCount.Add(float64(len(shed)))
		in.shedLog.Do(func() {
			in.log.Warn("ingest queue full: records shed, their kiosks send them again",
				"held", in.queue.len(), "kiosk", kiosk)
		})
	}
}

// status is the ingest's state for /healthz.
func (in *Service) status() ingestStatus {
	return in.commits.check(in.now(), in.queue.len()+int(in.inBatch.Load()))
}

// ingestMetrics are the ingest's Prometheus series.
type ingestMetrics struct {
	records     *prometheus.CounterVec
	batchSize   prometheus.Histogram
	commitTime  prometheus.Histogram
	acksSent    prometheus.Counter
	brokerState prometheus.Gauge
}

func newIngestMetrics() *ingestMetrics {
	return &ingestMetrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "allimi_ingest_records_total", Help: "Kiosk records received, by result (stored, duplicate, rejected).",
		}, []string{"result"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "allimi_ingest_batch_records", Help: "Records committed per bbolt transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 7),
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "allimi_ingest_commit_seconds", Help: "Time to commit one ingest batch durably.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		acksSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "allimi_ingest_acks_sent_total", Help: "Application acks published to kiosks.",
		}),
		brokerState: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "allimi_broker_connected", Help: "1 while central's ingest client is connected to the broker.",
		}),
	}
}

func (in *Service) registerMetrics(reg prometheus.Registerer) {
	m := in.metrics
	reg.MustRegister(m.records, m.batchSize, m.commitTime, m.acksSent, m.brokerState)
	in.shedCount = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "allimi_ingest_shed_total",
		Help: "Kiosk records acknowledged to the broker unstored because the ingest queue was full (their kiosks send them again).",
	})
	in.failCount = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "allimi_ingest_commit_failures_total", Help: "Ingest commits the store refused (disk full, I/O error); retried.",
	})
	waiting := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "allimi_ingest_waiting_records", Help: "Kiosk records taken off the broker and not yet stored.",
	}, func() float64 { return float64(in.queue.len() + int(in.inBatch.Load())) })
	reg.MustRegister(in.shedCount, in.failCount, waiting)
}

func (in *Service) setConnected(v bool) {
	in.mu.Lock()
	in.connected = v
	in.mu.Unlock()
	if v {
		in.metrics.brokerState.Set(1)
	} else {
		in.metrics.brokerState.Set(0)
	}
}

func (in *Service) IsConnected() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.connected
}

func (in *Service) Disconnect() {
	in.mu.Lock()
	c := in.client
	in.mu.Unlock()
	if c != nil {
		c.Disconnect(250)
	}
}

// The subs index is folded (bolt.Store.FoldSubs) by the commit loop, in
// its own transactions: once no record has arrived for subsFoldIdle, and
// during a long run of commits subsFoldEvery after the oldest change it
// has not folded or once subsFoldMax changes wait. Readers of the index
// fold first, so these only bound how much a campaign may have to fold
// before it starts (~80 µs a person on this 2-core machine, loaded) and
// how much a restart leaves to fold. A fold costs less per person the more
// it folds, and one in the middle of a drain held its commits up (4,233
// people, 330 ms, when a loaded machine made a 5,000-record drain last
// over the 2 s this was).
const (
	subsFoldIdle  = 50 * time.Millisecond
	subsFoldEvery = 10 * time.Second
	subsFoldMax   = 50000
)

// Run commits batches until ctx ends.
func (in *Service) Run(ctx context.Context) {
	var fold subsFolding
	for {
		// What has already arrived, up to batchMax: one transaction, one fsync.
		items := in.queue.take(in.batchMax)
		if len(items) == 0 {
			in.commits.idle(in.now())
			// Nothing waiting: a moment without records folds the index.
			var idle <-chan time.Time
			var t *time.Timer
			if in.store.SubsPending() > 0 {
				t = time.NewTimer(max(subsFoldIdle, fold.retry.Sub(in.now())))
				idle = t.C
			}
			select {
			case <-ctx.Done():
				return
			case <-in.queue.ready:
			case <-idle:
				in.foldSubs(&fold)
			}
			if t != nil {
				t.Stop()
			}
			in.commits.idle(in.now())
			continue
		}
		batch := make([]Message, len(items))
		decoded := make([]allimi.Incoming, len(items))
		for i, it := range items {
			batch[i], decoded[i] = it.msg, it.in
			if it.in.Event == nil && it.in.Reject == nil {
				decoded[i] = in.decode(it.msg.Topic(), it.msg.Payload())
			}
		}
		in.inBatch.Store(int64(len(batch)))
		for !in.commit(batch, decoded) {
			// The store refused (disk full, I/O error). Nothing is acked:
			// keep the batch and try again, backing off.
			t := time.NewTimer(in.commits.retryAfter())
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		n, now := in.store.SubsPending(), in.now()
		switch {
		case n == 0:
			fold.since = time.Time{}
		case fold.since.IsZero():
			fold.since = now // the oldest change not folded is about this old
		}
		if n >= subsFoldMax || n > 0 && now.Sub(fold.since) >= subsFoldEvery {
			in.foldSubs(&fold)
		}
	}
}

// subsFolding is the commit loop's record of its folds.
type subsFolding struct {
	since    time.Time // the first commit that left changes to fold, zero if none
	retry    time.Time // after a failure: not before then
	failures int
}

// foldSubs folds the subs index unless a failed fold asks to wait.
func (in *Service) foldSubs(f *subsFolding) {
	now := in.now()
	if now.Before(f.retry) {
		return
	}
	if err := in.store.FoldSubs(); err != nil {
		f.failures++
		wait := min(commitRetryMin<<min(f.failures, 10), commitRetryMax)
		f.retry = now.Add(wait)
		in.log.Error("folding the subscriber index failed; campaigns fold it themselves meanwhile", "retryIn", wait, "err", err)
		return
	}
	f.failures, f.retry, f.since = 0, time.Time{}, time.Time{}
}

// commit stores items, batch's records decoded, and acknowledges them.
func (in *Service) commit(batch []Message, items []allimi.Incoming) bool {
	start := time.Now()
	out, err := in.store.Commit(items)
	if err != nil {
		in.commits.failed(in.now(), err)
		in.failCount.Inc()
		in.log.Error("commit failed; will retry", "records", len(items), "retryIn", in.commits.retryAfter(), "err", err)
		return false
	}
	in.commits.committed(in.now())
	in.inBatch.Store(0) // stored: no longer waiting, before anyone hears so
	in.metrics.commitTime.Observe(time.Since(start).Seconds())
	in.metrics.batchSize.Observe(float64(len(items)))
	in.metrics.records.WithLabelValues("stored").Add(float64(out.Stored))
	in.metrics.records.WithLabelValues("duplicate").Add(float64(out.Duplicates))
	in.metrics.records.WithLabelValues("rejected").Add(float64(out.Rejected))
	for _, m := range batch {
		m.Ack()
	}
	if in.OnCommit != nil {
		in.OnCommit(out)
	}
	for kiosk, hw := range out.HW {
		b, _ := json.Marshal(wire.Ack{V: 1, Kiosk: kiosk, UpTo: hw})
		// Retained, so that a kiosk hears where it stands as soon as it connects.
		in.client.Publish(wire.AckTopic(kiosk), 1, true, b)
		in.metrics.acksSent.Inc()
	}
	return true
}

// requestTimeout bounds the answer to one request; the kiosk gives up
// sooner and carries on.
const requestTimeout = 20 * time.Second

// answer replies to one kiosk request that came over MQTT.
func (in *Service) answer(ctx context.Context, c paho.Client, m paho.Message) {
	defer m.Ack()
	kiosk, ok := wire.ParseRequestTopic(m.Topic())
	if !ok {
		in.log.Warn("message on an unknown topic ignored", "topic", m.Topic())
		return
	}
	if b, ok := in.Answer(ctx, kiosk, m.Payload()); ok {
		c.Publish(wire.ReplyTopic(kiosk), 1, false, b)
	}
}

// Answer is the reply to kiosk's request payload, to publish on its reply
// topic; ok is false for a malformed request that names no id, which is
// only logged.
func (in *Service) Answer(ctx context.Context, kiosk string, payload []byte) (reply []byte, ok bool) {
	req, err := wire.DecodeRequest(payload)
	var rep wire.Reply
	if err != nil {
		in.log.Warn("request refused", "kiosk", kiosk, "err", err)
		if req.ID == "" {
			return nil, false
		}
		rep = wire.Reply{V: 1, ID: req.ID, Code: "invalid", Error: err.Error()}
	} else {
		ctx, cancel := context.WithTimeout(ctx, requestTimeout)
		rep = in.Requests.Answer(ctx, kiosk, req)
		cancel()
	}
	b, _ := json.Marshal(rep)
	return b, true
}

// decode turns one up message into an Incoming: the event, or why it was refused.
func (in *Service) decode(topic string, payload []byte) allimi.Incoming {
	kiosk, ok := wire.ParseUpTopic(topic)
	if !ok {
		return in.reject(topic, "", fmt.Errorf("topic %q is not a kiosk up topic", topic))
	}
	e, err := wire.DecodeEvent(payload)
	if err != nil {
		return in.reject(topic, kiosk, err)
	}
	if e.Kiosk != kiosk {
		return in.reject(topic, kiosk, fmt.Errorf("payload says kiosk %q but arrived on the topic of %q", e.Kiosk, kiosk))
	}
	p, err := e.ValidatePayload(in.now())
	var ce *allimi.CitizenError
	if errors.As(err, &ce) {
		// Neither the log nor the rejection list may hold personal data.
		err = fmt.Errorf("record %d: %s: %w", e.Seq, ce.Redacted(), allimi.ErrInvalid)
	}
	if err != nil {
		return in.reject(topic, kiosk, fmt.Errorf("record %d: %w", e.Seq, err))
	}
	return allimi.Incoming{Kiosk: kiosk, Event: &e, Consents: &p}
}

func (in *Service) reject(topic, kiosk string, err error) allimi.Incoming {
	level := slog.LevelWarn
	if errors.Is(err, allimi.ErrUnsupportedVersion) {
		level = slog.LevelError // a kiosk newer than central: upgrade central
	}
	in.log.Log(context.Background(), level, "record refused", "topic", topic, "err", err)
	return allimi.Incoming{Kiosk: kiosk, Reject: err}
}

// PublishRetained queues a retained QoS 1 message; paho sends it once connected.
func (in *Service) PublishRetained(topic string, payload []byte) {
	in.mu.Lock()
	c := in.client
	in.mu.Unlock()
	c.Publish(topic, 1, true, payload)
}
