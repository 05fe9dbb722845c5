package central

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/central/template"
)

// DispatchConfig tunes the dispatcher.
type DispatchConfig struct {
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

// DefaultDispatchConfig works for the demo and the tests.
func DefaultDispatchConfig() DispatchConfig {
	return DispatchConfig{Horizon: 4 * time.Hour, BaseBackoff: time.Second, MaxBackoff: 10 * time.Minute,
		BreakerFailures: 5, BreakerCooldown: 30 * time.Second, LinkBase: "http://127.0.0.1:8080", ScanLimit: 20000, Senders: 8,
		Now: time.Now}
}

// Validate checks settings an operator gives.
func (c DispatchConfig) Validate() error {
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

// QuietHours reports whether t falls between 21:00 and 08:00 KST, when
// non-urgent notices are held.
func QuietHours(t time.Time) bool {
	h := t.In(allimi.KST).Hour()
	return h >= 21 || h < 8
}

// quietEnd is the next 08:00 KST after t.
func quietEnd(t time.Time) time.Time {
	k := t.In(allimi.KST)
	end := time.Date(k.Year(), k.Month(), k.Day(), 8, 0, 0, 0, allimi.KST)
	if !end.After(k) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

type dispatcher struct {
	store    *bolt.Store
	adapters map[allimi.Channel]channel.Adapter
	tmpl     *template.Set
	cfg      DispatchConfig
	log      *slog.Logger
	metrics  *metrics

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

func newDispatcher(store *bolt.Store, adapters map[allimi.Channel]channel.Adapter, tmpl *template.Set, cfg DispatchConfig, m *metrics, log *slog.Logger) *dispatcher {
	d := &dispatcher{store: store, adapters: adapters, tmpl: tmpl, cfg: cfg, metrics: m, log: log.With("component", "dispatch"),
		active: map[uint64]*allimi.Notification{}, wake: map[allimi.Channel]chan struct{}{}, breakers: map[allimi.Channel]*breaker{}}
	for _, ch := range allimi.Channels {
		d.wake[ch] = make(chan struct{}, 1)
		d.breakers[ch] = &breaker{}
	}
	return d
}

func (d *dispatcher) poke(chs ...allimi.Channel) {
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

// run loads the unfinished notifications, finishes their expansions and
// runs one sender per channel until ctx ends.
func (d *dispatcher) run(ctx context.Context) error {
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

func (d *dispatcher) track(n allimi.Notification) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n.Status == allimi.StatusExpanding || n.Status == allimi.StatusSending {
		d.active[n.ID] = &n
	} else {
		delete(d.active, n.ID)
	}
}

// expand finishes a campaign's expansion and starts its sending.
func (d *dispatcher) expand(id uint64) (allimi.Notification, error) {
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
	items    []bolt.Item
	progress map[uint64]uint32 // fresh recipients read, per notification
}

// add appends it to a batch of at most max items.
func (b *batch) add(it bolt.Item, max int) {
	if b.items == nil {
		b.items = make([]bolt.Item, 0, max) // a batch is most often full
	}
	b.items = append(b.items, it)
}

// loop runs a channel's pipeline until ctx ends. After an error that
// leaves batches unrecorded (a render or disk failure) the pipeline starts
// again from what the database says: batches sent but not recorded are
// looked up at the provider through their send-intents, as after a crash.
func (d *dispatcher) loop(ctx context.Context, ch allimi.Channel, a channel.Adapter) {
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
	due     map[string]struct{} // due-queue keys in flight
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
func (d *dispatcher) runLane(ctx context.Context, ch allimi.Channel, a channel.Adapter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := &lane{ch: ch, claimed: map[uint64]uint32{}, due: map[string]struct{}{}}
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
					d.metrics.dispatchCommit.WithLabelValues(string(ch)).Observe(time.Since(start).Seconds())
					d.metrics.dispatchBatches.WithLabelValues(string(ch)).Observe(float64(len(ready)))
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
			for _, it := range r.b.items {
				if it.DueKey != nil {
					delete(l.due, string(it.DueKey))
				}
			}
		}
		l.mu.Unlock()
	}
}

// read hands out batches in order until ctx ends.
func (d *dispatcher) read(ctx context.Context, l *lane, a channel.Adapter, work chan<- *job) {
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
func (d *dispatcher) send(ctx context.Context, ch allimi.Channel, a channel.Adapter, j *job) {
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
		j.msgs[i].Group = bolt.GroupName(j.group)
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
func (d *dispatcher) lookUpLost(ctx context.Context, a channel.Adapter, j *job, sent time.Time) {
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
func (d *dispatcher) sleep(ctx context.Context, ch allimi.Channel, dur time.Duration) bool {
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

func (d *dispatcher) trip(ch allimi.Channel, err error) {
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

func (d *dispatcher) tripped(ch allimi.Channel, now time.Time) bool {
	open, _ := d.breakers[ch].isOpen(now)
	return open
}

// eligible says whether a notification may be sent now.
func eligible(n *allimi.Notification, now time.Time) bool {
	return n.Urgent || !QuietHours(now)
}

// nextBatch picks up to max deliveries for ch: due retries and fallbacks
// first, then fresh recipients of the active notifications, urgent first.
// It also returns how long to sleep when there is nothing.
func (d *dispatcher) nextBatch(l *lane, max int, now time.Time) (batch, time.Duration, error) {
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
	err := d.store.Db.View(func(tx *bbolt.Tx) error {
		load := func(id uint64) (*allimi.Notification, error) {
			if n, ok := notifs[id]; ok {
				return n, nil
			}
			var n allimi.Notification
			if err := bolt.GetNotification(tx, id, &n); err != nil {
				return nil, err
			}
			notifs[id] = &n
			return &n, nil
		}
		// Due queue.
		c := tx.Bucket(bolt.BucketDue).Cursor()
		prefix := []byte{bolt.ChannelIndex(ch)}
		for k, v := c.Seek(prefix); k != nil && k[0] == prefix[0] && len(b.items) < max; k, v = c.Next() {
			ref, due := parseDueKey(k)
			if due.After(now) {
				next = min(next, due.Sub(now))
				break
			}
			if _, inFlight := l.due[string(k)]; inFlight {
				continue
			}
			n, err := load(ref.Notification)
			if err != nil {
				return err
			}
			if !eligible(n, now) {
				continue
			}
			it, err := d.store.LoadItem(tx, n, ref)
			if err != nil {
				return err
			}
			it.DueKey, it.Flags = append([]byte(nil), k...), v[0]
			b.add(it, max)
			l.due[string(k)] = struct{}{}
		}
		// Fresh recipients.
		rb, cs := tx.Bucket(bolt.BucketRecipients), bolt.NewContacts(tx)
		bit := allimi.ChannelBit(ch)
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
			rc := rb.Cursor()
			last := from
			prefix := bolt.U64(n.ID)
		blocks:
			for k, v := rc.Seek(bolt.RecipientBlockKey(n.ID, from+1)); k != nil && bytes.HasPrefix(k, prefix); k, v = rc.Next() {
				blk, err := bolt.OpenRecipientBlock(k, v)
				if err == nil {
					err = blk.SkipTo(from + 1)
				}
				if err != nil {
					return fmt.Errorf("notification %d: %w", n.ID, err)
				}
				for len(b.items) < max && scanned < d.cfg.ScanLimit {
					r, ok, err := blk.Next()
					if err != nil {
						return fmt.Errorf("notification %d: %w", n.ID, err)
					}
					if !ok {
						continue blocks
					}
					scanned++
					last = r.Seq
					if r.Mask&bit == 0 {
						continue
					}
					it, err := d.store.ItemFrom(tx, cs, n, r, ch)
					if err != nil {
						return err
					}
					b.add(it, max)
				}
				break
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
func (d *dispatcher) link(it *bolt.Item) string {
	secret := d.store.Links.Secret(it.N.ID, it.Ref.Seq)
	if d.store.Details == nil {
		return d.cfg.LinkBase + "/n/" + base64.RawURLEncoding.EncodeToString(secret[:])
	}
	_, link := d.store.Details.TokenFor(it.Token, secret)
	return link
}

// render makes a batch's messages. Their links lead to pages answered
// from the notification's records (Store.ResolveToken) once a provider has
// accepted them.
func (d *dispatcher) render(b batch) ([]channel.Message, error) {
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

// commit records what requests did, in one transaction: each delivery's
// state, retries and fallbacks in the due queue, dead letters, progress and
// the statistics; and it commits the send-intents of the batches about to
// be sent (fresh).
func (d *dispatcher) commit(ch allimi.Channel, jobs, fresh []*job, now time.Time) error {
	var stats statDelta
	var fellBack, retried bool
	err := d.store.Db.Update(func(tx *bbolt.Tx) error {
		stats, fellBack, retried = statDelta{}, false, false
		if err := putIntents(tx, fresh, now); err != nil {
			return err
		}
		progress := map[uint64]uint32{}
		dv := bolt.NewDeliveryWriter(tx, d.log)
		for _, j := range jobs {
			fb, rt, err := d.record(tx, dv, ch, j, now, stats)
			if err != nil {
				return err
			}
			fellBack, retried = fellBack || fb, retried || rt
			for id, seq := range j.b.progress {
				progress[id] = max(progress[id], seq)
			}
		}
		for id, seq := range progress {
			var n allimi.Notification
			if err := bolt.GetNotification(tx, id, &n); err != nil {
				return err
			}
			if n.Progress == nil {
				n.Progress = map[allimi.Channel]uint32{}
			}
			if seq > n.Progress[ch] {
				n.Progress[ch] = seq
			}
			if n.Status == allimi.StatusSending && bolt.AllSent(&n) {
				n.Status = allimi.StatusDone
			}
			if err := bolt.PutNotification(tx, &n); err != nil {
				return err
			}
			d.track(n)
		}
		if err := dv.Flush(); err != nil {
			return err
		}
		return stats.write(tx)
	})
	if err != nil {
		return err
	}
	for k, v := range stats {
		d.metrics.deliveries.WithLabelValues(string(k.ch), k.metric).Add(float64(v))
	}
	if fellBack {
		d.poke(allimi.ChannelSMS)
	}
	if retried {
		d.poke(ch)
	}
	return nil
}

// record stores one batch's outcome: each delivery's state, retries and
// fallbacks in the due queue, dead letters and detail pages. It reports
// whether anything fell back to SMS or was queued again.
func (d *dispatcher) record(tx *bbolt.Tx, dv *bolt.DeliveryWriter, ch allimi.Channel, j *job, now time.Time, stats statDelta) (fellBack, retried bool, err error) {
	b, results, sendErr := j.b, j.results, j.sendErr
	due, intents := tx.Bucket(bolt.BucketDue), tx.Bucket(bolt.BucketSendIntents)
	er := tx.Bucket(bolt.BucketEarlyReceipts)
	// Receipts that overtake their acceptance are rare: most batches need
	// not look for one per delivery.
	first, _ := er.Cursor().First()
	noEarly := first == nil
	for i, it := range b.items {
		rec := it.Prev
		rec.Flags = it.Flags | rec.Flags
		if rec.First == 0 {
			rec.First = now.UnixMilli()
		}
		rec.Updated = now.UnixMilli()
		var rl *channel.RateLimitedError
		var res channel.Result
		switch {
		case now.After(it.N.ExpiresAt):
			rec.State, rec.Reason = bolt.StateExpired, "notification expired"
			stats.add(it.N.Type, ch, MetricExpired, 1)
		case errors.As(sendErr, &rl):
			rec.State, rec.Reason = bolt.StateRetrying, "provider rate limit"
			if err := due.Put(bolt.DueKey(it.Ref, now.Add(max(rl.RetryAfter, time.Second))), []byte{rec.Flags}); err != nil {
				return false, false, err
			}
			retried = true
		case sendErr != nil:
			rec.Attempts++
			rec.Reason = truncate(sendErr.Error(), 200)
			fb, err := d.retryOrGiveUp(tx, it, &rec, now, stats)
			if err != nil {
				return false, false, err
			}
			fellBack, retried = fellBack || fb, retried || !fb
		default:
			res = results[i]
			rec.Attempts++
			switch res.Status {
			case channel.Accepted:
				rec.State, rec.Reason = bolt.StateAccepted, ""
				stats.add(it.N.Type, ch, MetricSent, 1)
			case channel.Rejected:
				rec.Reason = truncate(res.Code+" "+res.Reason, 200)
				fb, err := d.failed(tx, it, &rec, now, stats)
				if err != nil {
					return false, false, err
				}
				fellBack = fellBack || fb
			default:
				rec.Reason = truncate(res.Code+" "+res.Reason, 200)
				fb, err := d.retryOrGiveUp(tx, it, &rec, now, stats)
				if err != nil {
					return false, false, err
				}
				fellBack, retried = fellBack || fb, retried || !fb
			}
		}
		if it.DueKey != nil {
			if err := due.Delete(it.DueKey); err != nil {
				return false, false, err
			}
		}
		// The answer is recorded: the request is no longer in doubt.
		if err := intents.Delete(sendIntentKey(it.Ref)); err != nil {
			return false, false, err
		}
		if err := dv.Put(it.Ref, rec); err != nil {
			return false, false, err
		}
		if rec.State == bolt.StateAccepted && !noEarly {
			if v := er.Get(bolt.RefKey(it.Ref)); v != nil {
				var r Receipt
				if json.Unmarshal(v, &r) == nil {
					fb, err := d.settle(tx, dv, it.N, it.Ref, &rec, r, now, stats)
					if err != nil {
						return false, false, err
					}
					fellBack = fellBack || fb
				}
				if err := er.Delete(bolt.RefKey(it.Ref)); err != nil {
					return false, false, err
				}
			}
		}
	}
	return fellBack, retried, nil
}

// failed handles a permanent refusal: a messenger falls back to SMS/LMS
// (unless the person gets an SMS anyway), anything else is dead-lettered.
func (d *dispatcher) failed(tx *bbolt.Tx, it bolt.Item, rec *bolt.Delivery, now time.Time, stats statDelta) (bool, error) {
	ch := it.Ref.Channel
	if ch != allimi.ChannelSMS && it.Mask&allimi.ChannelBit(allimi.ChannelSMS) == 0 {
		rec.State = bolt.StateFellBack
		stats.add(it.N.Type, ch, MetricFellBack, 1)
		sms := allimi.DeliveryRef{Notification: it.Ref.Notification, Seq: it.Ref.Seq, Channel: allimi.ChannelSMS}
		return true, tx.Bucket(bolt.BucketDue).Put(bolt.DueKey(sms, now), []byte{bolt.FlagFallback})
	}
	rec.State = bolt.StateDeadLetter
	stats.add(it.N.Type, ch, MetricFailed, 1)
	stats.add(it.N.Type, ch, MetricDeadLetter, 1)
	return false, putDeadLetter(tx, it.Ref, it.N.Type, *rec, now)
}

// retryOrGiveUp schedules a transient failure again with exponential
// backoff and jitter, until the horizon.
func (d *dispatcher) retryOrGiveUp(tx *bbolt.Tx, it bolt.Item, rec *bolt.Delivery, now time.Time, stats statDelta) (bool, error) {
	if now.Sub(time.UnixMilli(rec.First)) >= d.cfg.Horizon || (it.Ref.Channel != allimi.ChannelSMS && d.tripped(it.Ref.Channel, now)) {
		return d.failed(tx, it, rec, now, stats)
	}
	back := d.cfg.BaseBackoff << min(int(rec.Attempts), 20)
	back = min(back, d.cfg.MaxBackoff)
	back = back/2 + time.Duration(rand.Int64N(int64(back)+1)) // jitter: 0.5x to 1.5x
	rec.State = bolt.StateRetrying
	stats.add(it.N.Type, it.Ref.Channel, MetricRetried, 1)
	return false, tx.Bucket(bolt.BucketDue).Put(bolt.DueKey(it.Ref, now.Add(back)), []byte{rec.Flags})
}

// Receipt is a provider's word on a delivery it accepted.
type Receipt struct {
	Channel        allimi.Channel `json:"channel"`
	IdempotencyKey string         `json:"idempotencyKey"`
	ProviderID     string         `json:"providerId"`
	Status         string         `json:"status"` // delivered | failed
	Reason         string         `json:"reason"`
	At             time.Time      `json:"at"`
}

// applyReceipts moves accepted deliveries to delivered or failed (then
// fallback or dead letter). Unknown keys and repeats are counted, not errors.
func (d *dispatcher) applyReceipts(rs []Receipt) (applied, ignored int, err error) {
	now := d.cfg.Now()
	stats := statDelta{}
	fellBack := false
	err = d.store.Db.Update(func(tx *bbolt.Tx) error {
		applied, ignored = 0, 0
		dv := bolt.NewDeliveryWriter(tx, d.log)
		for _, r := range rs {
			ref, err := allimi.ParseDeliveryKey(r.IdempotencyKey)
			if err != nil || ref.Channel != r.Channel {
				ignored++
				continue
			}
			if r.Status != "delivered" && r.Status != "failed" {
				ignored++
				continue
			}
			var n allimi.Notification
			if err := bolt.GetNotification(tx, ref.Notification, &n); err != nil {
				ignored++
				continue
			}
			rec, ok := dv.Get(ref)
			switch {
			case ok && rec.State == bolt.StateAccepted:
			case !ok || rec.State == bolt.StateRetrying:
				// Ahead of the acceptance's commit: keep it for then.
				b, _ := json.Marshal(r)
				if err := tx.Bucket(bolt.BucketEarlyReceipts).Put(bolt.RefKey(ref), b); err != nil {
					return err
				}
				applied++
				continue
			default:
				ignored++ // a repeat, or a delivery already settled
				continue
			}
			fb, err := d.settle(tx, dv, &n, ref, &rec, r, now, stats)
			if err != nil {
				return err
			}
			fellBack = fellBack || fb
			applied++
		}
		if err := dv.Flush(); err != nil {
			return err
		}
		return stats.write(tx)
	})
	if fellBack {
		d.poke(allimi.ChannelSMS)
	}
	return applied, ignored, err
}

// settle applies a receipt to an accepted delivery and stores it.
func (d *dispatcher) settle(tx *bbolt.Tx, dv *bolt.DeliveryWriter, n *allimi.Notification, ref allimi.DeliveryRef, rec *bolt.Delivery, r Receipt, now time.Time, stats statDelta) (bool, error) {
	rec.Updated = now.UnixMilli()
	fellBack := false
	if r.Status == "delivered" {
		rec.State = bolt.StateDelivered
		stats.add(n.Type, ref.Channel, MetricDelivered, 1)
	} else {
		rec.Reason = truncate("receipt: "+r.Reason, 200)
		it, err := d.store.LoadItem(tx, n, ref)
		if err != nil {
			return false, err
		}
		if fellBack, err = d.failed(tx, it, rec, now, stats); err != nil {
			return false, err
		}
	}
	return fellBack, dv.Put(ref, *rec)
}

// truncate cuts s to at most n bytes, at a character boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
