package memstore

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"

	"allimi"
)

// ReadDeliveries implements allimi.DeliveryQueue.
func (s *Store) ReadDeliveries(f func(allimi.DeliveryReader) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return f(&tx{s: s, st: &s.st})
}

// UpdateDeliveries implements allimi.DeliveryQueue: f changes a copy of
// the state, which replaces it when f succeeds.
func (s *Store) UpdateDeliveries(f func(allimi.DeliveryTx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st.clone()
	if err := f(&tx{s: s, st: &st}); err != nil {
		return err
	}
	s.st = st
	return nil
}

// DetailLink implements allimi.DeliveryQueue: the store serves no pages,
// and its links are keyed with the store's own random key.
func (s *Store) DetailLink(ref allimi.DeliveryRef, token uint64) string {
	m := hmac.New(sha256.New, s.linkKey[:])
	m.Write(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, ref.Notification), token), ref.Seq))
	return "/n/" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// tx is a read or an update of the delivery state.
type tx struct {
	s  *Store
	st *state
}

func (t *tx) Notification(id uint64) (allimi.Notification, error) { return t.st.notification(id) }

func (t *tx) Due(ch allimi.Channel, each func(allimi.DueEntry) bool) error {
	var keys []dueKey
	for k := range t.st.due {
		if k.ref.Channel == ch {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b dueKey) int { return cmp.Or(cmp.Compare(a.at, b.at), compareRefs(a.ref, b.ref)) })
	for _, k := range keys {
		if !each(allimi.DueEntry{Ref: k.ref, At: time.UnixMilli(k.at), Flags: t.st.due[k]}) {
			break
		}
	}
	return nil
}

func (t *tx) Recipients(n *allimi.Notification, ch allimi.Channel, after uint32, each func(uint32, *allimi.Outgoing) bool) error {
	rs := t.s.recips[n.ID]
	for i := int(after); i < len(rs); i++ {
		seq := uint32(i + 1)
		if rs[i].mask&allimi.ChannelBit(ch) == 0 {
			if !each(seq, nil) {
				break
			}
			continue
		}
		o := outgoing(n, &rs[i], allimi.DeliveryRef{Notification: n.ID, Seq: seq, Channel: ch})
		if !each(seq, &o) {
			break
		}
	}
	return nil
}

func outgoing(n *allimi.Notification, r *recipient, ref allimi.DeliveryRef) allimi.Outgoing {
	return allimi.Outgoing{Ref: ref, N: n, Citizen: r.c, Mask: r.mask, Params: r.params, Token: r.token}
}

func (t *tx) Outgoing(n *allimi.Notification, ref allimi.DeliveryRef) (allimi.Outgoing, error) {
	rs := t.s.recips[ref.Notification]
	if ref.Seq == 0 || int(ref.Seq) > len(rs) {
		return allimi.Outgoing{}, fmt.Errorf("delivery %s: no such recipient", ref.Key())
	}
	o := outgoing(n, &rs[ref.Seq-1], ref)
	o.Prev = t.st.deliveries[ref]
	return o, nil
}

func (t *tx) SendIntents(ch allimi.Channel, each func(allimi.SendIntent) bool) error {
	for _, r := range slices.SortedFunc(maps.Keys(t.st.intents), compareRefs) {
		if r.Channel == ch && !each(t.st.intents[r]) {
			break
		}
	}
	return nil
}

func (t *tx) PutNotification(n *allimi.Notification) error {
	if _, ok := t.st.notifs[n.ID]; !ok {
		return fmt.Errorf("notification %d: %w", n.ID, allimi.ErrNotFound)
	}
	t.st.notifs[n.ID] = copyNotification(*n)
	return nil
}

func (t *tx) Delivery(ref allimi.DeliveryRef) (allimi.DeliveryRecord, bool, error) {
	d, ok := t.st.deliveries[ref]
	return d, ok, nil
}

