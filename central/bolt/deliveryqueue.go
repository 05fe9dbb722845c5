package bolt

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
)

// ReadDeliveries implements allimi.DeliveryQueue: f reads one bbolt snapshot.
func (s *Store) ReadDeliveries(f func(allimi.DeliveryReader) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		return f(&deliveryTx{s: s, tx: tx})
	})
}

// UpdateDeliveries implements allimi.DeliveryQueue: f runs in one bbolt
// write transaction, whose delivery records are written a block at a time
// when f returns.
func (s *Store) UpdateDeliveries(f func(allimi.DeliveryTx) error) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		t := &deliveryTx{s: s, tx: tx, dv: newDeliveryWriter(tx, s.log)}
		if err := f(t); err != nil {
			return err
		}
		return t.dv.Flush()
	})
}

// DetailLink implements allimi.DeliveryQueue.
func (s *Store) DetailLink(ref allimi.DeliveryRef, token uint64) string {
	secret := s.links.Secret(ref.Notification, ref.Seq)
	if s.Details == nil {
		return "/n/" + base64.RawURLEncoding.EncodeToString(secret[:])
	}
	_, link := s.Details.TokenFor(token, secret)
	return link
}

// deliveryTx is the dispatcher's view of one bbolt transaction.
type deliveryTx struct {
	s  *Store
	tx *bbolt.Tx
	dv *deliveryWriter // nil in a read-only transaction
	cs *contacts
	// Receipts that overtake their acceptance are rare: most transactions
	// need not look for one per delivery.
	earlyKnown, earlyNone bool
	intents               *bbolt.Bucket // looked up once: it is touched per delivery
}

func (t *deliveryTx) intentBucket() *bbolt.Bucket {
	if t.intents == nil {
		t.intents = t.tx.Bucket(bucketSendIntents)
	}
	return t.intents
}

func (t *deliveryTx) contacts() *contacts {
	if t.cs == nil {
		t.cs = newContacts(t.tx)
	}
	return t.cs
}

func (t *deliveryTx) Notification(id uint64) (allimi.Notification, error) {
	var n allimi.Notification
	err := getNotification(t.tx, id, &n)
	return n, err
}

func (t *deliveryTx) Due(ch allimi.Channel, each func(allimi.DueEntry) bool) error {
	c := t.tx.Bucket(bucketDue).Cursor()
	prefix := channelIndex(ch)
	for k, v := c.Seek([]byte{prefix}); k != nil && k[0] == prefix; k, v = c.Next() {
		if len(k) != 21 || len(v) != 1 || int(k[0]) >= len(allimi.Channels) {
			return fmt.Errorf("due entry %x: damaged", k)
		}
		if !each(parseDueKey(k, v[0])) {
			return nil
		}
	}
	return nil
}

func parseDueKey(k []byte, flags byte) allimi.DueEntry {
	return allimi.DueEntry{Ref: allimi.DeliveryRef{Notification: binary.BigEndian.Uint64(k[9:]), Seq: binary.BigEndian.Uint32(k[17:]),
		Channel: allimi.Channels[k[0]]}, At: time.UnixMilli(int64(binary.BigEndian.Uint64(k[1:]))), Flags: flags}
}

func (t *deliveryTx) Recipients(n *allimi.Notification, ch allimi.Channel, after uint32, each func(uint32, *allimi.Outgoing) bool) error {
	rc := t.tx.Bucket(bucketRecipients).Cursor()
	prefix := u64(n.ID)
	bit := allimi.ChannelBit(ch)
	var o allimi.Outgoing
	for k, v := rc.Seek(recipientBlockKey(n.ID, after+1)); k != nil && bytes.HasPrefix(k, prefix); k, v = rc.Next() {
		blk, err := openRecipientBlock(k, v)
		if err == nil {
			err = blk.SkipTo(after + 1)
		}
		if err != nil {
			return fmt.Errorf("notification %d: %w", n.ID, err)
		}
		for {
			r, ok, err := blk.Next()
			if err != nil {
				return fmt.Errorf("notification %d: %w", n.ID, err)
			}
			if !ok {
				break
			}
			if r.Mask&bit == 0 {
				if !each(r.Seq, nil) {
					return nil
				}
				continue
			}
			if o, err = t.s.outgoingFrom(t.tx, t.contacts(), n, r, ch); err != nil {
				return err
			}
			if !each(r.Seq, &o) {
				return nil
			}
		}
	}
	return nil
}

