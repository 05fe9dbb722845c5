package central

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"allimi"
	"allimi/central/api"
	"allimi/central/channel"
	"allimi/central/detail"
	"allimi/central/ingest"
	"allimi/central/jsuplink"
	"allimi/central/keyring"
	"allimi/central/kioskca"
	"allimi/central/notify"
	"allimi/central/programs"
	"allimi/central/questions"
	"allimi/central/requests"
	"allimi/central/template"
	"allimi/central/throttle"
	"allimi/internal/periodic"
	"allimi/subsidy"
	"allimi/sync/catalog"
	"allimi/sync/transport"
)

// Config is central's configuration; every field has a flag of the same name.
type Config struct {
	Data string // data directory: central.db and keys.json (with Store: keys.json)
	// Store, when set, is a PostgreSQL database (postgres://…) central
	// keeps its state in instead of Data's bbolt file; several centrals
	// may share it.
	Store string
	MQTT  string // embedded broker's listen address
	// PublicBroker is the broker URL enrolled kiosks are given; default
	// the external broker, else tcp:// and MQTT.
	PublicBroker string
	// Broker, when set, is an external broker's URL (tcp://host:port,
	// ssl://host:port) used instead of the embedded one.
	Broker string
	// Uplink, when set, is the NATS servers kiosks reach central through
	// (nats://h1:4222,h2:4222): records come from a JetStream stream every
	// central on the uplink shares (central/jsuplink), requests through a
	// queue group; acks and catalogs go out retained through the servers'
	// MQTT listeners, UplinkMQTT (tcp://…, comma-separated) or, with
	// Store, those nats-config recorded there.
	Uplink, UplinkMQTT string
	BrokerUsername     string
	BrokerPassword     string
	HTTP               string // HTTP API listen address
	// TLS for the embedded broker's listener (cert+key), and the CA that
	// signs kiosk client certificates (or, with an external ssl:// broker,
	// the CA to trust).
	TLSCert, TLSKey, TLSCA string
	// TLSServerCA is the CA kiosks are given at enrolment to trust the
	// broker's certificate (default: the last certificate of TLSCert).
	TLSServerCA string
	// TLSRequireClientCert makes the embedded broker refuse kiosks without
	// a client certificate signed by central's kiosk CA (kioskca.go) or
	// TLSCA.
	TLSRequireClientCert bool
	ConflictWindow       time.Duration
	BatchMax             int
	// Providers configures the messenger and SMS adapters; ProviderURL,
	// when set, points every adapter at one base URL (the fake providers).
	Providers   channel.Config
	ProviderURL string
	// Programs is a directory of more programs of notifications, one
	// TOML file each, besides those central ships (central/programs).
	Programs string
	Dispatch notify.Config
	// QuestionAudio is how long recordings of people's questions are kept.
	QuestionAudio allimi.RetentionPolicy
	// HTTPTimeouts bound slow and idle clients of the HTTP API (httplimits.go).
	HTTPTimeouts api.HTTPTimeouts
	// TrustedProxies are the reverse proxies in front of the HTTP API whose
	// X-Forwarded-For names the client (proxies.go).
	TrustedProxies []netip.Prefix
	// Limits: guessing, and verification SMS per kiosk (limits.go).
	Limits throttle.LimitsConfig
	Logger *slog.Logger
}

// DefaultConfig works on a fresh machine. Its detail pages' link base is
// empty: the HTTP address, whichever it is (Start).
func DefaultConfig() Config {
	cfg := Config{Data: "./central-data", MQTT: "127.0.0.1:1883", HTTP: "127.0.0.1:8080",
		ConflictWindow: time.Hour, BatchMax: 1000, Providers: channel.DefaultConfig(), Dispatch: notify.DefaultConfig(),
		QuestionAudio: allimi.DefaultRetentionPolicy(), HTTPTimeouts: api.DefaultHTTPTimeouts(), Limits: throttle.DefaultLimitsConfig()}
	cfg.Dispatch.LinkBase = ""
	return cfg
}

