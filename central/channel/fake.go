package channel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"allimi"
)

// FakeOptions configure the fake providers. The zero value works: default
// credentials (DefaultConfig), no latency, no faults, texts kept, no
// receipts.
type FakeOptions struct {
	// Config holds the credentials the fake accepts; the zero value means
	// DefaultConfig(). Only the credentials are used, not URLs or limits.
	Config *Config
	// Latency delays every provider request.
	Latency time.Duration
	// Faults sets fault rates per channel and kind.
	Faults []Fault
	// Seed makes the random faults and undeliverable receipts reproducible.
	Seed int64
	// Lean keeps only keys and counts, not texts, numbers or the message
	// list (for benchmarks: a million messages in well under 300 MB).
	// /_fake/messages then lists accepted keys only and the inbox is empty.
	Lean bool
	// NoDedupe takes every message as new, as NHN Cloud and Naver SENS
	// do: a key already accepted is accepted, stored, listed and receipted
	// again, and counted in Repeats (by default such a resend is a
	// duplicate, answered with the original and not stored). Crash tests
	// run so, to show that central itself sends each message once.
	NoDedupe bool
	// Templates renders kakao /messages requests, which carry only a
	// template code and parameters: code → text with #{name} variables, as
	// registered with Kakao. Unknown codes show as "[code] name=value …".
	Templates map[string]string
	// ReceiptsURL, when set, is central's receipts webhook: the fake POSTs
	// delivery receipts of accepted messages there (see Receipt).
	ReceiptsURL string
	// Undeliverable is the fraction of accepted messages whose receipt says
	// "failed".
	Undeliverable float64
	// ReceiptInterval and ReceiptBatch: a receipt POST goes out every
	// interval (default 100ms) or as soon as this many are waiting
	// (default 500).
	ReceiptInterval time.Duration
	ReceiptBatch    int
	// ReceiptQueue bounds the receipts waiting to be posted (default
	// 200,000); beyond it new receipts are dropped and counted.
	ReceiptQueue int
	// Client posts receipts; nil means a client of its own.
	Client *http.Client
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// Provider indices in the fake's arrays: one per provider API. The kakao
// channel has two, NHN Cloud AlimTalk and Naver Cloud SENS AlimTalk.
const (
	fkKakao = iota // NHN Cloud AlimTalk
	fkNaver        // the Naver app notice
	fkToss
	fkSMS
	fkSENS // Naver Cloud SENS AlimTalk, the kakao channel's second provider
	fkSlots
)

// fakeChannels is each provider's channel.
var fakeChannels = [fkSlots]allimi.Channel{allimi.ChannelKakao, allimi.ChannelNaver, allimi.ChannelToss, allimi.ChannelSMS, allimi.ChannelKakao}

// fakeProviders names each provider: in /_fake/messages ("provider"),
// /_fake/stats ("providers") and as a fault's target.
var fakeProviders = [fkSlots]string{"kakao.nhn", "naver", "toss", "sms", "kakao.sens"}

// Fault targets naming one of the kakao channel's providers (a fault on
// "kakao" strikes both).
const (
	FakeNHN  allimi.Channel = "kakao.nhn"
	FakeSENS allimi.Channel = "kakao.sens"
)

// fakeSlots lists the providers a fault target names: a channel's every
// provider, or one provider by name (FakeNHN, FakeSENS). Nil for none.
func fakeSlots(target allimi.Channel) []int {
	var out []int
	for i := range fakeChannels {
		if fakeChannels[i] == target || allimi.Channel(fakeProviders[i]) == target {
			out = append(out, i)
		}
	}
	return out
}

// sibling is the other provider of the same channel, or -1.
func sibling(slot int) int {
	switch slot {
	case fkKakao:
		return fkSENS
	case fkSENS:
		return fkKakao
	}
	return -1
}

// Fake is one HTTP server speaking the four providers' APIs (see Handler).
// It is safe for concurrent use.
type Fake struct {
	opts  FakeOptions
	cfg   Config
	log   *slog.Logger
	start time.Time

	mu       sync.Mutex
	rng      *rand.Rand
	faults   [fkSlots]faultSet
	counts   [fkSlots]fakeCounts
	accepted [fkSlots]map[string]uint64   // idempotency key → message id (the first, under NoDedupe)
	repeats  [fkSlots]map[string]int      // NoDedupe: key → acceptances after the first
	groups   [fkSlots]map[string][]string // senderGroupingKey → keys accepted in it (fake_find.go)
	recs     []fakeRecord                 // recs[id-1], unless Lean
	nextID   uint64
	nextReq  atomic.Uint64

	receipts *receiptPoster
}

type fakeCounts struct {
	Accepted, Rejected, Duplicates, Requests, Faults, Repeats, Lookups int64
}

// fakeRecord is one message the fake took or refused.
type fakeRecord struct {
	at          int64 // unix ns
	key         string
	recipient   string // digits
	title       string
	text        string
	code        string
	providerID  string
	ch          uint8
	accepted    bool
	undelivered bool
}

// NewFake makes the fake providers. If opts.ReceiptsURL is set it starts
// the receipt poster: call Close to stop it.
func NewFake(opts FakeOptions) *Fake {
	cfg := DefaultConfig()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	f := &Fake{
		opts:  opts,
		cfg:   cfg,
		log:   opts.Logger,
		start: time.Now(),
		rng:   rand.New(rand.NewPCG(uint64(opts.Seed), 0x616c6c696d69)),
	}
	for i := range f.accepted {
		f.accepted[i] = map[string]uint64{}
		f.repeats[i] = map[string]int{}
		f.groups[i] = map[string][]string{}
		f.faults[i] = faultSet{}
	}
	for _, ft := range opts.Faults {
		for _, i := range fakeSlots(ft.Channel) {
			f.faults[i][ft.Kind] = ft.Rate
		}
	}
	if opts.ReceiptsURL != "" {
		f.receipts = newReceiptPoster(opts)
	}
	return f
}

// Close stops the receipt poster after one last attempt to post what is
// waiting.
func (f *Fake) Close() error {
	if f.receipts != nil {
		f.receipts.close()
	}
	return nil
}

// Handler serves the five provider APIs on one base URL, plus the fake's own
// endpoints:
//
//	POST   /alimtalk/v2.3/appkeys/{appkey}/messages      kakao (NHN AlimTalk), and …/raw-messages
//	POST   /alimtalk/v2/services/{serviceId}/messages    kakao's second provider (SENS AlimTalk)
//	POST   /naver/v1/notices                             naver (the Naver app notice)
//	POST   /sms/v3.0/appKeys/{appKey}/sender/sms         sms (NHN SMS), and …/sender/mms for LMS
//	POST   /toss/v1/push                                 toss
//	GET    the same paths (toss, naver: POST …/query)    each provider's result query (fake_find.go)
//	GET    /_fake/messages[?channel=kakao|kakao.sens]    what was taken: [{"channel","provider","recipient","status","idempotencyKey","text",…}]
//	DELETE /_fake/messages                               forget messages and counts
//	GET    /_fake/stats                                  {"accepted":{…},"rejected":{…},"duplicates":{…},"requests":{…},…,"providers":{…}}
//	GET    /_fake/faults, POST /_fake/faults             {"kakao":"outage:1"} sets rates ("none" clears a channel);
//	                                                     "kakao.nhn" or "kakao.sens" one of kakao's providers
//	GET    /_fake/inbox                                  each phone's inbox, as HTML
//	GET    /_fake/healthz                                "ok"
func (f *Fake) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /alimtalk/v2.3/appkeys/{appkey}/messages", f.provider(fkKakao, f.kakaoSend(false)))
	mux.Handle("POST /alimtalk/v2.3/appkeys/{appkey}/raw-messages", f.provider(fkKakao, f.kakaoSend(true)))
	mux.Handle("POST /alimtalk/v2/services/{serviceId}/messages", f.provider(fkSENS, f.sensSend))
	mux.Handle("POST /naver/v1/notices", f.provider(fkNaver, f.naverSend))
	mux.Handle("POST /sms/v3.0/appKeys/{appKey}/sender/sms", f.provider(fkSMS, f.smsSend(false)))
	mux.Handle("POST /sms/v3.0/appKeys/{appKey}/sender/mms", f.provider(fkSMS, f.smsSend(true)))
	mux.Handle("POST /toss/v1/push", f.provider(fkToss, f.tossSend))
	mux.Handle("GET /alimtalk/v2.3/appkeys/{appkey}/messages", f.lookup(fkKakao, f.kakaoList))
	mux.Handle("GET /alimtalk/v2/services/{serviceId}/messages", f.lookup(fkSENS, f.sensList))
	mux.Handle("POST /naver/v1/notices/query", f.lookup(fkNaver, f.naverQuery))
	mux.Handle("GET /sms/v3.0/appKeys/{appKey}/sender/sms", f.lookup(fkSMS, f.smsList))
	mux.Handle("GET /sms/v3.0/appKeys/{appKey}/sender/mms", f.lookup(fkSMS, f.smsList))
	mux.Handle("POST /toss/v1/push/query", f.lookup(fkToss, f.tossQuery))
	mux.HandleFunc("GET /_fake/messages", f.serveMessages)
	mux.HandleFunc("DELETE /_fake/messages", func(w http.ResponseWriter, _ *http.Request) {
		f.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_fake/stats", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, f.Stats()) })
	mux.HandleFunc("GET /_fake/faults", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, f.Faults()) })
	mux.HandleFunc("POST /_fake/faults", f.serveSetFaults)
	mux.HandleFunc("GET /_fake/inbox", f.serveInbox)
	mux.HandleFunc("GET /_fake/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	return mux
}

// provider wraps a provider's handler with what all five share: counting,
// latency and the request-wide faults.
func (f *Fake) provider(ch int, h func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.counts[ch].Requests++
		outage, fail, limited := f.rollLocked(ch, FaultOutage), f.rollLocked(ch, FaultError), f.rollLocked(ch, FaultRateLimit)
		lost := !outage && !fail && !limited && f.rollLocked(ch, FaultLostAnswer)
		if outage || fail || limited || lost {
			f.counts[ch].Faults++
		}
		f.mu.Unlock()
		r.Body = http.MaxBytesReader(w, r.Body, 32<<20)
		if f.opts.Latency > 0 {
			// Read the body first: only then does net/http watch the
			// connection, so that a client giving up ends the wait.
			b, err := io.ReadAll(r.Body)
			if err != nil {
				providerError(w, ch, http.StatusBadRequest, "-9997", "Cannot read the request: "+err.Error())
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			t := time.NewTimer(f.opts.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case outage:
			// Drop the connection without a word, like a provider whose
			// load balancer lost its backends.
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return
			}
			providerError(w, ch, http.StatusServiceUnavailable, "-9999", "Service unavailable (fake outage).")
		case fail:
			providerError(w, ch, http.StatusInternalServerError, "-9999", "System error (fake fault).")
		case limited:
			w.Header().Set("Retry-After", "1")
			providerError(w, ch, http.StatusTooManyRequests, "-429", "Too many requests (fake fault).")
		case lost:
			h(discardAnswer{header: http.Header{}}, r) // taken and sent
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
				return
			}
			providerError(w, ch, http.StatusBadGateway, "-9999", "Answer lost (fake fault).")
		default:
			h(w, r)
		}
	})
}

