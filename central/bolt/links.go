package bolt

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/detail"
)

// bucketTokenRanges maps the first detail token number of each range of
// recipients to the notification and the range's first recipient, so a
// Token finds its recipient.

// links derives the secret part of every recipient's detail link from a key
// only central holds. The same recipient always gets the same link, so a
// resent message is the same message; and the page is answered from the
// notification's own records (ResolveToken) instead of a stored copy per
// recipient.
type links struct {
	key  []byte
	macs sync.Pool // HMAC states keyed with key: one per message is costly
}

func newLinks(hashKey []byte) *links {
	mac := hmac.New(sha256.New, hashKey)
	mac.Write([]byte("allimi detail link"))
	return &links{key: mac.Sum(nil)}
}

// Secret is recipient seq of notification id's link secret.
func (l *links) Secret(id uint64, seq uint32) [16]byte {
	m, _ := l.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, l.key)
	}
	m.Reset()
	var b [12]byte
	binary.BigEndian.PutUint64(b[:], id)
	binary.BigEndian.PutUint32(b[8:], seq)
	m.Write(b[:])
	var sum [sha256.Size]byte
	var secret [16]byte
	copy(secret[:], m.Sum(sum[:0]))
	l.macs.Put(m)
	return secret
}

// ResolveToken implements detail.Resolver: token number seq belongs to the
// recipient range that starts at or before it. The page exists once a
// provider has accepted the message on some channel; it speaks the
// language the person last signed up in, as the messages to them do.
func (s *Store) ResolveToken(tx *bbolt.Tx, seq uint64, secret [16]byte) (detail.Resolved, bool, error) {
	n, r, ok, err := recipientOfToken(tx, seq)
	if err != nil || !ok {
		return detail.Resolved{}, false, err
	}
	rseq := r.Seq
	want := s.links.Secret(n.ID, rseq)
	if r.Token != seq || !hmac.Equal(want[:], secret[:]) || !sentSomewhere(tx, n.ID, rseq) {
		return detail.Resolved{}, false, nil
	}
	it, err := s.outgoingFor(tx, &n, r, "")
	if err != nil {
		return detail.Resolved{}, false, err
	}
	return detail.Resolved{Fields: detail.RecipientFieldsIn(&n, r.Params, it.Lang), Shared: detail.NoticeKey(n.ID),
		BirthDate: it.Citizen.BirthDate, Expires: n.ExpiresAt, Lang: it.Lang}, true, nil
}

// recipientOfToken finds the recipient whose detail token is number seq.
func recipientOfToken(tx *bbolt.Tx, seq uint64) (allimi.Notification, recipient, bool, error) {
	var n allimi.Notification
	c := tx.Bucket(bucketTokenRanges).Cursor()
	k, v := c.Seek(u64(seq))
	if k == nil || !bytes.Equal(k, u64(seq)) {
		k, v = c.Prev()
	}
	if k == nil || len(v) != 12 {
		return n, recipient{}, false, nil
	}
	if err := getNotification(tx, binary.BigEndian.Uint64(v), &n); err != nil {
		return n, recipient{}, false, nil // purged
	}
	off := seq - binary.BigEndian.Uint64(k)
	if off >= 1<<31 {
		return n, recipient{}, false, nil
	}
	r, ok, err := getRecipient(tx, n.ID, binary.BigEndian.Uint32(v[8:])+uint32(off))
	return n, r, ok && err == nil, err
}

// auditDetailView is detail.Options.OnView: one audit entry per page shown.
func (s *Store) auditDetailView(seq uint64) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		n, r, ok, err := recipientOfToken(tx, seq)
		if err != nil {
			return err
		}
		var ck []byte
		what := fmt.Sprintf("detail token %d", seq)
		if ok {
			ck, what = r.CK, fmt.Sprintf("notification %d (%s)", n.ID, n.Type)
		}
		return s.audit(tx, allimi.AuditDetailView, ck, "web", what)
	})
}

// sentSomewhere reports whether a provider accepted recipient seq's
// message on any channel.
func sentSomewhere(tx *bbolt.Tx, id uint64, seq uint32) bool {
	for _, ch := range allimi.Channels {
		if d, ok, err := getDelivery(tx, allimi.DeliveryRef{Notification: id, Seq: seq, Channel: ch}); ok && err == nil && (d.State == allimi.DeliveryAccepted || d.State == allimi.DeliveryDelivered) {
			return true
		}
	}
	return false
}