// Server is a running central.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *opened
	keys    *keyring.Keys
	metrics *metrics
	broker  *embeddedBroker
	uplink  *jsuplink.Uplink // nil without Uplink
	// newDispatcher makes a dispatcher like dispatch on another view of
	// the store: a send slot's, fenced by its lease (sendSlot).
	newDispatcher func(st notify.Store, expands bool) *notify.Dispatcher
	// slots are the dispatchers of the send slots held (sendSlot).
	slots    slotDispatchers
	ingest   *ingest.Service
	dispatch *notify.Dispatcher
	programs *programs.Service
	progs    *programs.Set
	// tmpl are the templates in use; typeVersions the version of each
	// type put that they hold (types.go), changed under typesMu.
	tmpl         atomic.Pointer[template.Set]
	typesMu      sync.Mutex
	typeVersions map[allimi.NotificationType]uint64
	confirm      *notify.Confirmer   // nil without an SMS gateway
	answers      *questions.Answerer // nil without an SMS gateway
	api          *api.Server
	http         *http.Server
	httpLn       net.Listener
	cancel       context.CancelFunc
	done         chan struct{}

	closeOnce sync.Once
	closeErr  error
	kbMu      sync.Mutex // one knowledge-base edit at a time

	// CA signs enrolled kiosks' client certificates and serverCA is
	// what they trust the broker by; nil unless the embedded broker runs TLS.
	kioskCA  *kioskca.CA
	serverCA []byte
}

