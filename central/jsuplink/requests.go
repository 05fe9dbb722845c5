package jsuplink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"allimi/central/natsconf"
	"allimi/sync/wire"
)

// maxAnswering bounds the requests one worker answers at once; beyond it
// the subscription waits (NATS keeps what arrives meanwhile).
const maxAnswering = 256

// Answer answers one request of a kiosk: reply is published on the kiosk's
// reply topic when ok.
type Answer func(ctx context.Context, kiosk string, payload []byte) (reply []byte, ok bool)

// ServeRequests subscribes to every kiosk's request topic in the workers'
// queue group, so that each request is answered by one worker, and
// returns once the servers have the subscription. Each request is
// answered on a goroutine of its own (a slow SMS gateway must not hold up
// the others), with ctx; the subscription, which outlives reconnections,
// ends with ctx or Close.
func (u *Uplink) ServeRequests(ctx context.Context, answer Answer) error {
	slots := make(chan struct{}, maxAnswering)
	sub, err := u.nc.QueueSubscribe(requestSubject, u.cfg.QueueGroup, func(m *nats.Msg) {
		kiosk, ok := wire.ParseRequestTopic(topic(m.Subject))
		if !ok {
			u.log.Warn("request on an unknown subject ignored", "subject", m.Subject)
			return
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		go func() {
			defer func() { <-slots }()
			reply, ok := answer(ctx, kiosk, m.Data)
			if !ok {
				return
			}
			if err := u.nc.Publish(natsconf.Subject(wire.ReplyTopic(kiosk)), reply); err != nil {
				u.log.Warn("reply not sent", "kiosk", kiosk, "err", err)
			}
		}()
	})
	if err != nil {
		return fmt.Errorf("uplink: subscribe to %s: %w", requestSubject, err)
	}
	// The server has the subscription once it answers a flush; a refused
	// one (permissions) is reported by then.
	if err := u.nc.FlushTimeout(10 * time.Second); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("uplink: subscribe to %s: %w", requestSubject, err)
	}
	if err := u.nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), requestSubject) {
		_ = sub.Unsubscribe()
		return fmt.Errorf("uplink: subscribe to %s: %w", requestSubject, err)
	}
	context.AfterFunc(ctx, func() { _ = sub.Unsubscribe() })
	return nil
}
