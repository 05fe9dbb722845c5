package channel

// The kakao channel's two providers. KakaoTalk AlimTalk goes through NHN
// Cloud (kakao.go) and, while NHN is down, through Naver Cloud SENS
// (sens.go), which resells the same AlimTalk; it comes back to NHN once NHN
// recovers. Without SENS credentials ([naver]) the channel is NHN alone.
//
// When NHN counts as down. NHN requests that fail as unavailable (a 5xx, a
// timeout, a connection refused or dropped, an answer that cannot be read)
// are counted; after KakaoConfig.FailoverAfter of them in a row (default 3)
// NHN is skipped for FailoverCooldown (default 30s): every batch goes to
// SENS. The first batch after the cooldown tries NHN again: an answer (any
// answer, even a refusal or a 429) closes the circuit, a failure opens it
// again. Anything else NHN says is no reason to fail over: a message
// rejected (not a KakaoTalk user, a bad number) is rejected on KakaoTalk
// whoever carries it, a 429 is a rate limit to wait out, and a refused
// request (credentials, template) is a configuration to fix.
//
// Each message at most once. NHN and SENS both take a resent message as a
// new one, and neither knows what the other took, so a message must never
// go to one provider while the other may have it. The rule:
//
//   - A batch goes to SENS only when NHN certainly does not have it: NHN
//     was skipped (the circuit is open: nothing was sent to it), or the
//     connection to NHN could not be made (refused, or any failure to
//     dial: nothing reached it), in which case the batch fails over at
//     once, or NHN's result query (Find), asked after the failure, says it
//     lacks the messages.
//   - Any other NHN failure may have left the batch at NHN (a 5xx after
//     it took it, a timeout or a dropped connection after it sent it).
//     While NHN is not counted down, the batch's error is returned as it
//     is: the dispatcher then asks Find, which asks both providers
//     (below), records what was taken and sends the rest again later. The
//     failure that counts NHN down (and any that comes while it is down:
//     requests in flight, a probe) asks NHN's result query at once: what
//     NHN has is Accepted, the rest goes through SENS now; the query
//     failing, the batch's error is returned. So at most FailoverAfter-1
//     errors reach the dispatcher when NHN goes down, fewer than its
//     breaker's --breaker-failures (5), which would send KakaoTalk's
//     traffic to SMS: keep FailoverAfter below it.
//   - Every message whose request ended without an answer is remembered as
//     in doubt at that provider until a provider answers for it or that
//     provider's result query says whether it has it. Before a message in
//     doubt at one provider is sent to the other, that provider's result
//     query is asked (Find): taken there, it is Accepted; not there, it
//     goes; the query failing, it gets a Retry result (code "in-doubt")
//     and waits. Sent again to the same provider it is sent as before (the
//     dispatcher asked first).
//
// (The result query can be wrong for a moment: a request that timed out
// may still be in the provider's hands when we ask. This is the window the
// dispatcher's lost-answer lookup already lives with.)
//
// Find asks NHN first, then SENS for what NHN does not have, and merges:
// taken at either is Accepted. SENS is asked only when it may have the
// messages: SENS was sent something at or after since, or this process
// started after since (a crash: anything may have happened before).
//
// SENS takes at most 100 messages a request, NHN 1,000: a batch of the
// channel's MaxBatch (1,000) goes to SENS in requests of 100. If a later
// one fails, the earlier ones' results are kept and the rest get Retry, as
// a kakao batch with several templates does (sendGroups).
//
// Each provider has its own rate: NHN [kakao]'s, SENS [naver]'s (bucket
// "kakao.sens" when shared, see ShareRates). A log line says when NHN goes
// down and comes back; Stats counts the batches per provider and the
// failovers (central's allimi_provider_batches_total and
// allimi_provider_failovers_total).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"allimi"
)

// Provider names, in logs and metrics.
const (
	ProviderNHN  = "nhn"  // NHN Cloud AlimTalk
	ProviderSENS = "sens" // Naver Cloud SENS AlimTalk
)

const (
	defaultFailoverAfter    = 3
	defaultFailoverCooldown = 30 * time.Second
	// maxDoubts bounds the messages remembered as in doubt; past it the
	// oldest-known entries (older than doubtAge) are forgotten first.
	maxDoubts = 200_000
	doubtAge  = 24 * time.Hour
)

// provider is one of the kakao channel's providers.
type provider interface {
	Adapter
	Finder
}

type failover struct {
	nhn      *kakao
	sens     *sens
	after    int
	cooldown time.Duration
	started  time.Time
	now      func() time.Time
	log      atomic.Pointer[slog.Logger]

	mu        sync.Mutex
	failures  int       // NHN requests unavailable in a row
	downUntil time.Time // NHN skipped until then
	down      bool      // NHN counted as down (for the log line when it comes back)
	doubts    map[string]doubt

	lastSENS  atomic.Int64 // unix ns: when a SENS request last began
	batches   [2]atomic.Int64
	failovers atomic.Int64
}