// Start opens the data, starts the broker (unless external), the ingest and
// the HTTP API, and returns once all listen.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.Dispatch.Validate(); err != nil {
		return nil, err
	}
	if cfg.QuestionAudio.KeepAnswered < 0 || cfg.QuestionAudio.MaxAge < 0 {
		return nil, fmt.Errorf("question-audio-keep and question-audio-max-age: must not be negative: %w", allimi.ErrInvalid)
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, done: make(chan struct{})}
	defer func() {
		if err != nil {
			s.closeParts()
		}
	}()
	if cfg.Dispatch.LinkBase == "" {
		cfg.Dispatch.LinkBase = "http://" + cfg.HTTP
	}
	if s.store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	s.keys = s.store.keys
	s.metrics = newMetrics(s.store)
	s.ingest = ingest.New(s.store, s.metrics.reg, s.log, cfg.BatchMax)
	if cfg.ProviderURL != "" {
		cfg.Providers.SetBaseURL(cfg.ProviderURL)
	}
	adapters, err := channel.New(cfg.Providers, nil)
	if err != nil {
		return nil, fmt.Errorf("providers: %w", err)
	}
	if s.store.tokens != nil {
		channel.ShareRates(adapters, s.store.tokens)
	}
	channel.SetLogger(adapters, s.log.With("component", "providers"))
	s.metrics.watchProviders(adapters)
	tmpl, err := template.Default()
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	s.typeVersions = map[allimi.NotificationType]uint64{}
	if tmpl, _, err = s.loadTypes(tmpl); err != nil {
		return nil, err
	}
	progs, err := programs.WithDir(cfg.Programs)
	if err != nil {
		return nil, fmt.Errorf("programs: %w", err)
	}
	if tmpl, err = progs.Templates(tmpl); err != nil {
		return nil, fmt.Errorf("programs' templates: %w", err)
	}
	s.progs = progs
	s.tmpl.Store(tmpl)
	if cfg.Dispatch.Now == nil {
		cfg.Dispatch.Now = time.Now
	}
	if s.store.lead != nil && cfg.Dispatch.Rescan == 0 {
		cfg.Dispatch.Rescan = sharedRescan
	}
	apiCfg := cfg.Dispatch
	if s.store.share != nil {
		apiCfg.Forward = s.slots.watch // what the API stores, to the send slots here at once
	}
	s.dispatch = notify.New(s.store, adapters, tmpl, apiCfg, s.metrics.dispatch, s.log)
	s.programs = programs.New(programs.Service{Programs: progs, Store: s.store, Notify: s.dispatch, CitizenKey: s.keys.CitizenKey,
		Now: cfg.Dispatch.Now, Log: s.log.With("component", "programs"), Counted: s.metrics.programStep})
	slotCfg := cfg.Dispatch
	slotCfg.Shared = notify.NewShared(cfg.Dispatch.Senders) // the send slots' dispatchers: --senders in all, one breaker per provider
	s.newDispatcher = func(st notify.Store, expands bool) *notify.Dispatcher {
		cfg := slotCfg
		cfg.LeaveExpansions = !expands
		return notify.New(st, adapters, s.tmpl.Load(), cfg, s.metrics.dispatch, s.log)
	}
	sys, err := template.DefaultSystem()
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if sms := adapters[allimi.ChannelSMS]; sms != nil {
		s.confirm = &notify.Confirmer{Store: s.store, SMS: sms, Msgs: sys, Log: s.log.With("component", "confirm"), Queue: s.store.queue()}
		s.ingest.Requests = requests.New(s.store, requestLimits(s.store), sms, sys, s.log)
		s.answers = &questions.Answerer{Store: s.store, Adapters: adapters, Msgs: sys, Log: s.log.With("component", "answers"), Queue: s.store.queue()}
		s.ingest.OnCommit = func(o allimi.CommitOutcome) {
			if o.Confirmations > 0 {
				s.confirm.Queue.Poke()
			}
		}
	}

	conn := transport.Conn{ClientID: centralClientID}
	if cfg.Uplink != "" {
		if conn, err = s.openUplink(ctx, cfg); err != nil {
			return nil, err
		}
		if cfg.UplinkMQTT == "" {
			cfg.UplinkMQTT = conn.Broker // what enrolled kiosks are told
			s.cfg.UplinkMQTT = conn.Broker
		}
	} else if cfg.Broker == "" {
		if cfg.TLSCert != "" {
			if s.kioskCA, err = kioskca.Load(cfg.Data); err != nil {
				return nil, err
			}
			if s.serverCA, err = serverCA(cfg); err != nil {
				return nil, err
			}
		}
		if s.broker, err = startBroker(cfg, s.store, s.keys, s.kioskCA, s.log); err != nil {
			return nil, err
		}
		conn.Broker, conn.Username, conn.Password = "unix://"+s.broker.socket, centralUsername, s.keys.BrokerPassword
		if err := s.broker.handOver(s.ingest); err != nil {
			return nil, fmt.Errorf("embedded broker: %w", err)
		}
	} else {
		conn.Broker, conn.Username, conn.Password = cfg.Broker, cfg.BrokerUsername, cfg.BrokerPassword
		if cfg.Store != "" {
			// Several centrals on one database may share the broker: each
			// keeps a session of its own (named for its host and HTTP
			// address, so a restarted one finds its session again), and
			// the broker gives each record and request to one of them.
			conn.ClientID = sharedClientID(cfg.HTTP)
			s.ingest.ShareGroup = centralClientID
		}
		if cfg.TLSCA != "" {
			pool, err := loadPool(cfg.TLSCA)
			if err != nil {
				return nil, err
			}
			conn.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
	}

	if s.httpLn, err = net.Listen("tcp", cfg.HTTP); err != nil {
		return nil, fmt.Errorf("HTTP listener on %s: %w", cfg.HTTP, err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.ingest.OnConnect = func() {
		if err := s.publishCatalogs(); err != nil {
			s.log.Error("catalogs not published", "err", err)
		}
	}
	s.ingest.Connect(runCtx, conn)
	if s.uplink != nil {
		go s.uplink.Consume(runCtx, s.ingest.Take)
		if s.ingest.Requests != nil {
			if err := s.uplink.ServeRequests(runCtx, s.ingest.Answer); err != nil {
				cancel()
				return nil, err
			}
		}
	}
	s.api = &api.Server{Log: s.log, Store: s.store, Details: s.store.details, Backup: s.store.backup,
		Limits: api.Limits{Receipt: s.store.limits.Receipt, Enrol: s.store.limits.Enrol, Official: s.store.limits.Official,
			Now: s.store.limits.Now}, Keys: s.keys, Config: api.Config{HTTPTimeouts: cfg.HTTPTimeouts,
			TrustedProxies: cfg.TrustedProxies, LinkBase: cfg.Dispatch.LinkBase, Broker: publicBroker(cfg),
			DeleteAnsweredAudio: cfg.QuestionAudio.KeepAnswered <= 0},
		Metrics: promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}), Health: s.health,
		Catalogs: s, ServerCA: s.serverCA, Notify: s.dispatch, Programs: s.programs, Types: s,
		Accepted: func(t allimi.NotificationType) { s.metrics.notifications.WithLabelValues(string(t)).Inc() }}
	if s.answers != nil {
		s.api.Answers = s.answers
	}
	if s.kioskCA != nil {
		s.api.Certs = s.kioskCA.Issue
	}
	s.http = s.api.NewHTTPServer(s.api.Routes())
	go func() {
		if err := s.http.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("HTTP server stopped", "err", err)
		}
	}()
	go func() {
		defer close(s.done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.store.lead != nil {
				// Of the centrals on one database, all send, each its
				// share of the send slots; one at a time runs the rest.
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.store.share(runCtx, s.sendSlot)
				}()
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.refreshTypesEvery(runCtx, typesEvery) // those another central put
				}()
				s.store.lead(runCtx, "jobs", s.runJobs)
				return
			}
			s.runJobs(runCtx, s.store.Store)
		}()
		s.ingest.Run(runCtx)
		wg.Wait()
	}()
	s.log.Info("central serving", "http", s.httpLn.Addr().String(), "mqtt", cfg.MQTT, "broker", conn.Broker)
	return s, nil
}

