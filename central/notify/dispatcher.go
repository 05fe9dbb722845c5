package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"allimi"
	"allimi/central/channel"
	"allimi/central/template"
)

// Config tunes the dispatcher.
type Config struct {
	// Horizon: a delivery still failing this long after its first attempt
	// falls back to SMS (messengers) or goes to the dead-letter queue.
	Horizon     time.Duration
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// BreakerFailures consecutive failed requests trip a provider's circuit
	// for BreakerCooldown; meanwhile its traffic falls back to SMS.
	BreakerFailures int
	BreakerCooldown time.Duration
	// LinkBase is the public base URL of the detail pages.
	LinkBase string
	// ScanLimit bounds the recipients one batch selection reads.
	ScanLimit int
	// Senders is how many requests each channel has in flight at once.
	// 8 keeps two cores busy while requests wait on the provider: in the
	// 1M fan-out benchmark it gave a ratio of 0.61-0.62 to 4's 0.56-0.57
	// (same machine, alternating runs); 16 gave no more, before and after
	// the recipient and delivery blocks.
	Senders int
	Now     func() time.Time
}

// DefaultConfig works for the demo and the tests.
func DefaultConfig() Config {
	return Config{Horizon: 4 * time.Hour, BaseBackoff: time.Second, MaxBackoff: 10 * time.Minute,
		BreakerFailures: 5, BreakerCooldown: 30 * time.Second, LinkBase: "http://127.0.0.1:8080", ScanLimit: 20000, Senders: 8,
		Now: time.Now}
}

// Validate checks settings an operator gives.
func (c Config) Validate() error {
	switch {
	case c.Horizon <= 0:
		return fmt.Errorf("retry horizon %s: must be positive: %w", c.Horizon, allimi.ErrInvalid)
	case c.Senders < 1 || c.Senders > 64:
		return fmt.Errorf("senders %d: must be 1 to 64: %w", c.Senders, allimi.ErrInvalid)
	case c.BreakerFailures < 1:
		return fmt.Errorf("breaker failures %d: must be at least 1: %w", c.BreakerFailures, allimi.ErrInvalid)
	case c.BreakerCooldown <= 0:
		return fmt.Errorf("breaker cooldown %s: must be positive: %w", c.BreakerCooldown, allimi.ErrInvalid)
	}
	return nil
}

// Store is what the dispatcher keeps its state in.
type Store interface {
	allimi.Notifications
	allimi.DeliveryQueue
	// ReplayDeadLetters queues dead letters again (allimi.Deliveries).
	ReplayDeadLetters(key string) (int, error)
}

// Dispatcher sends notifications: one lane per channel (New, Run), and
// the service the HTTP API calls (service.go).
type Dispatcher struct {
	store    Store
	adapters map[allimi.Channel]channel.Adapter
	tmpl     *template.Set
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics

	mu       sync.Mutex
	active   map[uint64]*allimi.Notification // expanding or sending
	wake     map[allimi.Channel]chan struct{}
	breakers map[allimi.Channel]*breaker
}

// breaker trips a provider that keeps failing. Senders record outcomes
// concurrently, so it has its own lock.
type breaker struct {
	mu        sync.Mutex
	failures  int
	openUntil time.Time
}

func (b *breaker) isOpen(now time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return now.Before(b.openUntil), b.openUntil
}

// New makes a dispatcher that sends through adapters (one lane each) with
// the messages of tmpl. Its series are m's; cfg.Now may be nil (time.Now).
func New(store Store, adapters map[allimi.Channel]channel.Adapter, tmpl *template.Set, cfg Config, m *Metrics, log *slog.Logger) *Dispatcher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Dispatcher{store: store, adapters: adapters, tmpl: tmpl, cfg: cfg, metrics: m, log: log.With("component", "dispatch"),
		active: map[uint64]*allimi.Notification{}, wake: map[allimi.Channel]chan struct{}{}, breakers: map[allimi.Channel]*breaker{}}
	for _, ch := range allimi.Channels {
		d.wake[ch] = make(chan struct{}, 1)
		d.breakers[ch] = &breaker{}
	}
	return d
}

func (d *Dispatcher) poke(chs ...allimi.Channel) {
	if len(chs) == 0 {
		chs = allimi.Channels
	}
	for _, ch := range chs {
		select {
		case d.wake[ch] <- struct{}{}:
		default:
		}
	}
}

