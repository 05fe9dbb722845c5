package notify

import (
	"context"
	"sort"
	"sync"
	"time"

	"allimi"
	"allimi/central/channel"
)

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
// recipients and due entries handed to senders but not yet recorded. A
// read claims them only once it has succeeded (nextBatch): a batch whose
// read failed is never handed on, and what it had claimed would never be
// sent, while the batches after it moved the progress past it.
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

// hold claims what batch b, just read, carries: its recipients (up to its
// progress) and its due entries are in flight. hold and from are called
// with mu held.
func (l *lane) hold(b *batch) {
	for id, seq := range b.progress {
		l.claimed[id] = max(l.claimed[id], seq)
	}
	for i := range b.items {
		if it := &b.items[i]; !it.Due.IsZero() {
			l.due[dueKeyOf(it)] = struct{}{}
		}
	}
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
	// free is the reader's channel while a sender is free for one more
	// batch, nil otherwise (a nil channel is never ready).
	free := func() <-chan *job {
		if in != nil && inflight+len(fresh) < workers {
			return in
		}
		return nil
	}
	finished := func(j *job) {
		pending[j.seq] = j
		inflight--
	}
	// took keeps a new batch, or notes that the reader stopped (false).
	took := func(j *job, ok bool) bool {
		if !ok {
			in = nil
			return false
		}
		fresh = append(fresh, j)
		return true
	}
	for {
		wc := free()
		if wc == nil && inflight == 0 && len(fresh) == 0 {
			return ctx.Err() // the reader stopped and everything is recorded
		}
		select {
		case j := <-done:
			finished(j)
		case j, ok := <-wc:
			if !took(j, ok) {
				continue
			}
		}
		// Whatever else has arrived goes into the same transaction: a
		// commit's fixed cost (the freelist, two fsyncs) is then paid per
		// several batches, not per batch.
	drain:
		for {
			select {
			case j := <-done:
				finished(j)
			case j, ok := <-free():
				took(j, ok)
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
	var notifs map[uint64]*allimi.Notification
	err := d.store.ReadDeliveries(func(tx allimi.DeliveryReader) error {
		b, notifs = batch{progress: map[uint64]uint32{}}, map[uint64]*allimi.Notification{}
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
			if n.Status != allimi.StatusExpanding && n.Status != allimi.StatusSending {
				d.track(*n) // finished where this dispatcher did not see it (another slot)
				continue
			}
			if !eligible(n, now) {
				next = min(next, QuietEnd(now).Sub(now))
				continue
			}
			from := l.from(n)
			if int64(from) >= n.Recipients {
				if n.Status == allimi.StatusSending && n.AllSent() {
					// Sent through but not marked done: the last step of
					// its expansion did not see the last progress (another
					// slot's, on a shared database). The commit marks it.
					b.progress[n.ID] = from
				}
				continue
			}
			if n.NoneFor(ch) {
				b.progress[n.ID] = uint32(n.Recipients)
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
			}
		}
		return nil
	})
	if err != nil {
		// Nothing of it is handed on (a snapshot's COMMIT that failed
		// with its connection, the database restarting, fails the read
		// after every row was read): the next read starts where this one
		// did.
		return batch{}, next, err
	}
	l.hold(&b)
	return b, next, nil
}
