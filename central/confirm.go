package central

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"

	"allimi"
	"allimi/central/channel"
	"allimi/central/template"
)

// bucketConfirmations holds the sign-ups made without a verified number
// (the kiosk was offline, or the person skipped the code) until their
// owners have been told by SMS. The entry is written in the transaction
// that stores the sign-up, so a crash forgets none.
var bucketConfirmations = []byte("confirmations") // kiosk 0x00 seq(8) → citizen key(32) | signed up at, ms(8)

func queueConfirmation(tx *bbolt.Tx, e *allimi.Event, ck []byte) error {
	v := binary.BigEndian.AppendUint64(append([]byte{}, ck...), uint64(allimi.HLCTime(e.HLC).UnixMilli()))
	return tx.Bucket(bucketConfirmations).Put(eventKey(e.Kiosk, e.Seq), v)
}

// pendingConfirmation is one confirmation to send.
type pendingConfirmation struct {
	key     []byte
	citizen allimi.Citizen
	at      time.Time
}

// PendingConfirmations returns up to n confirmations still to send.
func (s *Store) pendingConfirmations(n int) ([]pendingConfirmation, error) {
	var out []pendingConfirmation
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketConfirmations).Cursor()
		for k, v := c.First(); k != nil && len(out) < n; k, v = c.Next() {
			if len(v) != 40 {
				continue // damaged: doneConfirmations drops it
			}
			cit, err := s.citizen(tx, v[:32])
			if err != nil {
				return err
			}
			out = append(out, pendingConfirmation{key: append([]byte{}, k...), citizen: cit,
				at: time.UnixMilli(int64(binary.BigEndian.Uint64(v[32:])))})
		}
		return nil
	})
	return out, err
}

// doneConfirmations deletes sent (or refused) confirmations.
func (s *Store) doneConfirmations(keys [][]byte) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketConfirmations)
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ConfirmationsPending counts the confirmations not yet sent.
func (s *Store) ConfirmationsPending() (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketConfirmations).Stats().KeyN
		return nil
	})
	return n, err
}

// confirmer sends the confirmations by SMS, through the same gateway as
// the notices, with an idempotency key per sign-up and a send-intent
// (queueintents.go) so that a crash between sending and deleting sends
// nothing twice.
type confirmer struct {
	store *Store
	sms   channel.Adapter
	msgs  *template.System
	log   *slog.Logger
	queue sendQueue
}

func (c *confirmer) run(ctx context.Context) {
	c.queue.run(ctx, c.log, "sign-up confirmations", c.once)
}

// once sends one batch; it returns how many it settled.
func (c *confirmer) once(ctx context.Context) (int, error) {
	pend, err := c.store.pendingConfirmations(c.sms.MaxBatch())
	if err != nil || len(pend) == 0 {
		return 0, err
	}
	msgs := make([]channel.Message, len(pend))
	for i, p := range pend {
		at := p.at.In(kst)
		text, lms, err := c.msgs.Render(template.SignupConfirmation, map[string]string{
			"name": p.citizen.Name, "date": at.Format("1월 2일")})
		if err != nil {
			return 0, err
		}
		sum := sha256.Sum256(p.key)
		msgs[i] = channel.Message{Key: "cf-" + base64.RawURLEncoding.EncodeToString(sum[:16]), Recipient: p.citizen.Mobile,
			Text: text, LMS: lms, Title: "알리미"}
	}
	results, err := c.store.sendOnce(ctx, c.sms, msgs)
	if err != nil {
		return 0, err
	}
	if len(results) != len(msgs) {
		return 0, errors.New("the SMS gateway answered for a different number of messages")
	}
	var done [][]byte
	for i, r := range results {
		switch r.Status {
		case channel.Accepted:
			done = append(done, pend[i].key)
		case channel.Rejected:
			// A number the gateway refuses will not become valid by waiting.
			c.log.Warn("sign-up confirmation refused", "code", r.Code)
			done = append(done, pend[i].key)
		}
	}
	if len(done) == 0 {
		return 0, errors.New("the SMS gateway accepted none")
	}
	if err := c.store.doneConfirmations(done); err != nil {
		return 0, err
	}
	keys := make([]string, len(msgs))
	for i := range msgs {
		keys[i] = msgs[i].Key
	}
	return len(done), c.store.queueSettled(c.sms.Channel(), keys...)
}