// Run loads the unfinished notifications, finishes their expansions and
// runs one lane per channel until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	ns, err := d.store.ActiveNotifications()
	if err != nil {
		return err
	}
	for i := range ns {
		d.track(ns[i])
	}
	for _, n := range ns {
		if n.Status == allimi.StatusExpanding {
			if _, err := d.expand(n.ID); err != nil {
				d.log.Error("expansion failed", "notification", n.ID, "err", err)
			}
		}
	}
	var wg sync.WaitGroup
	for ch, a := range d.adapters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.loop(ctx, ch, a)
		}()
	}
	wg.Wait()
	return nil
}

func (d *Dispatcher) track(n allimi.Notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n.Status == allimi.StatusExpanding || n.Status == allimi.StatusSending {
		d.active[n.ID] = &n
	} else {
		delete(d.active, n.ID)
	}
}

// expand finishes a campaign's expansion and starts its sending.
func (d *Dispatcher) expand(id uint64) (allimi.Notification, error) {
	n, err := d.store.ExpandCampaign(id, func(n allimi.Notification) {
		d.track(n)
		d.poke()
	})
	if err != nil {
		return n, err
	}
	d.track(n)
	d.poke()
	return n, nil
}

type batch struct {
	items    []allimi.Outgoing
	progress map[uint64]uint32 // fresh recipients read, per notification
}

// add appends it to a batch of at most max items.
func (b *batch) add(it allimi.Outgoing, max int) {
	if b.items == nil {
		b.items = make([]allimi.Outgoing, 0, max) // a batch is most often full
	}
	b.items = append(b.items, it)
}

// loop runs a channel's pipeline until ctx ends. After an error that
// leaves batches unrecorded (a render or disk failure) the pipeline starts
// again from what the database says: batches sent but not recorded are
// looked up at the provider through their send-intents, as after a crash.
func (d *Dispatcher) loop(ctx context.Context, ch allimi.Channel, a channel.Adapter) {
	for ctx.Err() == nil {
		if err := d.runLane(ctx, ch, a); err != nil && ctx.Err() == nil {
			d.log.Error("dispatch pipeline restarts", "channel", ch, "err", err)
			d.sleep(ctx, ch, time.Second)
		}
	}
}

// job is one batch on its way through a channel's pipeline.
type job struct {
	seq     uint64
	group   uint64 // its send-intents' request name (sendintents.go); 0: none written
	b       batch
	msgs    []channel.Message
	results []channel.Result
	sendErr error
	err     error // the batch cannot be recorded: restart the pipeline
}

// lane is what a channel's reader has claimed ahead of its committer: the
// recipients and due entries handed to senders but not yet recorded.
//
// The reader holds mu for the whole of a read, from before its snapshot
// to the end, and the committer takes it to clear the due entries it has
// recorded: so a read never sees, in a snapshot older than the commit, a
// due entry already recorded and no longer marked in flight (which would
// send that delivery again, and count it twice).
type lane struct {
	ch      allimi.Channel
	mu      sync.Mutex
	claimed map[uint64]uint32   // notification → last recipient seq read
	due     map[dueKey]struct{} // due-queue entries in flight
}

// dueKey names a due-queue entry.
type dueKey struct {
	ref allimi.DeliveryRef
	at  int64 // unix ms
}

func dueKeyOf(it *allimi.Outgoing) dueKey { return dueKey{it.Ref, it.Due.UnixMilli()} }

func newLane(ch allimi.Channel) *lane {
	return &lane{ch: ch, claimed: map[uint64]uint32{}, due: map[dueKey]struct{}{}}
}

// claim and from are called with mu held.
func (l *lane) claim(id uint64, seq uint32) {
	l.claimed[id] = max(l.claimed[id], seq)
}

func (l *lane) from(n *allimi.Notification) uint32 {
	return max(l.claimed[n.ID], n.Progress[l.ch])
}