func (t *tx) PutDelivery(ref allimi.DeliveryRef, rec allimi.DeliveryRecord) error {
	if ref.Seq == 0 {
		return fmt.Errorf("delivery of recipient 0")
	}
	t.st.deliveries[ref] = rec
	return nil
}

func (t *tx) PutDue(e allimi.DueEntry) error {
	t.st.due[dueKey{e.Ref, e.At.UnixMilli()}] = e.Flags
	return nil
}

func (t *tx) DeleteDue(ref allimi.DeliveryRef, at time.Time) error {
	delete(t.st.due, dueKey{ref, at.UnixMilli()})
	return nil
}

func (t *tx) PutDeadLetter(ref allimi.DeliveryRef, dl allimi.DeadLetter) error {
	t.st.dead[ref] = dl
	return nil
}

func (t *tx) EarlyReceipt(ref allimi.DeliveryRef) (allimi.ProviderReceipt, bool, error) {
	r, ok := t.st.early[ref]
	return r, ok, nil
}

func (t *tx) PutEarlyReceipt(ref allimi.DeliveryRef, r allimi.ProviderReceipt) error {
	t.st.early[ref] = r
	return nil
}

func (t *tx) DeleteEarlyReceipt(ref allimi.DeliveryRef) error {
	delete(t.st.early, ref)
	return nil
}

func (t *tx) SendIntent(ref allimi.DeliveryRef) (allimi.SendIntent, bool, error) {
	si, ok := t.st.intents[ref]
	return si, ok, nil
}

func (t *tx) PutSendIntent(si allimi.SendIntent) error {
	t.st.intents[si.Ref] = si
	return nil
}

func (t *tx) DeleteSendIntent(ref allimi.DeliveryRef) error {
	delete(t.st.intents, ref)
	return nil
}

func (t *tx) CountDeliveries(typ allimi.NotificationType, ch allimi.Channel, outcome string, n int64) error {
	t.st.stats[statKey{typ, ch, outcome}] += n
	return nil
}

func (t *tx) CountDailyDeliveries(c allimi.DeliveryCell, n int64) error {
	t.st.daily[c] += n
	return nil
}

// DailyDeliveries implements allimi.DeliveryReports.
func (s *Store) DailyDeliveries(from, to string) ([]allimi.DeliveryCount, error) {
	if _, err := allimi.ParseKSTDay("from", from); err != nil {
		return nil, err
	}
	if _, err := allimi.ParseKSTDay("to", to); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []allimi.DeliveryCount{}
	for c, n := range s.st.daily {
		if c.Day >= from && c.Day <= to {
			out = append(out, allimi.DeliveryCount{DeliveryCell: c, N: n})
		}
	}
	slices.SortFunc(out, func(a, b allimi.DeliveryCount) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Region, b.Region), cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.Channel, b.Channel), cmp.Compare(a.Outcome, b.Outcome))
	})
	return out, nil
}

// NotificationChannels implements allimi.DeliveryReports.
func (s *Store) NotificationChannels(id uint64) (map[allimi.Channel]allimi.ChannelStates, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[allimi.Channel]allimi.ChannelStates{}
	for ref, rec := range s.st.deliveries {
		if ref.Notification == id {
			cs := out[ref.Channel]
			cs.Add(rec)
			out[ref.Channel] = cs
		}
	}
	return out, nil
}

// QueueIntents implements allimi.QueueIntents.
func (s *Store) QueueIntents(ch allimi.Channel, keys []string) (map[string]allimi.QueueIntent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]allimi.QueueIntent{}
	for _, k := range keys {
		if in, ok := s.queued[queueKey{ch, k}]; ok {
			out[k] = in
		}
	}
	return out, nil
}

// PutQueueIntents implements allimi.QueueIntents.
func (s *Store) PutQueueIntents(ch allimi.Channel, keys []string, in allimi.QueueIntent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.queued[queueKey{ch, k}] = in
	}
	return nil
}

// QueueSettled implements allimi.QueueIntents.
func (s *Store) QueueSettled(ch allimi.Channel, keys ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.queued, queueKey{ch, k})
	}
	return nil
}
