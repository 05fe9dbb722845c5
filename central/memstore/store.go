package memstore

import (
	"cmp"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"allimi"
)

// Store is the in-memory store. The zero value is not usable: call New.
type Store struct {
	// mu is held for reading by ReadDeliveries and for writing by every
	// change, so each runs on a consistent state.
	mu   sync.RWMutex
	now  func() time.Time
	subs []subscriber // in the order subscribed: a campaign's order

	nextID uint64
	idem   map[string]uint64 // agency 0x00 Idempotency-Key → id
	recips map[uint64][]recipient
	tokens uint64 // the last detail token number given
	st     state
	queued map[queueKey]allimi.QueueIntent
	// linkKey keys the detail links (DetailLink).
	linkKey [32]byte
}

type queueKey struct {
	ch  allimi.Channel
	key string
}

// state is what UpdateDeliveries changes: copied before, kept only when
// the update succeeds.
type state struct {
	notifs     map[uint64]allimi.Notification
	deliveries map[allimi.DeliveryRef]allimi.DeliveryRecord
	due        map[dueKey]byte // → flags
	intents    map[allimi.DeliveryRef]allimi.SendIntent
	early      map[allimi.DeliveryRef]allimi.ProviderReceipt
	dead       map[allimi.DeliveryRef]allimi.DeadLetter
	stats      map[statKey]int64
	daily      map[allimi.DeliveryCell]int64
}

type dueKey struct {
	ref allimi.DeliveryRef
	at  int64 // unix ms
}

type statKey struct {
	t       allimi.NotificationType
	ch      allimi.Channel
	outcome string
}

type subscriber struct {
	c    allimi.Citizen
	t    allimi.NotificationType
	mask byte
}

type recipient struct {
	c      allimi.Citizen
	mask   byte
	params map[string]string
	token  uint64
}

// New makes an empty store whose clock is now (time.Now when nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{now: now, idem: map[string]uint64{}, recips: map[uint64][]recipient{}, queued: map[queueKey]allimi.QueueIntent{}, st: state{
		notifs: map[uint64]allimi.Notification{}, deliveries: map[allimi.DeliveryRef]allimi.DeliveryRecord{},
		due: map[dueKey]byte{}, intents: map[allimi.DeliveryRef]allimi.SendIntent{},
		early: map[allimi.DeliveryRef]allimi.ProviderReceipt{}, dead: map[allimi.DeliveryRef]allimi.DeadLetter{},
		stats: map[statKey]int64{}, daily: map[allimi.DeliveryCell]int64{}}}
	rand.Read(s.linkKey[:])
	return s
}

// Subscribe records c's consent to notices of type t on the channels of
// mask (allimi.ChannelBit).
func (s *Store) Subscribe(c allimi.Citizen, t allimi.NotificationType, mask byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = append(s.subs, subscriber{c, t, mask})
}

func (st *state) clone() state {
	return state{notifs: maps.Clone(st.notifs), deliveries: maps.Clone(st.deliveries), due: maps.Clone(st.due),
		intents: maps.Clone(st.intents), early: maps.Clone(st.early), dead: maps.Clone(st.dead), stats: maps.Clone(st.stats),
		daily: maps.Clone(st.daily)}
}

// copyNotification gives n maps of its own: callers change Progress.
func copyNotification(n allimi.Notification) allimi.Notification {
	n.Progress, n.PerChannel = maps.Clone(n.Progress), maps.Clone(n.PerChannel)
	return n
}

