package requests

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"allimi"
	"allimi/sync/wire"
)

// A kiosk fetches an answer with the receipt code a person brings back.
// Codes are random (50 bits), and each kiosk may get only a few wrong per
// window, so trying codes at a kiosk finds nothing.
const (
	questionTriesMax    = 10
	questionTriesWindow = 10 * time.Minute
)

// codeTries counts a kiosk's unknown codes in the current window.
type codeTries struct {
	mu    sync.Mutex
	tries map[string]*tryWindow
}

type tryWindow struct {
	start time.Time
	n     int
}

// blocked reports whether kiosk used up its wrong tries.
func (c *codeTries) blocked(kiosk string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tries[kiosk]
	return t != nil && now.Sub(t.start) < questionTriesWindow && t.n >= questionTriesMax
}

func (c *codeTries) fail(kiosk string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tries == nil {
		c.tries = map[string]*tryWindow{}
	}
	t := c.tries[kiosk]
	if t == nil || now.Sub(t.start) >= questionTriesWindow {
		t = &tryWindow{start: now}
		c.tries[kiosk] = t
	}
	t.n++
}

// questionAnswer answers OpQuestionAnswer.
func (r *Service) questionAnswer(kiosk string, req wire.Request, rep wire.Reply) wire.Reply {
	fail := func(code string, err error) wire.Reply {
		rep.OK, rep.Code, rep.Error = false, code, err.Error()
		return rep
	}
	now := r.now()
	if r.qtries.blocked(kiosk, now) {
		return fail("too-many-tries", fmt.Errorf("too many unknown receipt codes from this kiosk: wait %s", questionTriesWindow))
	}
	code, ok := allimi.NormalizeReceiptCode(req.Code)
	if !ok {
		r.qtries.fail(kiosk, now)
		return fail("invalid", fmt.Errorf("receipt code %q: 12 letters and digits as on the slip (10 on older slips)", req.Code))
	}
	q, err := r.store.QuestionByCode(code)
	switch {
	case errors.Is(err, allimi.ErrNotFound), err == nil && q.CodeReused:
		r.qtries.fail(kiosk, now)
		return fail("not-found", errors.New("no such question: check the receipt code on the slip"))
	case err != nil:
		r.log.Error("question by code", "err", err)
		return fail("unavailable", errors.New("central could not read its questions"))
	}
	rep.Answered, rep.Answer = q.AnsweredAt != nil, q.Answer
	return rep
}