// runLane is one channel's pipeline: a reader picks batches in order,
// Senders workers render and send them concurrently, and this goroutine
// records the outcomes strictly in the order the batches were read — so
// the progress stored is always a prefix of what was sent — grouping
// whatever has arrived into one transaction. The same transaction commits
// the send-intents of the batches about to go out (sendintents.go): a
// batch reaches a sender only once its intents are on disk, and the
// intents cost no commit of their own.
func (d *Dispatcher) runLane(ctx context.Context, ch allimi.Channel, a channel.Adapter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := newLane(ch)
	workers := max(d.cfg.Senders, 1)
	work := make(chan *job, workers)
	// At most workers batches are with the senders (see inflight), so
	// handing one over never blocks.
	intended := make(chan *job, workers)
	done := make(chan *job, 2*workers)

	// Requests whose answers were lost are settled with the provider
	// before the reader starts; what it cannot answer now is asked again
	// in the background, never sent meanwhile.
	stale, err := d.staleIntents(ch)
	if err != nil {
		return err
	}
	left, err := d.reconcile(ctx, a, stale)
	if ctx.Err() != nil {
		return nil
	}
	var wg sync.WaitGroup
	if err != nil {
		d.log.Warn("lost requests not yet reconciled", "channel", ch, "messages", len(left), "err", err)
	}
	if len(left) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.reconcileLater(ctx, a, left)
		}()
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		d.read(ctx, l, a, work)
	}()
	var senders sync.WaitGroup
	for range workers {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for j := range intended {
				d.send(ctx, ch, a, j)
				done <- j
			}
		}()
	}
	go func() { senders.Wait(); close(done) }()
	defer func() {
		cancel()
		close(intended)
		for range done { // let the senders finish
		}
		wg.Wait()
	}()

	pending := map[uint64]*job{}
	var next uint64
	var fresh []*job // read, intents not yet committed
	inflight := 0    // with the senders
	in := (<-chan *job)(work)
	for {
		// Take new batches only while a sender is free for each.
		var wc <-chan *job
		if in != nil && inflight+len(fresh) < workers {
			wc = in
		}
		if wc == nil && inflight == 0 && len(fresh) == 0 {
			return ctx.Err() // the reader stopped and everything is recorded
		}
		select {
		case j := <-done:
			pending[j.seq] = j
			inflight--
		case j, ok := <-wc:
			if !ok {
				in = nil
				continue
			}
			fresh = append(fresh, j)
		}
		// Whatever else has arrived goes into the same transaction: a
		// commit's fixed cost (the freelist, two fsyncs) is then paid per
		// several batches, not per batch.
	drain:
		for {
			wc = nil
			if in != nil && inflight+len(fresh) < workers {
				wc = in
			}
			select {
			case j := <-done:
				pending[j.seq] = j
				inflight--
			case j, ok := <-wc:
				if !ok {
					in = nil
					continue
				}
				fresh = append(fresh, j)
			default:
				break drain
			}
		}
		var ready []*job
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			ready = append(ready, r)
		}
		for _, r := range ready {
			if r.err != nil {
				return r.err
			}
		}
		if ctx.Err() != nil {
			return nil // shutting down: what was sent is reconciled at the next start
		}
		toWrite := len(ready) > 0
		for _, j := range fresh {
			toWrite = toWrite || len(j.b.items) > 0
		}
		for toWrite {
			start := time.Now()
			err := d.commit(ch, ready, fresh, d.cfg.Now())
			if err == nil {
				if len(ready) > 0 {
					d.metrics.commitSeconds.WithLabelValues(string(ch)).Observe(time.Since(start).Seconds())
					d.metrics.commitBatches.WithLabelValues(string(ch)).Observe(float64(len(ready)))
				}
				break
			}
			// Sent but not recorded: keep trying, the disk may come back; a
			// crash here leaves the send-intents to be reconciled.
			d.log.Error("commit after send", "channel", ch, "err", err)
			if !d.sleep(ctx, ch, time.Second) {
				return nil
			}
		}
		for _, j := range fresh {
			intended <- j
		}
		inflight += len(fresh)
		fresh = fresh[:0]
		if len(ready) == 0 {
			continue
		}
		l.mu.Lock()
		for _, r := range ready {
			for i := range r.b.items {
				if it := &r.b.items[i]; !it.Due.IsZero() {
					delete(l.due, dueKeyOf(it))
				}
			}
		}
		l.mu.Unlock()
	}
}

// read hands out batches in order until ctx ends.
func (d *Dispatcher) read(ctx context.Context, l *lane, a channel.Adapter, work chan<- *job) {
	ch := l.ch
	var seq uint64
	for ctx.Err() == nil {
		now := d.cfg.Now()
		if open, until := d.breakers[ch].isOpen(now); open && ch == allimi.ChannelSMS {
			d.sleep(ctx, ch, until.Sub(now))
			continue
		}
		b, next, err := d.nextBatch(l, a.MaxBatch(), now)
		if err != nil {
			d.log.Error("reading the queue", "channel", ch, "err", err)
			d.sleep(ctx, ch, time.Second)
			continue
		}
		if len(b.items) == 0 && len(b.progress) == 0 {
			d.sleep(ctx, ch, next)
			continue
		}
		select {
		case work <- &job{seq: seq, b: b}:
			seq++
		case <-ctx.Done():
			return
		}
	}
}