// runJobs sends notifications, sign-up confirmations and officials'
// answers, and purges old recordings and detail pages, until ctx ends,
// writing to st: the store, or on a shared database the leader's fenced
// view of it, whose writes are refused once another central has taken
// the lease over; there the send slots' dispatchers send the
// notifications (sendSlot), not the leader.
func (s *Server) runJobs(ctx context.Context, st Store) {
	dispatch, confirm, answers := s.dispatch, s.confirm, s.answers
	if st != s.store.Store {
		dispatch = nil // the send slots' dispatchers send (sendSlot)
		if confirm != nil {
			c := *confirm // the same queue: the ingest's pokes reach it
			c.Store, confirm = st, &c
		}
		if answers != nil {
			a := *answers
			a.Store, answers = st, &a
		}
	}
	var wg sync.WaitGroup
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	if dispatch != nil {
		run(func() {
			if err := dispatch.Run(ctx); err != nil {
				s.log.Error("dispatcher stopped", "err", err)
			}
		})
	}
	if confirm != nil {
		run(func() { confirm.Run(ctx) })
	}
	progs := *s.programs // the same wake-ups, st's writes
	progs.Store = st
	run(func() { progs.Run(ctx) })
	if answers != nil {
		run(func() { answers.Run(ctx) })
	}
	if sr, ok := s.store.Store.(strandedReceipts); ok && st != s.store.Store {
		run(func() { s.settleStrandedEvery(ctx, sr, strandedEvery) })
	}
	run(func() { questions.PurgeAudio(ctx, s.store, s.cfg.QuestionAudio, s.log) })
	if d := s.store.details; d != nil {
		run(func() { purgeDetails(ctx, d, s.log) })
	}
	wg.Wait()
}