// discardAnswer is where a provider handler writes an answer that the
// lostanswer fault then loses.
type discardAnswer struct{ header http.Header }

func (d discardAnswer) Header() http.Header         { return d.header }
func (d discardAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (d discardAnswer) WriteHeader(int)             {}

// rollLocked draws whether a request-wide fault strikes.
func (f *Fake) rollLocked(ch int, k FaultKind) bool {
	rate := f.faults[ch][k]
	switch {
	case rate <= 0:
		return false
	case rate >= 1:
		return true
	}
	return f.rng.Float64() < rate
}

// notUser says whether the number is "not on the channel" under the
// notuser fault: the same answer for the same number every time.
func (f *Fake) notUser(ch int, number string, rate float64) bool {
	return rate > 0 && (rate >= 1 || stableFraction(f.opts.Seed, fakeChannels[ch], number) < rate)
}

// fakeMsg is one message of a provider request, as the fake understood it.
type fakeMsg struct {
	key       string // our idempotency key; empty: no dedupe
	group     string // the request's senderGroupingKey (NHN), if any
	recipient string // digits
	title     string
	text      string
	code      string // set: refused for this reason before the notuser fault is considered
	reason    string
}

// fakeOutcome is the fake's answer for one message.
type fakeOutcome struct {
	id          uint64
	accepted    bool
	duplicate   bool
	undelivered bool // its receipt will say failed
	code        string
	reason      string
	providerID  string
}

// take records a provider request's messages: a key already accepted is a
// duplicate (answered with the original, not stored or counted again); a
// number failing the notuser fault is refused with notUserCode. providerID
// names message j of the request whose fake message id is id.
func (f *Fake) take(ch int, msgs []fakeMsg, notUserCode, notUserReason string,
	providerID func(id uint64, j int) string) []fakeOutcome {
	out := make([]fakeOutcome, len(msgs))
	now := time.Now()
	// Only the shared state is touched under the lock: with eight requests
	// at once, building strings there (and the GC assists that come with
	// them) kept the others waiting.
	f.mu.Lock()
	notUserRate := f.faults[ch][FaultNotUser]
	for j := range msgs {
		m := &msgs[j]
		o := &out[j]
		sib := sibling(ch)
		if m.key != "" && !f.opts.NoDedupe {
			if id, dup := f.accepted[ch][m.key]; dup {
				f.counts[ch].Duplicates++
				*o = fakeOutcome{id: id, accepted: true, duplicate: true, code: "0"}
				continue
			}
		}
		f.nextID++
		o.id = f.nextID
		switch {
		case m.code != "":
			o.code, o.reason = m.code, m.reason
		case f.notUser(ch, m.recipient, notUserRate):
			o.code, o.reason = notUserCode, notUserReason
		default:
			o.accepted = true
		}
		if o.accepted {
			f.counts[ch].Accepted++
			if m.key != "" {
				if _, again := f.accepted[ch][m.key]; again {
					f.counts[ch].Repeats++
					f.repeats[ch][m.key]++
				} else {
					f.accepted[ch][m.key] = o.id
					if sib >= 0 && f.accepted[sib][m.key] != 0 {
						// The channel's other provider took it too: the
						// person gets it twice.
						f.counts[ch].Repeats++
					}
				}
				if m.group != "" {
					f.groups[ch][m.group] = append(f.groups[ch][m.group], m.key)
				}
			}
			o.undelivered = f.opts.Undeliverable > 0 && f.rng.Float64() < f.opts.Undeliverable
		} else {
			f.counts[ch].Rejected++
		}
		// Lean keeps SENS's messages all the same: its result query
		// finds them by number and content (sens_find.go).
		if !f.opts.Lean || ch == fkSENS {
			o.providerID = providerID(o.id, j)
			f.recs = append(f.recs, fakeRecord{at: now.UnixNano(), key: m.key, recipient: m.recipient,
				title: m.title, text: m.text, code: o.code, providerID: o.providerID, ch: uint8(ch),
				accepted: o.accepted, undelivered: o.undelivered})
		}
	}
	f.mu.Unlock()
	var receipts []Receipt
	for j := range out {
		o := &out[j]
		if o.providerID == "" {
			o.providerID = providerID(o.id, j)
		}
		if f.receipts != nil && o.accepted && !o.duplicate {
			rc := Receipt{Channel: fakeChannels[ch], IdempotencyKey: msgs[j].key, ProviderID: o.providerID,
				Status: ReceiptDelivered, At: now.UTC()}
			if o.undelivered {
				rc.Status, rc.Reason = ReceiptFailed, undeliveredReason[ch]
			}
			receipts = append(receipts, rc)
		}
	}
	if len(receipts) > 0 {
		f.receipts.enqueue(receipts)
	}
	return out
}

// undeliveredReason is what a "failed" receipt says, per channel.
var undeliveredReason = [fkSlots]string{
	fkKakao: "3018: message could not be delivered (user inactive)",
	fkSENS:  "3018: message could not be delivered (user inactive)",
	fkNaver: "DEVICE_UNREACHABLE: notice could not be delivered (app notifications off)",
	fkToss:  "DEVICE_UNREACHABLE: push could not be delivered",
	fkSMS:   "2003: handset switched off",
}

// requestID makes an NHN-style request id: the time and a sequence number
// (20240601120000 + 11 characters).
func (f *Fake) requestID() string {
	n := f.nextReq.Add(1)
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [11]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[n%62]
		n /= 62
	}
	return time.Now().Format("20060102150405") + string(b[:])
}