func (s *Store) CreateNotification(agency, idemKey string, req *allimi.NotificationRequest) (allimi.Notification, bool, error) {
	now := s.now().UTC()
	if _, err := req.Validate(now); err != nil {
		return allimi.Notification{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ik := agency + "\x00" + idemKey
	if id, ok := s.idem[ik]; ok && idemKey != "" {
		return copyNotification(s.st.notifs[id]), true, nil
	}
	s.nextID++
	n := allimi.Notification{ID: s.nextID, Agency: agency, Type: req.Type, Urgent: req.Urgent, Params: req.Params,
		Title: req.Title, Fields: req.Fields, PaymentURL: req.PaymentURL, Template: req.Template, Created: now,
		ExpiresAt: now.Add(allimi.DefaultLifetime), Campaign: req.Audience.All, Status: allimi.StatusSending,
		Progress: map[allimi.Channel]uint32{}}
	if req.ExpiresAt != nil {
		n.ExpiresAt = req.ExpiresAt.UTC()
	}
	if n.Campaign {
		n.Status = allimi.StatusExpanding
	} else {
		seen := map[allimi.Citizen]bool{}
		for _, c := range req.Audience.Citizens {
			var mask byte
			var who allimi.Citizen
			for _, sub := range s.subs {
				if sub.t == n.Type && sub.c.Mobile == c.Mobile && sub.c.BirthDate == c.BirthDate {
					mask, who = sub.mask, sub.c
				}
			}
			if mask == 0 || seen[who] {
				if mask == 0 {
					n.NotSubscribed++
				}
				continue
			}
			seen[who] = true
			s.addRecipient(&n, recipient{c: who, mask: mask, params: c.Params})
		}
	}
	if idemKey != "" {
		s.idem[ik] = n.ID
	}
	s.st.notifs[n.ID] = copyNotification(n)
	return n, false, nil
}

func (s *Store) addRecipient(n *allimi.Notification, r recipient) {
	s.tokens++
	r.token = s.tokens
	s.recips[n.ID] = append(s.recips[n.ID], r)
	n.Recipients++
	n.AddDeliveries(r.mask)
}

func (s *Store) GetNotification(id uint64) (allimi.Notification, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.notification(id)
}

func (st *state) notification(id uint64) (allimi.Notification, error) {
	n, ok := st.notifs[id]
	if !ok {
		return n, fmt.Errorf("notification %d: %w", id, allimi.ErrNotFound)
	}
	return copyNotification(n), nil
}

func (s *Store) ActiveNotifications() ([]allimi.Notification, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []allimi.Notification
	for _, id := range slices.Sorted(maps.Keys(s.st.notifs)) {
		if n := s.st.notifs[id]; n.Status == allimi.StatusExpanding || n.Status == allimi.StatusSending {
			out = append(out, copyNotification(n))
		}
	}
	return out, nil
}

// ExpandChunk is how many subscribers one step of ExpandCampaign adds.
const ExpandChunk = 100

// ExpandCampaign adds the type's subscribers, ExpandChunk at a time,
// calling each (under the store's lock, as bolt does) after every step.
func (s *Store) ExpandCampaign(id uint64, each func(allimi.Notification)) (allimi.Notification, error) {
	for {
		n, done, err := s.expandStep(id, each)
		if err != nil || done {
			return n, err
		}
	}
}

func (s *Store) expandStep(id uint64, each func(allimi.Notification)) (allimi.Notification, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.st.notification(id)
	if err != nil || n.Status != allimi.StatusExpanding {
		return n, true, err
	}
	// Cursor is the number of subscribers looked at so far.
	at := 0
	if len(n.Cursor) > 0 {
		fmt.Sscan(string(n.Cursor), &at)
	}
	added := 0
	for ; at < len(s.subs) && added < ExpandChunk; at++ {
		if sub := s.subs[at]; sub.t == n.Type {
			s.addRecipient(&n, recipient{c: sub.c, mask: sub.mask})
			added++
		}
	}
	n.Cursor = []byte(fmt.Sprint(at))
	if at >= len(s.subs) {
		n.Status, n.Cursor = allimi.StatusSending, nil
		if n.AllSent() {
			n.Status = allimi.StatusDone
		}
	}
	s.st.notifs[id] = copyNotification(n)
	if each != nil {
		each(copyNotification(n))
	}
	return n, n.Status != allimi.StatusExpanding, nil
}

func (s *Store) DeliveryStats() (allimi.DeliveryStats, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := allimi.DeliveryStats{}
	put := func(t, ch, m string, n int64) {
		if out[t] == nil {
			out[t] = map[string]map[string]int64{}
		}
		if out[t][ch] == nil {
			out[t][ch] = map[string]int64{}
		}
		out[t][ch][m] += n
	}
	for _, sub := range s.subs {
		for _, ch := range allimi.Channels {
			if sub.mask&allimi.ChannelBit(ch) != 0 {
				put(string(sub.t), string(ch), "subscribers", 1)
			}
		}
	}
	for k, n := range s.st.stats {
		put(string(k.t), string(k.ch), k.outcome, n)
	}
	return out, nil
}

func (s *Store) DeliveryStatus(r allimi.DeliveryRef) (allimi.DeliveryState, string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.st.deliveries[r]
	return d.State, d.Reason, nil
}

func compareRefs(a, b allimi.DeliveryRef) int {
	return cmp.Or(cmp.Compare(a.Notification, b.Notification), cmp.Compare(a.Seq, b.Seq),
		cmp.Compare(channelIndex(a.Channel), channelIndex(b.Channel)))
}

func channelIndex(ch allimi.Channel) int { return slices.Index(allimi.Channels, ch) }

func (s *Store) DeadLetters(limit int) ([]allimi.DeadLetter, int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	refs := slices.SortedFunc(maps.Keys(s.st.dead), compareRefs)
	out := []allimi.DeadLetter{}
	for _, r := range refs[:min(limit, len(refs))] {
		out = append(out, s.st.dead[r])
	}
	return out, len(refs), nil
}

func (s *Store) ReplayDeadLetters(key string) (int, error) {
	var only *allimi.DeliveryRef
	if key != "" {
		r, err := allimi.ParseDeliveryKey(key)
		if err != nil {
			return 0, err
		}
		only = &r
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var refs []allimi.DeliveryRef
	if only != nil {
		if _, ok := s.st.dead[*only]; !ok {
			return 0, fmt.Errorf("dead letter %s: %w", key, allimi.ErrNotFound)
		}
		refs = []allimi.DeliveryRef{*only}
	} else {
		refs = slices.SortedFunc(maps.Keys(s.st.dead), compareRefs)
	}
	for _, r := range refs {
		d := s.st.deliveries[r]
		d.State, d.Attempts, d.First, d.Updated, d.Reason = allimi.DeliveryRetrying, 0, 0, now.UnixMilli(), "replayed"
		s.st.deliveries[r] = d
		s.st.due[dueKey{r, now.UnixMilli()}] = d.Flags
		delete(s.st.dead, r)
	}
	return len(refs), nil
}