// strandedReceipts lists the receipts kept as early whose delivery a send
// slot accepted without seeing them (pg.Store.StrandedReceipts).
type strandedReceipts interface {
	StrandedReceipts(limit int) ([]allimi.ProviderReceipt, error)
}

// strandedEvery is how often the leader looks for stranded receipts.
const strandedEvery = 5 * time.Second

// settleStrandedEvery applies, every period until ctx ends, the receipts
// the send slots stranded (notify.Dispatcher.SettleStranded).
func (s *Server) settleStrandedEvery(ctx context.Context, sr strandedReceipts, period time.Duration) {
	periodic.Every(ctx, period, func() {
		for ctx.Err() == nil {
			rs, err := sr.StrandedReceipts(1000)
			if err == nil && len(rs) > 0 {
				var n int
				n, err = s.dispatch.SettleStranded(rs)
				s.log.Info("receipts settled after their acceptance", "receipts", n)
			}
			if err != nil {
				s.log.Warn("settling stranded receipts failed", "err", err)
			}
			if err != nil || len(rs) < 1000 {
				break
			}
		}
	})
}

// sendSlot sends, until ctx ends, a send slot's share of the
// notifications (st: the slot's view of a shared database) with a
// dispatcher of its own, which starts as a restarted central's does
// (requests in doubt are reconciled with the providers).
//
// Slot 0's dispatcher also expands the campaigns it finds half expanded
// (their central died expanding them); the others leave them: one
// expansion in the cluster besides the one of the central that took the
// campaign, rather than one per slot, each waiting for the campaign's row
// with a connection.
func (s *Server) sendSlot(ctx context.Context, slot int, st notify.Store) {
	d := s.newDispatcher(st, slot == 0)
	s.slots.add(d)
	defer s.slots.remove(d)
	if err := d.Run(ctx); err != nil {
		s.log.Error("dispatcher stopped", "err", err)
	}
}

// slotDispatchers are the dispatchers of the send slots this central
// holds now.
type slotDispatchers struct {
	mu sync.Mutex
	ds map[*notify.Dispatcher]struct{}
}

func (sd *slotDispatchers) add(d *notify.Dispatcher) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	if sd.ds == nil {
		sd.ds = map[*notify.Dispatcher]struct{}{}
	}
	sd.ds[d] = struct{}{}
}

func (sd *slotDispatchers) remove(d *notify.Dispatcher) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	delete(sd.ds, d)
}

// each calls f with each of them.
func (sd *slotDispatchers) each(f func(*notify.Dispatcher)) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	for d := range sd.ds {
		f(d)
	}
}

// watch has each of them send n (notify.Dispatcher.Watch).
func (sd *slotDispatchers) watch(n allimi.Notification) {
	sd.mu.Lock()
	defer sd.mu.Unlock()
	for d := range sd.ds {
		d.Watch(n)
	}
}

// health is /healthz: the ingest's, and with a NATS uplink whether the
// JetStream consumer's connection is up (records wait in the stream
// meanwhile).
func (s *Server) health() (int, map[string]any) {
	code, h := s.ingest.Health()
	if s.uplink != nil {
		up := s.uplink.IsConnected()
		h["uplink"] = up
		if !up && code == http.StatusOK {
			code, h["status"] = http.StatusServiceUnavailable, "uplink unreachable"
		}
	}
	return code, h
}

// HTTPAddr is the address the HTTP API listens on.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// Close stops everything, in the order that loses nothing: HTTP, ingest,
// broker, then the store. Later calls return the first one's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Server) close() error {
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_ = s.http.Shutdown(ctx)
		cancel()
	}
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	return s.closeParts()
}

func (s *Server) closeParts() error {
	if s.uplink != nil {
		s.uplink.Close()
	}
	if s.ingest != nil {
		s.ingest.Disconnect()
	}
	if s.broker != nil {
		_ = s.broker.Close()
	}
	if s.store != nil {
		return s.store.Close()
	}
	return nil
}

