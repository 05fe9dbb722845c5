package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/detail"
)

// The notifications part of the store keeps agencies' notifications and
// their recipients. Its buckets, and what their keys and values hold:
var (
	bucketNotifications = []byte("notifications") // id → Notification
	bucketNotifIdem     = []byte("notif-idem")    // agency 0x00 Idempotency-Key → id
	bucketRecipients    = []byte("recipients")    // id | block(4) → recipients (see appendRecipient)
	bucketTokenRanges   = []byte("detail-ranges") // token number(8) → notification id(8) | recipient seq(4)
)

// notificationsPart creates them when the store opens.
var notificationsPart = part{"notifications", [][]byte{
	bucketNotifications, bucketNotifIdem, bucketRecipients, bucketTokenRanges}}

var ()

// CreateNotification stores a validated request. A repeat of an agency's
// Idempotency-Key returns the notification the first request created.
// Listed recipients are resolved in the same transaction; a campaign is
// expanded afterwards by ExpandCampaign.
func (s *Store) CreateNotification(agency, idemKey string, req *allimi.NotificationRequest) (allimi.Notification, bool, error) {
	now := s.now().UTC()
	if _, err := req.Validate(now); err != nil {
		return allimi.Notification{}, false, err
	}
	var n allimi.Notification
	repeat := false
	folded := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		folded = 0
		nb := tx.Bucket(bucketNotifications)
		var ik []byte
		if idemKey != "" {
			ik = []byte(agency + "\x00" + idemKey)
			if v := tx.Bucket(bucketNotifIdem).Get(ik); v != nil {
				repeat = true
				return json.Unmarshal(nb.Get(v), &n)
			}
		}
		id, _ := nb.NextSequence()
		n = allimi.Notification{ID: id, Agency: agency, Type: req.Type, Urgent: req.Urgent, Params: req.Params,
			Title: req.Title, Fields: req.Fields, PaymentURL: req.PaymentURL, Template: req.Template, Created: now,
			ExpiresAt: now.Add(allimi.DefaultLifetime), Campaign: req.Audience.All, Status: allimi.StatusSending,
			Progress: map[allimi.Channel]uint32{}}
		if req.ExpiresAt != nil {
			n.ExpiresAt = req.ExpiresAt.UTC()
		}
		if name, err := agencyNameIn(tx, agency); err == nil {
			n.AgencyName = name
		}
		if err := s.putShared(tx, &n); err != nil {
			return err
		}
		if n.Campaign {
			n.Status = allimi.StatusExpanding
		} else {
			// The index is brought up to date first (subsfold.go).
			var err error
			if folded, err = s.foldSubs(tx); err != nil {
				return err
			}
			if err := s.addListed(tx, &n, req.Audience.Citizens); err != nil {
				return err
			}
		}
		if ik != nil {
			if err := tx.Bucket(bucketNotifIdem).Put(ik, u64(id)); err != nil {
				return err
			}
		}
		return putNotification(tx, &n)
	})
	if err == nil {
		s.subsPending.Add(-int64(folded))
	}
	return n, repeat, err
}

// addListed adds the listed people who subscribe to n's type; the subs
// index must be up to date (foldSubs).
func (s *Store) addListed(tx *bbolt.Tx, n *allimi.Notification, cs []allimi.RecipientRequest) error {
	subs := tx.Bucket(bucketSubs)
	seen := map[string]bool{}
	var add []newRecipient
	for _, c := range cs {
		ck := c.Key
		if ck == nil {
			ck = s.keys.CitizenKey(c.Mobile, c.BirthDate)
		}
		var mask byte
		if v := subs.Get(subsKey(n.Type, ck)); len(v) >= 1 {
			mask = v[0]
		}
		if mask == 0 || seen[string(ck)] {
			if mask == 0 {
				n.NotSubscribed++
			}
			continue
		}
		seen[string(ck)] = true
		add = append(add, newRecipient{ck, mask, c.Params})
	}
	return s.addRecipients(tx, n, add)
}

// newRecipient is a recipient about to be added.
type newRecipient struct {
	ck     []byte
	mask   byte
	params map[string]string
}