func (t *deliveryTx) Outgoing(n *allimi.Notification, ref allimi.DeliveryRef) (allimi.Outgoing, error) {
	r, ok, err := getRecipient(t.tx, ref.Notification, ref.Seq)
	if err == nil && !ok {
		err = errDamagedRecipients // a delivery of nobody
	}
	if err != nil {
		return allimi.Outgoing{}, fmt.Errorf("delivery %s: %w", ref.Key(), err)
	}
	o, err := t.s.outgoingFrom(t.tx, t.contacts(), n, r, ref.Channel)
	if err != nil {
		return o, err
	}
	if t.dv != nil {
		o.Prev, _ = t.dv.Get(ref)
	} else if o.Prev, _, err = getDelivery(t.tx, ref); err != nil {
		return o, fmt.Errorf("delivery %s: %w", ref.Key(), err)
	}
	return o, nil
}

func (t *deliveryTx) SendIntents(ch allimi.Channel, each func(allimi.SendIntent) bool) error {
	c := t.tx.Bucket(bucketSendIntents).Cursor()
	prefix := channelIndex(ch)
	for k, v := c.Seek([]byte{prefix}); k != nil && k[0] == prefix; k, v = c.Next() {
		si, err := decodeSendIntent(k, v)
		if err != nil {
			t.s.log.Error("damaged send intent dropped: its delivery may never be sent", "err", err)
			continue
		}
		if !each(si) {
			return nil
		}
	}
	return nil
}

func (t *deliveryTx) PutNotification(n *allimi.Notification) error { return putNotification(t.tx, n) }

func (t *deliveryTx) Delivery(ref allimi.DeliveryRef) (allimi.DeliveryRecord, bool, error) {
	rec, ok := t.dv.Get(ref)
	return rec, ok, nil
}

func (t *deliveryTx) PutDelivery(ref allimi.DeliveryRef, rec allimi.DeliveryRecord) error {
	return t.dv.Put(ref, rec)
}

func (t *deliveryTx) PutDue(e allimi.DueEntry) error {
	return t.tx.Bucket(bucketDue).Put(dueKey(e.Ref, e.At), []byte{e.Flags})
}

func (t *deliveryTx) DeleteDue(ref allimi.DeliveryRef, at time.Time) error {
	return t.tx.Bucket(bucketDue).Delete(dueKey(ref, at))
}

func (t *deliveryTx) PutDeadLetter(ref allimi.DeliveryRef, dl allimi.DeadLetter) error {
	v, err := json.Marshal(dl)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketDeadLetters).Put(refKey(ref), v)
}

func (t *deliveryTx) EarlyReceipt(ref allimi.DeliveryRef) (allimi.ProviderReceipt, bool, error) {
	var r allimi.ProviderReceipt
	if t.earlyKnown && t.earlyNone {
		return r, false, nil
	}
	b := t.tx.Bucket(bucketEarlyReceipts)
	if !t.earlyKnown {
		first, _ := b.Cursor().First()
		t.earlyKnown, t.earlyNone = true, first == nil
	}
	if t.earlyNone {
		return r, false, nil
	}
	v := b.Get(refKey(ref))
	if v == nil {
		return r, false, nil
	}
	if err := json.Unmarshal(v, &r); err != nil {
		// Unreadable: as good as none.
		return r, false, t.DeleteEarlyReceipt(ref)
	}
	return r, true, nil
}

