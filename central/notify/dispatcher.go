package notify

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"allimi"
	"allimi/central/channel"
	"allimi/central/template"
	"allimi/internal/periodic"
)

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
	tmpl     atomic.Pointer[template.Set]
	cfg      Config
	log      *slog.Logger
	metrics  *Metrics

	mu     sync.Mutex
	active map[uint64]*allimi.Notification // expanding or sending
	// finished are notifications this dispatcher saw finish that the
	// store may still list as active in a read begun before (rescan).
	finished map[uint64]struct{}
	wake     map[allimi.Channel]chan struct{}
	breakers map[allimi.Channel]*breaker
}

// New makes a dispatcher that sends through adapters (one lane each) with
// the messages of tmpl. Its series are m's; cfg.Now may be nil (time.Now).
func New(store Store, adapters map[allimi.Channel]channel.Adapter, tmpl *template.Set, cfg Config, m *Metrics, log *slog.Logger) *Dispatcher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	d := &Dispatcher{store: store, adapters: adapters, cfg: cfg, metrics: m, log: log.With("component", "dispatch"),
		active: map[uint64]*allimi.Notification{}, finished: map[uint64]struct{}{}, wake: map[allimi.Channel]chan struct{}{}, breakers: map[allimi.Channel]*breaker{}}
	d.tmpl.Store(tmpl)
	for _, ch := range allimi.Channels {
		d.wake[ch] = make(chan struct{}, 1)
		d.breakers[ch] = &breaker{}
		if cfg.Shared != nil {
			d.breakers[ch] = cfg.Shared.breakers[ch]
		}
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

// SetTemplates makes the dispatcher write its messages with tmpl from now
// on (an administrator changed a type).
func (d *Dispatcher) SetTemplates(tmpl *template.Set) { d.tmpl.Store(tmpl) }

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
		if n.Status == allimi.StatusExpanding && !d.cfg.LeaveExpansions {
			if _, err := d.expand(n.ID); err != nil {
				d.log.Error("expansion failed", "notification", n.ID, "err", err)
			}
		}
	}
	var wg sync.WaitGroup
	if d.cfg.Rescan > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.rescanEvery(ctx, d.cfg.Rescan)
		}()
	}
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
	active := n.Status == allimi.StatusExpanding || n.Status == allimi.StatusSending
	d.mu.Lock()
	if active {
		d.active[n.ID] = &n
	} else {
		delete(d.active, n.ID)
		d.finished[n.ID] = struct{}{}
	}
	d.mu.Unlock()
	if active && d.cfg.Forward != nil {
		d.cfg.Forward(n)
	}
}

// rescanEvery takes up, every period until ctx ends, the notifications
// other centrals stored: their campaigns expanded there, their messages
// to send here.
func (d *Dispatcher) rescanEvery(ctx context.Context, period time.Duration) {
	periodic.Every(ctx, period, func() {
		if err := d.rescan(); err != nil {
			d.log.Warn("looking for notifications stored elsewhere failed", "err", err)
		}
	})
}

// rescan tracks the active notifications of the store it does not track
// yet, and expands those whose expansion stopped (its central died).
func (d *Dispatcher) rescan() error {
	ns, err := d.store.ActiveNotifications()
	if err != nil {
		return err
	}
	listed := make(map[uint64]bool, len(ns))
	var fresh []allimi.Notification
	d.mu.Lock()
	for _, n := range ns {
		listed[n.ID] = true
		_, tracked := d.active[n.ID]
		_, done := d.finished[n.ID]
		if !tracked && !done {
			fresh = append(fresh, n)
		}
	}
	for id := range d.finished {
		if !listed[id] {
			delete(d.finished, id) // finished in the store too
		}
	}
	d.mu.Unlock()
	for _, n := range fresh {
		d.track(n)
		if n.Status == allimi.StatusExpanding && !d.cfg.LeaveExpansions {
			// Its central expands it, or died doing so: expanding it here
			// too is safe (each step takes the next chunk after the
			// cursor stored, under the notification's lock) and finishes
			// it either way.
			go func() {
				if _, err := d.expand(n.ID); err != nil {
					d.log.Error("expansion failed", "notification", n.ID, "err", err)
				}
			}()
		}
	}
	if len(fresh) > 0 {
		d.poke()
	}
	return nil
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
