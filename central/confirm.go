package central

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"

	"allimi"
	"allimi/central/bolt"
	"allimi/central/channel"
	"allimi/central/notify"
	"allimi/central/template"
)

// confirmer sends the confirmations by SMS, through the same gateway as
// the notices, with an idempotency key per sign-up and a send-intent
// (notify.SendOnce) so that a crash between sending and deleting sends
// nothing twice.
type confirmer struct {
	store *bolt.Store
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
	pend, err := c.store.PendingConfirmations(c.sms.MaxBatch())
	if err != nil || len(pend) == 0 {
		return 0, err
	}
	msgs := make([]channel.Message, len(pend))
	for i, p := range pend {
		at := p.At.In(allimi.KST)
		text, lms, err := c.msgs.Render(template.SignupConfirmation, map[string]string{
			"name": p.Citizen.Name, "date": at.Format("1월 2일")})
		if err != nil {
			return 0, err
		}
		sum := sha256.Sum256(p.Key)
		msgs[i] = channel.Message{Key: "cf-" + base64.RawURLEncoding.EncodeToString(sum[:16]), Recipient: p.Citizen.Mobile,
			Text: text, LMS: lms, Title: "알리미"}
	}
	results, err := notify.SendOnce(ctx, c.store, c.sms, msgs)
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
			done = append(done, pend[i].Key)
		case channel.Rejected:
			// A number the gateway refuses will not become valid by waiting.
			c.log.Warn("sign-up confirmation refused", "code", r.Code)
			done = append(done, pend[i].Key)
		}
	}
	if len(done) == 0 {
		return 0, errors.New("the SMS gateway accepted none")
	}
	if err := c.store.DoneConfirmations(done); err != nil {
		return 0, err
	}
	keys := make([]string, len(msgs))
	for i := range msgs {
		keys[i] = msgs[i].Key
	}
	return len(done), c.store.QueueSettled(c.sms.Channel(), keys...)
}