// send renders and sends one batch; a tripped provider's batch falls back
// without a request.
func (d *Dispatcher) send(ctx context.Context, ch allimi.Channel, a channel.Adapter, j *job) {
	if len(j.b.items) == 0 || j.err != nil {
		return
	}
	if open, _ := d.breakers[ch].isOpen(d.cfg.Now()); open {
		j.sendErr = &channel.UnavailableError{Err: errors.New("circuit open")}
		return
	}
	if j.msgs, j.err = d.render(j.b); j.err != nil {
		return
	}
	for i := range j.msgs {
		j.msgs[i].Group = channel.GroupName(j.group)
	}
	start := time.Now()
	j.results, j.sendErr = a.Send(ctx, j.msgs)
	if ctx.Err() != nil {
		return // nothing is recorded: the committer stops at this batch
	}
	d.metrics.providerSeconds.WithLabelValues(string(ch)).Observe(time.Since(start).Seconds())
	if j.sendErr == nil && len(j.results) != len(j.msgs) {
		j.sendErr = &channel.UnavailableError{Err: fmt.Errorf("%d results for %d messages", len(j.results), len(j.msgs))}
	}
	d.trip(ch, j.sendErr)
	d.lookUpLost(ctx, a, j, start)
}

// lookUpLost asks the provider what it took of a batch whose request
// failed without saying it took nothing (channel.UnavailableError: a
// timeout, a dropped connection, a 5xx), since NHN Cloud and Naver SENS
// take a resend as new messages. What the provider has is recorded as
// accepted, the rest as the failure it was, to be retried. A provider that
// cannot be asked leaves the batch to be retried as before: the one case
// left in which a provider that does not deduplicate may get a message twice.
func (d *Dispatcher) lookUpLost(ctx context.Context, a channel.Adapter, j *job, sent time.Time) {
	var ue *channel.UnavailableError
	finder, ok := a.(channel.Finder)
	if !ok || !errors.As(j.sendErr, &ue) || errors.Is(ue.Err, syscall.ECONNREFUSED) {
		return // nothing to ask, or nothing reached the provider
	}
	res, err := finder.Find(ctx, sent, j.msgs)
	if err == nil && len(res) != len(j.msgs) {
		err = fmt.Errorf("%d answers for %d messages", len(res), len(j.msgs))
	}
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("a request failed and the provider cannot say what it took: it is sent again",
				"channel", a.Channel(), "messages", len(j.msgs), "sendErr", j.sendErr, "err", err)
		}
		return
	}
	for i := range res {
		if res[i].Status != channel.Accepted {
			res[i] = channel.Result{Key: j.msgs[i].Key, Status: channel.NotFound, Code: "unanswered", Reason: j.sendErr.Error()}
		}
	}
	j.results, j.sendErr = res, nil
}

// sleep waits for a poke, the duration or ctx; it reports whether ctx is alive.
func (d *Dispatcher) sleep(ctx context.Context, ch allimi.Channel, dur time.Duration) bool {
	if dur <= 0 || dur > time.Second {
		dur = time.Second
	}
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-d.wake[ch]:
	case <-t.C:
	}
	return true
}

func (d *Dispatcher) trip(ch allimi.Channel, err error) {
	br := d.breakers[ch]
	br.mu.Lock()
	defer br.mu.Unlock()
	var ue *channel.UnavailableError
	switch {
	case err == nil:
		br.failures = 0
	case errors.As(err, &ue):
		br.failures++
		if br.failures >= d.cfg.BreakerFailures {
			br.openUntil = d.cfg.Now().Add(d.cfg.BreakerCooldown)
			br.failures = 0
			d.metrics.breakerTrips.WithLabelValues(string(ch)).Inc()
			d.log.Warn("provider tripped: falling back", "channel", ch, "until", br.openUntil, "err", err)
		}
	}
}

func (d *Dispatcher) tripped(ch allimi.Channel, now time.Time) bool {
	open, _ := d.breakers[ch].isOpen(now)
	return open
}