func (t *deliveryTx) PutEarlyReceipt(ref allimi.DeliveryRef, r allimi.ProviderReceipt) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	t.earlyKnown = false
	return t.tx.Bucket(bucketEarlyReceipts).Put(refKey(ref), v)
}

func (t *deliveryTx) DeleteEarlyReceipt(ref allimi.DeliveryRef) error {
	return t.tx.Bucket(bucketEarlyReceipts).Delete(refKey(ref))
}

func (t *deliveryTx) SendIntent(ref allimi.DeliveryRef) (allimi.SendIntent, bool, error) {
	k := sendIntentKey(ref)
	v := t.intentBucket().Get(k)
	if v == nil {
		return allimi.SendIntent{}, false, nil
	}
	si, err := decodeSendIntent(k, v)
	return si, err == nil, err
}

func (t *deliveryTx) PutSendIntent(si allimi.SendIntent) error {
	if err := t.intentBucket().Put(sendIntentKey(si.Ref), sendIntentValue(&si)); err != nil {
		return fmt.Errorf("send intent %s: %w", si.Ref.Key(), err)
	}
	return nil
}

func (t *deliveryTx) DeleteSendIntent(ref allimi.DeliveryRef) error {
	return t.intentBucket().Delete(sendIntentKey(ref))
}

func (t *deliveryTx) CountDeliveries(typ allimi.NotificationType, ch allimi.Channel, outcome string, n int64) error {
	return addU64(t.tx.Bucket(bucketDeliveryStats), []byte(string(typ)+"\x00"+string(ch)+"\x00"+outcome), n)
}

func (s *Store) outgoingFor(tx *bbolt.Tx, n *allimi.Notification, r recipient, ch allimi.Channel) (allimi.Outgoing, error) {
	return s.outgoingFrom(tx, newContacts(tx), n, r, ch)
}

// contacts reads people's sealed contact data from the subs index. A
// campaign's recipients are in the index's order, so it walks a cursor
// forward instead of searching the tree for each.
type contacts struct {
	c    *bbolt.Cursor
	k, v []byte
	key  []byte
	// regions are the people's regions, read alongside.
	regions *regions
}

func newContacts(tx *bbolt.Tx) *contacts {
	return &contacts{c: tx.Bucket(bucketSubs).Cursor(), regions: newRegions(tx)}
}

func (cs *contacts) get(t allimi.NotificationType, ck []byte) []byte {
	cs.key = append(append(append(cs.key[:0], t...), 0), ck...)
	for i := 0; i < 4 && cs.k != nil && bytes.Compare(cs.k, cs.key) < 0; i++ {
		cs.k, cs.v = cs.c.Next()
	}
	if cs.k == nil || !bytes.Equal(cs.k, cs.key) {
		cs.k, cs.v = cs.c.Seek(cs.key)
	}
	if bytes.Equal(cs.k, cs.key) {
		return cs.v
	}
	return nil
}

func (s *Store) outgoingFrom(tx *bbolt.Tx, cs *contacts, n *allimi.Notification, r recipient, ch allimi.Channel) (allimi.Outgoing, error) {
	var c allimi.Citizen
	var lang string
	var err error
	// The subs index holds the contact (and language) in campaign order;
	// someone who has since withdrawn is read from their record (they
	// consented when the notice was made).
	if v := cs.get(n.Type, r.CK); len(v) > 1 {
		c, lang, err = s.openPerson(r.CK, v[1:])
	} else {
		c, lang, err = s.person(tx, r.CK)
	}
	if err != nil {
		return allimi.Outgoing{}, fmt.Errorf("recipient %d of notification %d: %w", r.Seq, n.ID, err)
	}
	return allimi.Outgoing{Ref: allimi.DeliveryRef{Notification: n.ID, Seq: r.Seq, Channel: ch}, N: n, Citizen: c, Lang: lang,
		Region: cs.regions.get(r.CK), Mask: r.Mask, Params: r.Params, Token: r.Token}, nil
}