// PublishCatalog stores and signs a new catalog version and publishes it.
// A new Subsidy 24 catalog must decode (kiosks would refuse it otherwise),
// and the services it adds or changes are matched against the conditions
// of the people who asked to be told (NotifyNewBenefits), in the background.
func (s *Server) PublishCatalog(name string, version uint64, body []byte) (catalog.Manifest, error) {
	var prev, next *subsidy.Catalog
	if name == subsidy.CatalogName {
		var err error
		if next, err = subsidy.Decode(body); err != nil {
			return catalog.Manifest{}, fmt.Errorf("catalog %s: %w: %w", name, err, allimi.ErrInvalid)
		}
		s.kbMu.Lock() // one catalog change at a time: prev must be the one replaced
		defer s.kbMu.Unlock()
		if prev, _, err = s.store.SubsidyCatalog(); err != nil && !errors.Is(err, subsidy.ErrNoCatalog) {
			return catalog.Manifest{}, err
		}
	}
	m, err := s.store.PutCatalog(name, version, body)
	if err != nil {
		return m, err
	}
	if prev != nil {
		// The first catalog is the baseline people were shown at the kiosk:
		// only what later catalogs change is news.
		go s.notifyBenefits(prev, next, m.Version)
	}
	if !s.ingest.IsConnected() {
		return m, nil // published at the next connection
	}
	return m, s.publishCatalogs()
}

func (s *Server) notifyBenefits(prev, next *subsidy.Catalog, version uint64) {
	out, err := s.store.NotifyNewBenefits(prev, next, version, time.Now())
	if err != nil {
		s.log.Error("new-benefits matching failed", "catalog", version, "err", err)
		return
	}
	s.log.Info("new-benefits matched", "catalog", version, "changed", out.Changed, "profiles", out.Profiles,
		"told", out.Recipients, "notification", out.Notification)
	if out.Notification != 0 {
		if n, err := s.store.GetNotification(out.Notification); err == nil {
			s.dispatch.Watch(n)
		}
	}
}

// publishCatalogs publishes every stored catalog, retained: the body first,
// then the manifest that points at it.
func (s *Server) publishCatalogs() error {
	cats, err := s.store.Catalogs()
	if err != nil {
		return err
	}
	for _, c := range cats {
		mb, err := json.Marshal(c.Manifest)
		if err != nil {
			return err
		}
		if err := s.publishRetained(catalog.BodyTopic(c.Manifest.Name), c.Body); err != nil {
			return err
		}
		if err := s.publishRetained(catalog.Topic(c.Manifest.Name), mb); err != nil {
			return err
		}
	}
	return nil
}

// HW is the high-water mark central holds for a kiosk.
func (s *Server) HW(kiosk string) (uint64, error) { return s.store.HW(kiosk) }

// detailGrace keeps expired detail pages a week, so a late visitor reads
// "this notice has expired" rather than "not found".
const detailGrace = 7 * 24 * time.Hour

// purgeDetails deletes long-expired detail pages every hour until ctx ends.
func purgeDetails(ctx context.Context, d *detail.Store, log *slog.Logger) {
	purge := func() {
		if n, err := d.Purge(time.Now().Add(-detailGrace)); err != nil {
			log.Error("purging detail pages", "err", err)
		} else if n > 0 {
			log.Info("purged expired detail pages", "count", n)
		}
	}
	purge()
	periodic.Every(ctx, time.Hour, purge)
}

// requestLimits are the store's limiters of what kiosks ask for.
func requestLimits(st *opened) requests.Limits {
	l := st.limits
	return requests.Limits{Check: l.SMSCheck, Hour: l.SMSHour, Day: l.SMSDay, PerHour: l.SMSPerHour, PerDay: l.SMSPerDay}
}