// addRecipients appends recipients to a notification with their detail
// page token numbers, reserved as one range per call: a campaign's
// recipients can be sent while later ones are still being added.
func (s *Store) addRecipients(tx *bbolt.Tx, n *allimi.Notification, add []newRecipient) error {
	if len(add) == 0 {
		return nil
	}
	var base uint64
	first := uint32(n.Recipients) + 1
	if s.Details != nil {
		var err error
		if base, err = s.Details.Reserve(detail.BoltTx(tx), uint64(len(add))); err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint32(u64(n.ID), first)
		if err := tx.Bucket(bucketTokenRanges).Put(u64(base+1), v); err != nil {
			return err
		}
	}
	rb := tx.Bucket(bucketRecipients)
	rb.FillPercent = 1 // keys only ever grow: full pages halve the file
	seq := first
	var blk []byte
	if (seq-1)%recipientsPerBlock != 0 {
		// The last block is not full: it grows by this call's first ones.
		last := rb.Get(recipientBlockKey(n.ID, seq))
		if last == nil {
			return fmt.Errorf("notification %d: recipients before %d: %w", n.ID, seq, errDamagedRecipients)
		}
		blk = append(make([]byte, 0, recipientBlockBytes), last...)
	}
	for i, r := range add {
		if blk == nil {
			blk = make([]byte, 0, recipientBlockBytes)
		}
		blk = appendRecipient(blk, r.ck, r.mask, base+1+uint64(i), r.params)
		n.Recipients++
		n.AddDeliveries(r.mask)
		if seq%recipientsPerBlock == 0 || i == len(add)-1 {
			// bbolt keeps the value until the commit: each block is its own.
			if err := rb.Put(recipientBlockKey(n.ID, seq), blk); err != nil {
				return err
			}
			blk = nil
		}
		seq++
	}
	return nil
}

// expandChunk is how many subscribers one expansion transaction copies.
var expandChunk = 20000 // a variable so tests can make chunks small

// ExpandCampaign copies the type's subscribers into the notification's
// recipients, a chunk per transaction, resuming where it stood (after a
// crash too). After each chunk it calls each (if set) with the
// notification, whose recipients so far may be sent at once. It returns
// the notification when done.
func (s *Store) ExpandCampaign(id uint64, each func(allimi.Notification)) (allimi.Notification, error) {
	for {
		var n allimi.Notification
		folded := 0
		err := s.db.Update(func(tx *bbolt.Tx) error {
			folded = 0
			if err := getNotification(tx, id, &n); err != nil {
				return err
			}
			if n.Status != allimi.StatusExpanding {
				return nil
			}
			// Each chunk reads the index up to date (subsfold.go): whoever
			// was committed before the chunk began is in it.
			var err error
			if folded, err = s.foldSubs(tx); err != nil {
				return err
			}
			prefix := []byte(string(n.Type) + "\x00")
			c := tx.Bucket(bucketSubs).Cursor()
			k, v := c.Seek(prefix)
			if n.Cursor != nil {
				k, v = c.Seek(append(append([]byte{}, prefix...), n.Cursor...))
				if k != nil && bytes.Equal(k[len(prefix):], n.Cursor) {
					k, v = c.Next()
				}
			}
			add := make([]newRecipient, 0, expandChunk)
			for ; k != nil && bytes.HasPrefix(k, prefix) && len(add) < expandChunk; k, v = c.Next() {
				add = append(add, newRecipient{ck: k[len(prefix):], mask: v[0]})
			}
			if len(add) > 0 {
				n.Cursor = bytes.Clone(add[len(add)-1].ck)
			}
			if err := s.addRecipients(tx, &n, add); err != nil {
				return err
			}
			if k == nil || !bytes.HasPrefix(k, prefix) {
				n.Status, n.Cursor = allimi.StatusSending, nil
				if n.AllSent() {
					n.Status = allimi.StatusDone // the dispatcher kept up with the expansion
				}
			}
			if err := putNotification(tx, &n); err != nil {
				return err
			}
			if each != nil {
				// Under the write lock, so the dispatcher's own updates,
				// made under it too, are never overtaken by an older one.
				each(n)
			}
			return nil
		})
		if err == nil {
			s.subsPending.Add(-int64(folded))
		}
		if err != nil || n.Status != allimi.StatusExpanding {
			return n, err
		}
	}
}

// putShared stores what every recipient's detail page shows.
func (s *Store) putShared(tx *bbolt.Tx, n *allimi.Notification) error {
	if s.Details == nil {
		return nil
	}
	return s.Details.PutShared(detail.BoltTx(tx), detail.NoticeKey(n.ID), detail.NoticeDetail(n))
}

// GetNotification reads one notification.
func (s *Store) GetNotification(id uint64) (allimi.Notification, error) {
	var n allimi.Notification
	err := s.db.View(func(tx *bbolt.Tx) error { return getNotification(tx, id, &n) })
	return n, err
}

// ActiveNotifications lists notifications still expanding or sending.
func (s *Store) ActiveNotifications() ([]allimi.Notification, error) {
	var out []allimi.Notification
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketNotifications).ForEach(func(_, v []byte) error {
			var n allimi.Notification
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			if n.Status == allimi.StatusExpanding || n.Status == allimi.StatusSending {
				out = append(out, n)
			}
			return nil
		})
	})
	return out, err
}

func getNotification(tx *bbolt.Tx, id uint64, n *allimi.Notification) error {
	v := tx.Bucket(bucketNotifications).Get(u64(id))
	if v == nil {
		return fmt.Errorf("notification %d: %w", id, allimi.ErrNotFound)
	}
	return json.Unmarshal(v, n)
}

