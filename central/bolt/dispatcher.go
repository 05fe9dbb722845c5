package bolt

import (
	"bytes"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
)

// Item is one delivery about to be sent.
type Item struct {
	Ref      allimi.DeliveryRef
	N        *allimi.Notification
	Citizen  allimi.Citizen
	Mask     byte
	Params   map[string]string
	Token    uint64   // the detail page's token number
	Prev     Delivery // the stored record, zero if none
	DueKey   []byte   // set when the item came from the due queue
	Flags    byte
	rendered bool
}

// LoadItem prepares a delivery from the due queue.
func (s *Store) LoadItem(tx *bbolt.Tx, n *allimi.Notification, ref allimi.DeliveryRef) (Item, error) {
	r, ok, err := getRecipient(tx, ref.Notification, ref.Seq)
	if err == nil && !ok {
		err = errDamagedRecipients // a delivery of nobody
	}
	if err != nil {
		return Item{}, fmt.Errorf("delivery %s: %w", ref.Key(), err)
	}
	it, err := s.itemFor(tx, n, r, ref.Channel)
	if err != nil {
		return it, err
	}
	if it.Prev, _, err = getDelivery(tx, ref); err != nil {
		return it, fmt.Errorf("delivery %s: %w", ref.Key(), err)
	}
	return it, nil
}

func (s *Store) itemFor(tx *bbolt.Tx, n *allimi.Notification, r recipient, ch allimi.Channel) (Item, error) {
	return s.ItemFrom(tx, NewContacts(tx), n, r, ch)
}

// contacts reads people's sealed contact data from the subs index. A
// campaign's recipients are in the index's order, so it walks a cursor
// forward instead of searching the tree for each.
type contacts struct {
	c    *bbolt.Cursor
	k, v []byte
	key  []byte
}

func NewContacts(tx *bbolt.Tx) *contacts { return &contacts{c: tx.Bucket(bucketSubs).Cursor()} }

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

func (s *Store) ItemFrom(tx *bbolt.Tx, cs *contacts, n *allimi.Notification, r recipient, ch allimi.Channel) (Item, error) {
	var c allimi.Citizen
	var err error
	// The subs index holds the contact in campaign order; someone who has
	// since withdrawn is read from their record (they consented when the
	// notice was made).
	if v := cs.get(n.Type, r.CK); len(v) > 1 {
		c, err = s.openPII(r.CK, v[1:])
	} else {
		c, err = s.citizen(tx, r.CK)
	}
	if err != nil {
		return Item{}, fmt.Errorf("recipient %d of notification %d: %w", r.Seq, n.ID, err)
	}
	return Item{Ref: allimi.DeliveryRef{Notification: n.ID, Seq: r.Seq, Channel: ch}, N: n, Citizen: c, Mask: r.Mask, Params: r.Params, Token: r.Token}, nil
}

// AllSent reports whether every channel has been through every recipient.
func AllSent(n *allimi.Notification) bool {
	for _, ch := range allimi.Channels {
		if int64(n.Progress[ch]) < n.Recipients {
			return false
		}
	}
	return true
}
