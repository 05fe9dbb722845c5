package notify

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"allimi"
	"allimi/central/channel"
)

// send renders and sends one batch; a tripped provider's batch falls back
// without a request.
func (d *Dispatcher) send(ctx context.Context, ch allimi.Channel, a channel.Adapter, j *job) {
	if len(j.b.items) == 0 || j.err != nil {
		return
	}
	if open, _ := d.breakers[ch].isOpen(d.cfg.Now()); open {
		j.sendErr = &channel.UnavailableError{Err: errors.New("circuit open")}
		return
	}
	if j.msgs, j.err = d.render(j.b); j.err != nil {
		return
	}
	if sh := d.cfg.Shared; sh != nil {
		if !sh.enter(ctx, ch) {
			return // stopping: nothing is recorded, as below
		}
		defer sh.leave(ch)
	}
	for i := range j.msgs {
		j.msgs[i].Group = channel.GroupName(j.group)
	}
	start := time.Now()
	j.results, j.sendErr = a.Send(ctx, j.msgs)
	if ctx.Err() != nil {
		return // nothing is recorded: the committer stops at this batch
	}
	d.metrics.providerSeconds.WithLabelValues(string(ch)).Observe(time.Since(start).Seconds())
	if j.sendErr == nil && len(j.results) != len(j.msgs) {
		j.sendErr = &channel.UnavailableError{Err: fmt.Errorf("%d results for %d messages", len(j.results), len(j.msgs))}
	}
	d.trip(ch, j.sendErr)
	d.lookUpLost(ctx, a, j, start)
}

// lookUpLost asks the provider what it took of a batch whose request
// failed without saying it took nothing (channel.UnavailableError: a
// timeout, a dropped connection, a 5xx), since NHN Cloud and Naver SENS
// take a resend as new messages. What the provider has is recorded as
// accepted, the rest as the failure it was, to be retried. A provider that
// cannot be asked leaves the batch to be retried as before: the one case
// left in which a provider that does not deduplicate may get a message twice.
func (d *Dispatcher) lookUpLost(ctx context.Context, a channel.Adapter, j *job, sent time.Time) {
	var ue *channel.UnavailableError
	finder, ok := a.(channel.Finder)
	if !ok || !errors.As(j.sendErr, &ue) || errors.Is(ue.Err, syscall.ECONNREFUSED) {
		return // nothing to ask, or nothing reached the provider
	}
	res, err := finder.Find(ctx, sent, j.msgs)
	if err == nil && len(res) != len(j.msgs) {
		err = fmt.Errorf("%d answers for %d messages", len(res), len(j.msgs))
	}
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("a request failed and the provider cannot say what it took: it is sent again",
				"channel", a.Channel(), "messages", len(j.msgs), "sendErr", j.sendErr, "err", err)
		}
		return
	}
	for i := range res {
		if res[i].Status != channel.Accepted {
			res[i] = channel.Result{Key: j.msgs[i].Key, Status: channel.NotFound, Code: "unanswered", Reason: j.sendErr.Error()}
		}
	}
	j.results, j.sendErr = res, nil
}