func putNotification(tx *bbolt.Tx, n *allimi.Notification) error {
	v, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketNotifications).Put(u64(n.ID), v)
}

// A notification's recipients are stored recipientsPerBlock to an entry,
// in the order of their sequence numbers (from 1): a campaign writes and
// reads a thirty-first of the entries it would one by one. 31 recipients
// without parameters (42 bytes each) make an entry of 1,330 bytes with
// bbolt's element header and key, three to a 4 KiB page (97.8% full);
// 32 would fit only two.
const (
	recipientsPerBlock  = 31
	recipientBlockBytes = recipientsPerBlock * (recipientFixed + 1)
)

// RecipientBlockKey is the key of the block that holds recipient seq.
func recipientBlockKey(id uint64, seq uint32) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 12), id)
	return binary.BigEndian.AppendUint32(k, (seq-1)/recipientsPerBlock)
}

// appendRecipient appends one recipient to a block: citizen key(32) |
// channel mask(1) | detail token number(8) | length of the parameters
// (uvarint) | parameters as JSON. The person's sealed contact stays in the
// subs index, where the dispatcher reads it in the same order: a copy here
// would double what a campaign touches.
func appendRecipient(v, ck []byte, mask byte, token uint64, params map[string]string) []byte {
	v = append(v, ck...)
	v = append(v, mask)
	v = binary.BigEndian.AppendUint64(v, token)
	if len(params) == 0 {
		return append(v, 0)
	}
	p, _ := json.Marshal(params)
	v = binary.AppendUvarint(v, uint64(len(p)))
	return append(v, p...)
}

// recipient is a decoded recipients entry.
type recipient struct {
	Seq    uint32
	CK     []byte
	Mask   byte
	Token  uint64 // number of the detail page token; 0 when central issues no links
	Params map[string]string
}

const recipientFixed = 32 + 1 + 8

var errDamagedRecipients = errors.New("damaged recipients entry")

// recipientBlock walks one stored block of recipients.
type recipientBlock struct {
	seq  uint32 // of the next recipient
	rest []byte
}

func openRecipientBlock(k, v []byte) (recipientBlock, error) {
	if len(k) != 12 || len(v) == 0 {
		return recipientBlock{}, errDamagedRecipients
	}
	return recipientBlock{seq: binary.BigEndian.Uint32(k[8:])*recipientsPerBlock + 1, rest: v}, nil
}

// Next decodes the next recipient; ok is false after the last.
func (b *recipientBlock) Next() (r recipient, ok bool, err error) {
	p, ok, err := b.step(&r)
	if !ok || err != nil || len(p) == 0 {
		return r, ok, err
	}
	var params map[string]string // not &r.Params: r would move to the heap
	if err := json.Unmarshal(p, &params); err != nil {
		return r, false, fmt.Errorf("recipient %d params: %w", r.Seq, err)
	}
	r.Params = params
	return r, true, nil
}

// SkipTo passes over the recipients before seq without decoding their
// parameters.
func (b *recipientBlock) SkipTo(seq uint32) error {
	for b.seq < seq && len(b.rest) > 0 {
		var r recipient
		if _, _, err := b.step(&r); err != nil {
			return err
		}
	}
	return nil
}

// step reads the next recipient's fixed part into r and returns its raw
// parameters.
func (b *recipientBlock) step(r *recipient) ([]byte, bool, error) {
	if len(b.rest) == 0 {
		return nil, false, nil
	}
	v := b.rest
	if len(v) < recipientFixed+1 {
		return nil, false, errDamagedRecipients
	}
	*r = recipient{Seq: b.seq, CK: v[:32:32], Mask: v[32], Token: binary.BigEndian.Uint64(v[33:])}
	n, w := binary.Uvarint(v[recipientFixed:])
	if w <= 0 || n > uint64(len(v)-recipientFixed-w) {
		return nil, false, errDamagedRecipients
	}
	start := recipientFixed + w
	b.rest, b.seq = v[start+int(n):], b.seq+1
	return v[start : start+int(n)], true, nil
}

// getRecipient reads recipient seq of notification id; ok is false when
// there is none.
func getRecipient(tx *bbolt.Tx, id uint64, seq uint32) (r recipient, ok bool, err error) {
	k := recipientBlockKey(id, seq)
	v := tx.Bucket(bucketRecipients).Get(k)
	if v == nil || seq == 0 {
		return r, false, nil
	}
	b, err := openRecipientBlock(k, v)
	if err != nil {
		return r, false, err
	}
	if err := b.SkipTo(seq); err != nil {
		return r, false, err
	}
	if b.seq != seq {
		return r, false, nil
	}
	return b.Next()
}