// doubt is a message whose last request ended without an answer.
type doubt struct {
	at    int // pNHN or pSENS
	since time.Time
}

const (
	pNHN = iota
	pSENS
)

var providerNames = [2]string{ProviderNHN, ProviderSENS}

func newFailover(nhn *kakao, s *sens, cfg KakaoConfig) *failover {
	f := &failover{nhn: nhn, sens: s, after: cfg.FailoverAfter, cooldown: cfg.FailoverCooldown,
		started: time.Now(), now: time.Now, doubts: map[string]doubt{}}
	if f.after <= 0 {
		f.after = defaultFailoverAfter
	}
	if f.cooldown <= 0 {
		f.cooldown = defaultFailoverCooldown
	}
	f.log.Store(slog.Default())
	return f
}

func (f *failover) Channel() allimi.Channel { return allimi.ChannelKakao }
func (f *failover) MaxBatch() int           { return kakaoMaxBatch }

// shareRate makes both providers take their tokens from t, each from its
// own bucket.
func (f *failover) shareRate(t SharedTokens) {
	f.nhn.shareRate(t)
	f.sens.shareRate(t)
}

func (f *failover) setLogger(l *slog.Logger) { f.log.Store(l) }

func (f *failover) provider(p int) provider {
	if p == pNHN {
		return f.nhn
	}
	return f.sens
}

// nhnUp says whether this batch should try NHN: the circuit is closed, or
// its cooldown is over (this batch probes).
func (f *failover) nhnUp() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.now().Before(f.downUntil)
}

// nhnAnswered closes the circuit.
func (f *failover) nhnAnswered() {
	f.mu.Lock()
	was := f.down
	f.failures, f.downUntil, f.down = 0, time.Time{}, false
	f.mu.Unlock()
	if was {
		f.log.Load().Info("kakao: NHN Cloud answers again: sending through it", "channel", allimi.ChannelKakao, "provider", ProviderNHN)
	}
}

// nhnFailed counts an unavailable NHN request, and opens the circuit after
// f.after in a row (again at once when a probe fails). It says whether NHN
// now counts as down.
func (f *failover) nhnFailed(err error) bool {
	f.mu.Lock()
	f.failures++
	open := f.failures >= f.after || f.down
	var until time.Time
	if open {
		f.downUntil = f.now().Add(f.cooldown)
		f.down, f.failures, until = true, 0, f.downUntil
	}
	f.mu.Unlock()
	if open {
		f.log.Load().Warn("kakao: NHN Cloud is down: sending through Naver Cloud SENS", "channel", allimi.ChannelKakao,
			"provider", ProviderSENS, "until", until, "err", err)
	}
	return open
}

// notReached says whether a failed request certainly never reached the
// provider: the connection could not be made.
func notReached(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial"
}

// answered says whether err is the provider's own answer: a refusal or a
// rate limit.
func answered(err error) bool {
	var rl *RateLimitedError
	var pe *ProviderError
	return errors.As(err, &rl) || errors.As(err, &pe)
}

// unavailable returns err as an *UnavailableError, if it is one.
func unavailable(err error) (*UnavailableError, bool) {
	var ue *UnavailableError
	ok := errors.As(err, &ue)
	return ue, ok
}