// FakeMessage is one message the fake took or refused, as /_fake/messages
// lists it.
type FakeMessage struct {
	Channel allimi.Channel `json:"channel"`
	// Provider is the provider API that took it: "kakao.nhn" or
	// "kakao.sens" for the kakao channel, else the channel.
	Provider       string    `json:"provider,omitempty"`
	Recipient      string    `json:"recipient,omitempty"` // 010-1234-5678
	Status         string    `json:"status"`              // "accepted" or "rejected"
	IdempotencyKey string    `json:"idempotencyKey"`
	Title          string    `json:"title,omitempty"`
	Text           string    `json:"text,omitempty"`
	Code           string    `json:"code,omitempty"`
	ProviderID     string    `json:"providerId,omitempty"`
	Undelivered    bool      `json:"undelivered,omitempty"` // its receipt says failed
	At             time.Time `json:"at,omitzero"`
}

// Messages lists what the fake took or refused on ch ("" for every
// channel; a provider's name, FakeNHN or FakeSENS, for one provider), oldest
// first. With Lean only accepted keys are listed.
func (f *Fake) Messages(ch allimi.Channel) []FakeMessage {
	var wanted [fkSlots]bool
	for i := range wanted {
		wanted[i] = ch == ""
	}
	if ch != "" {
		slots := fakeSlots(ch)
		if slots == nil {
			return nil
		}
		for _, i := range slots {
			wanted[i] = true
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []FakeMessage
	if f.opts.Lean {
		type kv struct {
			ch  int
			key string
			id  uint64
		}
		var all []kv
		for i := range f.accepted {
			if !wanted[i] {
				continue
			}
			for k, id := range f.accepted[i] {
				all = append(all, kv{i, k, id})
			}
		}
		slices.SortFunc(all, func(a, b kv) int { return compareUint(a.id, b.id) })
		for _, x := range all {
			// Under NoDedupe a key accepted again is listed again.
			for range 1 + f.repeats[x.ch][x.key] {
				out = append(out, FakeMessage{Channel: fakeChannels[x.ch], Provider: fakeProviders[x.ch], Status: "accepted", IdempotencyKey: x.key})
			}
		}
		return out
	}
	for i := range f.recs {
		r := &f.recs[i]
		if !wanted[r.ch] {
			continue
		}
		out = append(out, r.message())
	}
	return out
}

func (r *fakeRecord) message() FakeMessage {
	st := "rejected"
	if r.accepted {
		st = "accepted"
	}
	return FakeMessage{Channel: fakeChannels[r.ch], Provider: fakeProviders[r.ch], Recipient: hyphenate(r.recipient), Status: st,
		IdempotencyKey: r.key, Title: r.title, Text: r.text, Code: r.code, ProviderID: r.providerID,
		Undelivered: r.undelivered, At: time.Unix(0, r.at)}
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// hyphenate shows 01012345678 as 010-1234-5678 (and 0101234567 as
// 010-123-4567); anything else as it is.
func hyphenate(d string) string {
	switch len(d) {
	case 11:
		return d[:3] + "-" + d[3:7] + "-" + d[7:]
	case 10:
		return d[:3] + "-" + d[3:6] + "-" + d[6:]
	}
	return d
}

// FakeStats are the fake's counters per channel (the kakao channel's two
// providers together), and per provider.
type FakeStats struct {
	Accepted   map[allimi.Channel]int64 `json:"accepted"`
	Rejected   map[allimi.Channel]int64 `json:"rejected"`
	Duplicates map[allimi.Channel]int64 `json:"duplicates"` // resends of accepted keys: not stored, not counted as accepted
	Requests   map[allimi.Channel]int64 `json:"requests"`
	Faults     map[allimi.Channel]int64 `json:"faults"` // requests failed by error, ratelimit or outage
	// Repeats are acceptances of a key already accepted (NoDedupe only):
	// a person got the same message twice.
	Repeats map[allimi.Channel]int64 `json:"repeats"`
	// Lookups are result queries (message list, query) answered or failed.
	Lookups  map[allimi.Channel]int64 `json:"lookups"`
	Receipts ReceiptStats             `json:"receipts"`
	// Providers are the same counters per provider API, by name
	// ("kakao.nhn", "kakao.sens", "naver", "toss", "sms").
	Providers map[string]ProviderCounts `json:"providers"`
}

// ProviderCounts are one provider API's counters (FakeStats.Providers).
type ProviderCounts struct {
	Accepted   int64 `json:"accepted"`
	Rejected   int64 `json:"rejected"`
	Duplicates int64 `json:"duplicates"`
	Requests   int64 `json:"requests"`
	Faults     int64 `json:"faults"`
	Repeats    int64 `json:"repeats"`
	Lookups    int64 `json:"lookups"`
}

// ReceiptStats count the receipts the fake posted.
type ReceiptStats struct {
	Queued      int64 `json:"queued"`      // waiting to be posted
	Sent        int64 `json:"sent"`        // posted and acknowledged (2xx)
	Dropped     int64 `json:"dropped"`     // over the queue bound, or refused by the webhook with a 4xx
	FailedPosts int64 `json:"failedPosts"` // POSTs that failed and were retried
}

// Stats returns the counters.
func (f *Fake) Stats() FakeStats {
	s := FakeStats{Accepted: map[allimi.Channel]int64{}, Rejected: map[allimi.Channel]int64{},
		Duplicates: map[allimi.Channel]int64{}, Requests: map[allimi.Channel]int64{}, Faults: map[allimi.Channel]int64{},
		Repeats: map[allimi.Channel]int64{}, Lookups: map[allimi.Channel]int64{}, Providers: map[string]ProviderCounts{}}
	f.mu.Lock()
	for i, ch := range fakeChannels {
		c := f.counts[i]
		s.Accepted[ch] += c.Accepted
		s.Rejected[ch] += c.Rejected
		s.Duplicates[ch] += c.Duplicates
		s.Requests[ch] += c.Requests
		s.Faults[ch] += c.Faults
		s.Repeats[ch] += c.Repeats
		s.Lookups[ch] += c.Lookups
		s.Providers[fakeProviders[i]] = ProviderCounts(c)
	}
	f.mu.Unlock()
	if f.receipts != nil {
		s.Receipts = f.receipts.stats()
	}
	return s
}

// Reset forgets every message, key and count (not the faults, nor receipts
// already queued).
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs = nil
	f.counts = [fkSlots]fakeCounts{}
	for i := range f.accepted {
		f.accepted[i] = map[string]uint64{}
		f.repeats[i] = map[string]int{}
		f.groups[i] = map[string][]string{}
	}
}

// SetFault sets the rate of one fault on one channel, all its providers,
// or on one provider (FakeNHN, FakeSENS); 0 turns it off.
func (f *Fake) SetFault(ft Fault) error {
	slots := fakeSlots(ft.Channel)
	if slots == nil {
		return fmt.Errorf("fault: channel %q: unknown", ft.Channel)
	}
	if !knownFault(ft.Kind) {
		return fmt.Errorf("fault: kind %q: must be error, ratelimit, notuser, outage, lookup or lostanswer", ft.Kind)
	}
	if ft.Rate < 0 || ft.Rate > 1 {
		return fmt.Errorf("fault: rate %g: must be from 0 to 1", ft.Rate)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, i := range slots {
		if ft.Rate == 0 {
			delete(f.faults[i], ft.Kind)
		} else {
			f.faults[i][ft.Kind] = ft.Rate
		}
	}
	return nil
}

// Faults returns the fault rates in force ("kind:rate,…"), per channel
// (kakao: those of NHN, its first provider) and per kakao provider
// ("kakao.nhn", "kakao.sens").
func (f *Fake) Faults() map[allimi.Channel]string {
	out := map[allimi.Channel]string{}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(fakeChannels) - 1; i >= 0; i-- { // kakao ends as NHN's
		out[fakeChannels[i]] = f.faults[i].String()
	}
	out[FakeNHN], out[FakeSENS] = f.faults[fkKakao].String(), f.faults[fkSENS].String()
	return out
}

// serveSetFaults: {"kakao": "outage:1", "sms": "error:0.1,ratelimit:0.05",
// "naver": "none", "kakao.sens": "error:1"}. Kinds not named keep their
// rate; "none" clears the channel (or provider).
func (f *Fake) serveSetFaults(w http.ResponseWriter, r *http.Request) {
	var req map[allimi.Channel]string
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "faults: want JSON like {\"kakao\":\"outage:1\"}: "+err.Error(), http.StatusBadRequest)
		return
	}
	var all []Fault
	for ch, spec := range req {
		if s := strings.TrimSpace(spec); s == "" || s == "none" {
			if err := validTarget(ch); err != nil {
				http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
				return
			}
			for _, k := range faultKinds {
				all = append(all, Fault{Channel: ch, Kind: k})
			}
			continue
		}
		fs, err := parseFaultSpec(ch, spec)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		all = append(all, fs...)
	}
	for _, ft := range all {
		if err := f.SetFault(ft); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	f.log.Info("fake providers: faults changed", "faults", f.Faults())
	writeJSON(w, http.StatusOK, f.Faults())
}

func (f *Fake) serveMessages(w http.ResponseWriter, r *http.Request) {
	ch := allimi.Channel(r.URL.Query().Get("channel"))
	if ch != "" {
		if err := validTarget(ch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	msgs := f.Messages(ch)
	if msgs == nil {
		msgs = []FakeMessage{}
	}
	writeJSON(w, http.StatusOK, msgs)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// providerError writes a whole-request failure in the provider's own error
// shape.
func providerError(w http.ResponseWriter, ch int, status int, code, msg string) {
	switch ch {
	case fkKakao, fkSMS:
		n, _ := strconv.Atoi(code)
		writeJSON(w, status, map[string]any{"header": nhnHeader{ResultCode: n, ResultMessage: msg, IsSuccessful: false}})
	case fkSENS:
		writeJSON(w, status, map[string]any{"error": map[string]string{"errorCode": code, "message": http.StatusText(status), "details": msg}})
	case fkToss, fkNaver:
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
	}
}

// decodeBody reads a provider request's JSON body, refusing other content
// types; on failure it has already answered 400 in the provider's shape.
func decodeBody(w http.ResponseWriter, r *http.Request, ch int, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		providerError(w, ch, http.StatusBadRequest, "-9996", "Only application/json Content-type is supported.")
		return false
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		providerError(w, ch, http.StatusBadRequest, "-9997", "Invalid API parameters: "+err.Error())
		return false
	}
	return true
}

// validNumber: digits only, 10 or 11 of them, starting 01.
func validNumber(s string) bool {
	if len(s) < 10 || len(s) > 11 || s[0] != '0' || s[1] != '1' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
