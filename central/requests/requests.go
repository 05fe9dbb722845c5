package requests

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"time"

	"allimi"
	"allimi/central/channel"
	"allimi/central/template"
	"allimi/central/throttle"
	"allimi/sync/wire"
)

// Service answers kiosks' requests (wire.Request): verification codes and
// the consent conflicts their officials settle.
type Service struct {
	store  Store
	limits Limits
	sms    channel.Adapter
	msgs   *template.System
	log    *slog.Logger
	now    func() time.Time
	key    []byte // keys the hashes of codes held in memory

	mu      sync.Mutex
	codes   map[string]*sentCode // kiosk 0x00 mobile → the code sent
	pending map[string]int       // kiosk → its codes in codes

	qtries codeTries // unknown question receipt codes per kiosk
}

type sentCode struct {
	hash    [32]byte
	sentAt  time.Time
	expires time.Time
	tries   int
}

// Store is what the requests read and settle: consent conflicts and
// questions' answers.
type Store interface {
	allimi.Registry
	allimi.Questions
}

// Limits bound what kiosks ask for: wrong verification codes, and
// verification SMS per kiosk per hour and per day. Each is persisted
// (central/throttle) so that a restart unlocks nothing.
type Limits struct {
	Check           *throttle.Limiter
	Hour, Day       *throttle.Limiter
	PerHour, PerDay int
}

// New answers kiosks' requests from store, within limits, sending codes
// through sms (nil: none can be sent) in the words of msgs.
func New(store Store, limits Limits, sms channel.Adapter, msgs *template.System, log *slog.Logger) *Service {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Service{store: store, limits: limits, sms: sms, msgs: msgs, log: log.With("component", "requests"), now: time.Now,
		key: key, codes: map[string]*sentCode{}, pending: map[string]int{}}
}

func (r *Service) hash(code string) [32]byte {
	m := hmac.New(sha256.New, r.key)
	m.Write([]byte(code))
	var h [32]byte
	copy(h[:], m.Sum(nil))
	return h
}

// Answer handles one request of kiosk.
func (r *Service) Answer(ctx context.Context, kiosk string, req wire.Request) wire.Reply {
	rep := wire.Reply{V: 1, ID: req.ID, OK: true}
	fail := func(code string, err error) wire.Reply {
		rep.OK, rep.Code, rep.Error = false, code, err.Error()
		return rep
	}
	switch req.Op {
	case wire.OpSendCode, wire.OpCheckCode:
		mobile, err := allimi.NormalizeMobile(req.Mobile)
		if err != nil {
			return fail("invalid", err)
		}
		if req.Op == wire.OpSendCode {
			if code, err := r.sendCode(ctx, kiosk, mobile); err != nil {
				return fail(code, err)
			}
			return rep
		}
		if code, err := r.checkCode(kiosk, mobile, req.Code); err != nil {
			return fail(code, err)
		}
		return rep
	case wire.OpListConflicts:
		cs, err := r.conflicts(kiosk)
		if err != nil {
			r.log.Error("conflicts for a kiosk", "kiosk", kiosk, "err", err)
			return fail("unavailable", errors.New("central could not read its conflicts"))
		}
		rep.Conflicts = cs
		return rep
	case wire.OpResolveConflict:
		if code, err := r.resolve(kiosk, req); err != nil {
			return fail(code, err)
		}
		return rep
	case wire.OpQuestionAnswer:
		return r.questionAnswer(kiosk, req, rep)
	}
	return fail("invalid", fmt.Errorf("unknown op %q", req.Op))
}

func (r *Service) sendCode(ctx context.Context, kiosk, mobile string) (string, error) {
	now := r.now()
	k := kiosk + "\x00" + mobile
	r.mu.Lock()
	if c := r.codes[k]; c != nil && now.Sub(c.sentAt) < allimi.VerifyCodeResend {
		r.mu.Unlock()
		return "too-soon", fmt.Errorf("a code was sent %s ago: wait %s", now.Sub(c.sentAt).Round(time.Second), allimi.VerifyCodeResend)
	}
	r.purgeLocked(now)
	if r.pending[kiosk] >= allimi.VerifyCodeMaxPerKiosk {
		r.mu.Unlock()
		return "unavailable", fmt.Errorf("this kiosk has %d codes waiting: try again in %s", allimi.VerifyCodeMaxPerKiosk, allimi.VerifyCodeLifetime)
	}
	if len(r.codes) >= allimi.VerifyCodeMaxActive {
		r.mu.Unlock()
		return "unavailable", errors.New("too many codes waiting: try again later")
	}
	r.mu.Unlock()
	if code, err := r.spendQuota(kiosk); err != nil {
		return code, err
	}

	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "unavailable", err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	text, lms, err := r.msgs.Render(template.VerificationCode, map[string]string{
		"code": code, "minutes": fmt.Sprint(int(allimi.VerifyCodeLifetime.Minutes()))})
	if err != nil {
		return "unavailable", err
	}
	var id [12]byte
	_, _ = rand.Read(id[:])
	res, err := r.sms.Send(ctx, []channel.Message{{Key: "vc-" + base64.RawURLEncoding.EncodeToString(id[:]),
		Recipient: mobile, Text: text, LMS: lms, Title: "알리미"}})
	switch {
	case err != nil:
		r.log.Warn("verification code not sent", "kiosk", kiosk, "err", err)
		return "unavailable", errors.New("the SMS gateway is not answering")
	case len(res) != 1 || res[0].Status != channel.Accepted:
		return "unavailable", errors.New("the SMS gateway did not accept the code")
	}
	r.mu.Lock()
	if r.codes[k] == nil {
		r.pending[kiosk]++
	}
	r.codes[k] = &sentCode{hash: r.hash(code), sentAt: now, expires: now.Add(allimi.VerifyCodeLifetime)}
	r.mu.Unlock()
	return "", nil
}

