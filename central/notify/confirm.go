package notify

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"

	"allimi"
	"allimi/central/channel"
	"allimi/central/template"
)

// Confirmer sends the confirmations by SMS, through the same gateway as
// the notices, with an idempotency key per sign-up and a send-intent
// (SendOnce) so that a crash between sending and deleting sends
// nothing twice.
type Confirmer struct {
	// Store holds the confirmations to send and the send-intents that
	// keep them from going twice.
	Store interface {
		allimi.Confirmations
		allimi.QueueIntents
	}
	SMS   channel.Adapter
	Msgs  *template.System
	Log   *slog.Logger
	Queue Queue
}

func (c *Confirmer) Run(ctx context.Context) {
	c.Queue.Run(ctx, c.Log, "sign-up confirmations", c.once)
}

// once sends one batch; it returns how many it settled.
func (c *Confirmer) once(ctx context.Context) (int, error) {
	pend, err := c.Store.PendingConfirmations(c.SMS.MaxBatch())
	if err != nil || len(pend) == 0 {
		return 0, err
	}
	msgs := make([]channel.Message, len(pend))
	for i, p := range pend {
		at := p.At.In(allimi.KST)
		text, lms, err := c.Msgs.Render(template.SignupConfirmation, map[string]string{
			"name": p.Citizen.Name, "date": at.Format("1월 2일")})
		if err != nil {
			return 0, err
		}
		sum := sha256.Sum256(p.Key)
		msgs[i] = channel.Message{Key: "cf-" + base64.RawURLEncoding.EncodeToString(sum[:16]), Recipient: p.Citizen.Mobile,
			Text: text, LMS: lms, Title: "알리미"}
	}
	results, err := SendOnce(ctx, c.Store, c.SMS, msgs)
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
			c.Log.Warn("sign-up confirmation refused", "code", r.Code)
			done = append(done, pend[i].Key)
		}
	}
	if len(done) == 0 {
		return 0, errors.New("the SMS gateway accepted none")
	}
	if err := c.Store.DoneConfirmations(done); err != nil {
		return 0, err
	}
	keys := make([]string, len(msgs))
	for i := range msgs {
		keys[i] = msgs[i].Key
	}
	return len(done), c.Store.QueueSettled(c.SMS.Channel(), keys...)
}