// Send sends the batch through NHN, or SENS while NHN is down (see the
// top of the file).
func (f *failover) Send(ctx context.Context, batch []Message) ([]Result, error) {
	if err := f.nhn.checkBatch(batch); err != nil {
		return nil, err
	}
	if len(batch) == 0 {
		return []Result{}, nil
	}
	to, other := pNHN, pSENS
	if !f.nhnUp() {
		to, other = pSENS, pNHN
	}
	if to == pSENS {
		f.failovers.Add(1)
	}
	res := make([]Result, len(batch))
	for i := range res {
		res[i].Key = batch[i].Key
	}
	// Messages in doubt at the other provider are asked about there first.
	send, err := f.clearDoubts(ctx, other, batch, allIndexes(len(batch)), res, true)
	if err != nil {
		return nil, err
	}
	if len(send) == 0 {
		return res, nil
	}
	err = f.sendVia(ctx, to, batch, send, res)
	if to == pNHN {
		ue, isUnavailable := unavailable(err)
		switch {
		case err == nil:
			f.nhnAnswered()
		case isUnavailable && notReached(ue.Err) && ctx.Err() == nil:
			f.nhnFailed(err)
			f.failovers.Add(1)
			f.log.Load().Info("kakao: NHN Cloud cannot be reached: this batch goes through Naver Cloud SENS",
				"channel", allimi.ChannelKakao, "provider", ProviderSENS, "messages", len(send), "err", err)
			// Messages in doubt at NHN from an earlier request are asked
			// about there first (which, NHN being unreachable, leaves them
			// to wait).
			if send, err = f.clearDoubts(ctx, pNHN, batch, send, res, true); err != nil {
				return nil, err
			}
			if len(send) == 0 {
				return res, nil
			}
			err = f.sendVia(ctx, pSENS, batch, send, res)
		case isUnavailable && ctx.Err() == nil:
			if !f.nhnFailed(err) {
				break // the dispatcher looks the batch up and sends it again
			}
			// NHN is down now: NHN's result query says what of the batch
			// it lacks, and that goes through SENS at once. The query
			// failing, the batch's error stands.
			sendErr := err
			left, ferr := f.clearDoubts(ctx, pNHN, batch, send, res, false)
			if ferr != nil {
				return nil, sendErr
			}
			if len(left) == 0 {
				return res, nil
			}
			f.failovers.Add(1)
			f.log.Load().Info("kakao: NHN Cloud failed and does not have this batch: it goes through Naver Cloud SENS",
				"channel", allimi.ChannelKakao, "provider", ProviderSENS, "messages", len(left), "err", sendErr)
			err = f.sendVia(ctx, pSENS, batch, left, res)
		case answered(err):
			f.nhnAnswered() // a refusal or a rate limit: NHN is there
		}
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

func allIndexes(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// clearDoubts asks provider p about the messages of idx in doubt there.
// Those it has get an Accepted result, those it does not have are no
// longer in doubt; if it cannot be asked they get a Retry result (wait),
// or without wait its error is returned. It returns the indexes still to
// send: the messages not in doubt at p, and those p does not have. An
// error is also a ctx ending.
func (f *failover) clearDoubts(ctx context.Context, p int, batch []Message, idx []int, res []Result, wait bool) ([]int, error) {
	var ask []int
	since := time.Time{}
	f.mu.Lock()
	for _, i := range idx {
		if d, ok := f.doubts[batch[i].Key]; ok && d.at == p {
			ask = append(ask, i)
			if since.IsZero() || d.since.Before(since) {
				since = d.since
			}
		}
	}
	f.mu.Unlock()
	if len(ask) == 0 {
		return idx, nil
	}
	msgs := make([]Message, len(ask))
	for j, i := range ask {
		msgs[j] = batch[i]
	}
	found, err := f.provider(p).Find(ctx, since, msgs)
	if err == nil && len(found) != len(msgs) {
		err = errors.New("the result query answered for other messages")
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: looking up messages in doubt: %w", allimi.ChannelKakao, ctx.Err())
	}
	asked := map[int]bool{}
	for _, i := range ask {
		asked[i] = true
	}
	if err != nil && !wait {
		return nil, err
	}
	if err != nil {
		f.log.Load().Warn("kakao: messages in doubt cannot be looked up: they wait", "channel", allimi.ChannelKakao,
			"provider", providerNames[p], "messages", len(ask), "err", err)
		for _, i := range ask {
			res[i].Status, res[i].Code = Retry, "in-doubt"
			res[i].Reason = "sent to " + providerNames[p] + " without an answer, and its result query failed: " + err.Error()
		}
	} else {
		for j, i := range ask {
			if found[j].Status == Accepted {
				r := found[j]
				r.Key = batch[i].Key
				res[i] = r
			}
		}
		f.forget(msgs)
	}
	var send []int
	for _, i := range idx {
		if !asked[i] || (err == nil && res[i].Status != Accepted) {
			send = append(send, i)
		}
	}
	return send, nil
}

// forget clears the doubts about msgs.
func (f *failover) forget(msgs []Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range msgs {
		delete(f.doubts, msgs[i].Key)
	}
}

// remember records msgs as in doubt at p.
func (f *failover) remember(p int, msgs []Message, since time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.doubts)+len(msgs) > maxDoubts {
		for k, d := range f.doubts {
			if since.Sub(d.since) > doubtAge {
				delete(f.doubts, k)
			}
		}
	}
	for i := range msgs {
		f.doubts[msgs[i].Key] = doubt{at: p, since: since}
	}
}

// sendVia sends the messages of idx through provider p, writing their
// results into res, in requests of p's MaxBatch. A failure of the first
// request is returned; of a later one, it gives that request's and the
// remaining messages a Retry result. Messages whose request ended without
// an answer are remembered as in doubt at p; answered ones are not.
func (f *failover) sendVia(ctx context.Context, p int, batch []Message, idx []int, res []Result) error {
	a := f.provider(p)
	size := a.MaxBatch()
	for start := 0; start < len(idx); start += size {
		part := idx[start:min(start+size, len(idx))]
		msgs := make([]Message, len(part))
		for j, i := range part {
			msgs[j] = batch[i]
		}
		began := time.Now()
		if p == pSENS {
			f.lastSENS.Store(began.UnixNano())
		}
		f.batches[p].Add(1)
		f.log.Load().Debug("kakao: batch", "channel", allimi.ChannelKakao, "provider", providerNames[p], "messages", len(msgs))
		got, err := a.Send(ctx, msgs)
		if err == nil && len(got) != len(msgs) {
			err = &UnavailableError{Channel: allimi.ChannelKakao, Err: errors.New("results do not match the messages")}
		}
		if err != nil {
			if ue, ok := unavailable(err); (ok && !notReached(ue.Err)) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				f.remember(p, msgs, began)
			}
			if start == 0 {
				return err
			}
			code := failureCode(err)
			for _, i := range idx[start:] {
				res[i].Status, res[i].Code, res[i].Reason = Retry, code, err.Error()
			}
			return nil
		}
		for j, i := range part {
			res[i] = got[j]
		}
		f.forget(msgs)
	}
	return nil
}

// Find implements Finder: NHN first, then SENS for what NHN does not have
// (see the top of the file).
func (f *failover) Find(ctx context.Context, since time.Time, msgs []Message) ([]Result, error) {
	res, err1 := f.nhn.Find(ctx, since, msgs)
	if err1 == nil && len(res) != len(msgs) {
		err1 = errors.New("NHN's result query answered for other messages")
	}
	var rest []int
	for i := range msgs {
		if err1 != nil || res[i].Status != Accepted {
			rest = append(rest, i)
		}
	}
	if err1 == nil {
		f.forgetAt(pNHN, msgs)
	} else {
		res = nil
	}
	if len(rest) == 0 {
		return res, nil
	}
	if !f.sensMayHave(since) {
		if err1 != nil {
			return nil, err1
		}
		return res, nil
	}
	part := make([]Message, len(rest))
	for j, i := range rest {
		part[j] = msgs[i]
	}
	got, err2 := f.sens.Find(ctx, since, part)
	if err2 == nil && len(got) != len(part) {
		err2 = errors.New("SENS's result query answered for other messages")
	}
	if err2 != nil {
		return nil, err2
	}
	f.forgetAt(pSENS, part)
	if err1 != nil {
		// NHN could not say: only an answer of SENS for every message is
		// one.
		for _, r := range got {
			if r.Status != Accepted {
				return nil, err1
			}
		}
		return got, nil
	}
	for j, i := range rest {
		if got[j].Status == Accepted {
			res[i] = got[j]
		}
	}
	return res, nil
}

// forgetAt clears the doubts about msgs at p: p's result query answered.
func (f *failover) forgetAt(p int, msgs []Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range msgs {
		if d, ok := f.doubts[msgs[i].Key]; ok && d.at == p {
			delete(f.doubts, msgs[i].Key)
		}
	}
}

// sensMayHave says whether SENS may hold messages sent at or after since:
// this process sent it something since then (less the query's slack), or
// it started after since.
func (f *failover) sensMayHave(since time.Time) bool {
	if !f.started.Before(since) {
		return true
	}
	last := f.lastSENS.Load()
	return last != 0 && !time.Unix(0, last).Before(since.Add(-findSlack))
}

// ProviderStats count what a channel with several providers sent through
// each (Stats).
type ProviderStats struct {
	// Batches are the requests sent through each provider, by name
	// (ProviderNHN, ProviderSENS).
	Batches map[string]int64
	// Failovers are the batches sent through the second provider instead
	// of the first: the first was down, or could not be reached.
	Failovers int64
	// Down says whether the first provider is being skipped now.
	Down bool
}

// Stats returns the provider counts of the adapters New built that have
// more than one provider (the kakao channel, with SENS configured).
func Stats(adapters map[allimi.Channel]Adapter) map[allimi.Channel]ProviderStats {
	out := map[allimi.Channel]ProviderStats{}
	for ch, a := range adapters {
		if f, ok := a.(*failover); ok {
			out[ch] = f.stats()
		}
	}
	return out
}

func (f *failover) stats() ProviderStats {
	s := ProviderStats{Batches: map[string]int64{}, Failovers: f.failovers.Load(), Down: !f.nhnUp()}
	for p, name := range providerNames {
		s.Batches[name] = f.batches[p].Load()
	}
	return s
}

// SetLogger gives the adapters New built that log (the kakao channel's
// failover) a logger; by default they use slog.Default().
func SetLogger(adapters map[allimi.Channel]Adapter, l *slog.Logger) {
	for _, a := range adapters {
		if s, ok := a.(interface{ setLogger(*slog.Logger) }); ok {
			s.setLogger(l)
		}
	}
}