func (r *Service) checkCode(kiosk, mobile, code string) (string, error) {
	now := r.now()
	k := kiosk + "\x00" + mobile
	// Besides each code's own tries, wrong codes are counted per number
	// and per kiosk in central's file: asking for new codes, or a
	// restart, buys no more guesses.
	tries := r.limits.Check
	if err := tries.Allow(kiosk, k); err != nil {
		return "too-many-tries", fmt.Errorf("too many wrong codes: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.codes[k]
	switch {
	case c == nil:
		return "not-found", errors.New("no code was sent to this number from this kiosk")
	case !now.Before(c.expires):
		r.forgetLocked(k, kiosk)
		return "expired", errors.New("the code has expired: ask for a new one")
	case c.tries >= allimi.VerifyCodeMaxTries:
		return "too-many-tries", errors.New("too many wrong codes: ask for a new one")
	}
	h := r.hash(code)
	if !hmac.Equal(h[:], c.hash[:]) {
		c.tries++
		if _, err := tries.Count(kiosk, k); err != nil && !errors.Is(err, throttle.ErrBusy) {
			r.log.Error("counting a wrong code", "kiosk", kiosk, "err", err)
		}
		if c.tries >= allimi.VerifyCodeMaxTries {
			return "too-many-tries", errors.New("too many wrong codes: ask for a new one")
		}
		return "wrong-code", fmt.Errorf("wrong code: %d tries left", allimi.VerifyCodeMaxTries-c.tries)
	}
	r.forgetLocked(k, kiosk)
	if err := tries.Reset(k); err != nil {
		r.log.Error("resetting wrong codes", "kiosk", kiosk, "err", err)
	}
	return "", nil
}

func (r *Service) forgetLocked(k, kiosk string) {
	if r.codes[k] == nil {
		return
	}
	delete(r.codes, k)
	if r.pending[kiosk]--; r.pending[kiosk] <= 0 {
		delete(r.pending, kiosk)
	}
}

// spendQuota takes one verification SMS from kiosk's quotas, or says why
// not: over quota, the kiosk is told and no SMS is sent.
func (r *Service) spendQuota(kiosk string) (string, error) {
	l := r.limits
	for _, q := range []struct {
		lim *throttle.Limiter
		per string
		max int
	}{{l.Hour, "hour", l.PerHour}, {l.Day, "day", l.PerDay}} {
		err := q.lim.Take("", kiosk)
		var locked *throttle.LockedError
		switch {
		case errors.As(err, &locked):
			r.log.Warn("verification SMS over quota", "kiosk", kiosk, "per", q.per, "max", q.max)
			return "over-quota", fmt.Errorf("this kiosk has sent its %d verification codes for this %s: sign up without one, or try again after %s",
				q.max, q.per, locked.Until.In(allimi.KST).Format("15:04"))
		case err != nil:
			return "unavailable", fmt.Errorf("verification quota: %w", err)
		}
	}
	return "", nil
}

// purgeLocked forgets expired codes.
func (r *Service) purgeLocked(now time.Time) {
	for k, c := range r.codes {
		if !now.Before(c.expires) {
			kiosk, _, _ := strings.Cut(k, "\x00")
			r.forgetLocked(k, kiosk)
		}
	}
}

// Conflicts lists the unresolved conflicts one of whose sides came from
// kiosk: its officials can ask the person.
func (r *Service) conflicts(kiosk string) ([]allimi.Conflict, error) {
	all, err := r.store.Conflicts(false)
	if err != nil {
		return nil, err
	}
	out := []allimi.Conflict{}
	for _, c := range all {
		if c.Grant.Kiosk == kiosk || c.Withdrawal.Kiosk == kiosk {
			out = append(out, c)
		}
	}
	return out, nil
}

func (r *Service) resolve(kiosk string, req wire.Request) (string, error) {
	cs, err := r.conflicts(kiosk)
	if err != nil {
		return "unavailable", err
	}
	found := false
	for _, c := range cs {
		found = found || c.ID == req.Conflict
	}
	if !found {
		return "not-found", fmt.Errorf("conflict %d: not an open conflict of this kiosk", req.Conflict)
	}
	if req.Official == "" {
		return "invalid", errors.New("official: empty: the signed-in official's id is required")
	}
	if err := r.store.ResolveConflict(req.Conflict, req.Decision, kiosk+"/"+req.Official); err != nil {
		if errors.Is(err, allimi.ErrInvalid) {
			return "invalid", err
		}
		return "unavailable", err
	}
	r.log.Info("conflict resolved at a kiosk", "conflict", req.Conflict, "kiosk", kiosk, "decision", req.Decision)
	return "", nil
}