// nextBatch picks up to max deliveries for ch: due retries and fallbacks
// first, then fresh recipients of the active notifications, urgent first.
// It also returns how long to sleep when there is nothing.
func (d *Dispatcher) nextBatch(l *lane, max int, now time.Time) (batch, time.Duration, error) {
	ch := l.ch
	l.mu.Lock() // before the snapshot: see lane
	defer l.mu.Unlock()
	b := batch{progress: map[uint64]uint32{}}
	next := time.Second
	d.mu.Lock()
	active := make([]*allimi.Notification, 0, len(d.active))
	for _, n := range d.active {
		// A campaign still expanding is sent as far as it has come.
		active = append(active, n)
	}
	d.mu.Unlock()
	sort.Slice(active, func(i, j int) bool {
		if active[i].Urgent != active[j].Urgent {
			return active[i].Urgent
		}
		return active[i].ID < active[j].ID
	})
	notifs := map[uint64]*allimi.Notification{}
	err := d.store.ReadDeliveries(func(tx allimi.DeliveryReader) error {
		load := func(id uint64) (*allimi.Notification, error) {
			if n, ok := notifs[id]; ok {
				return n, nil
			}
			n, err := tx.Notification(id)
			if err != nil {
				return nil, err
			}
			notifs[id] = &n
			return &n, nil
		}
		// Due queue.
		var err error
		if dueErr := tx.Due(ch, func(e allimi.DueEntry) bool {
			if len(b.items) >= max {
				return false
			}
			if e.At.After(now) {
				next = min(next, e.At.Sub(now))
				return false
			}
			k := dueKey{e.Ref, e.At.UnixMilli()}
			if _, inFlight := l.due[k]; inFlight {
				return true
			}
			var n *allimi.Notification
			if n, err = load(e.Ref.Notification); err != nil {
				return false
			}
			if !eligible(n, now) {
				return true
			}
			var it allimi.Outgoing
			if it, err = tx.Outgoing(n, e.Ref); err != nil {
				return false
			}
			it.Due, it.Flags = e.At, e.Flags
			b.add(it, max)
			l.due[k] = struct{}{}
			return true
		}); dueErr != nil {
			return dueErr
		}
		if err != nil {
			return err
		}
		// Fresh recipients.
		scanned := 0
		for _, an := range active {
			if len(b.items) >= max || scanned >= d.cfg.ScanLimit {
				break
			}
			n, err := load(an.ID)
			if err != nil {
				return err
			}
			if !eligible(n, now) {
				next = min(next, quietEnd(now).Sub(now))
				continue
			}
			from := l.from(n)
			if int64(from) >= n.Recipients {
				continue
			}
			if n.NoneFor(ch) {
				b.progress[n.ID] = uint32(n.Recipients)
				l.claim(n.ID, uint32(n.Recipients))
				continue
			}
			last := from
			if err := tx.Recipients(n, ch, from, func(seq uint32, it *allimi.Outgoing) bool {
				scanned++
				last = seq
				if it != nil {
					b.add(*it, max)
				}
				return len(b.items) < max && scanned < d.cfg.ScanLimit
			}); err != nil {
				return err
			}
			if last != from {
				b.progress[n.ID] = last
				l.claim(n.ID, last)
			}
		}
		return nil
	})
	return b, next, err
}

// link returns a recipient's detail page token and link: the secret part
// is keyed, so unguessable, and the same at every resend, so a resent
// message is the same message.
func (d *Dispatcher) link(it *allimi.Outgoing) string {
	link := d.store.DetailLink(it.Ref, it.Token)
	if strings.HasPrefix(link, "/") {
		return d.cfg.LinkBase + link // the store serves no detail pages
	}
	return link
}

// render makes a batch's messages. Their links lead to pages answered
// from the notification's records (Store.ResolveToken) once a provider has
// accepted them.
func (d *Dispatcher) render(b batch) ([]channel.Message, error) {
	msgs := make([]channel.Message, len(b.items))
	// One map for the batch: Render keeps nothing of it. It is filled
	// again only when the notification or the person's own parameters
	// change (a campaign's have none): name and link are always set.
	vars := make(map[string]string, 8)
	var filledFor *allimi.Notification
	for i, it := range b.items {
		if it.N != filledFor || len(it.Params) > 0 {
			clear(vars)
			for k, v := range it.N.Params {
				vars[k] = v
			}
			for k, v := range it.Params {
				vars[k] = v
			}
			filledFor = it.N
			if len(it.Params) > 0 {
				filledFor = nil // the next one starts afresh
			}
		}
		link := d.link(&b.items[i])
		vars["name"], vars["link"] = it.Citizen.Name, link
		r, err := d.tmpl.Render(it.N.Type, it.Ref.Channel, vars)
		if err != nil {
			return nil, fmt.Errorf("notification %d: %w", it.N.ID, err)
		}
		msgs[i] = channel.Message{Key: it.Ref.Key(), Recipient: it.Citizen.Mobile, Template: r.Template, Params: channel.Params(r.Params),
			Title: r.Title, Text: r.Text, Link: link, LMS: r.Kind == template.LMS}
	}
	return msgs, nil
}
