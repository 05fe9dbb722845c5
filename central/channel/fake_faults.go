package channel

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"strings"

	"allimi"
)

// FaultKind is a way the fake provider misbehaves.
type FaultKind string

// The faults. Each has a rate: the probability, 0 to 1, that it strikes.
const (
	// FaultError answers the whole request HTTP 500 (with the provider's
	// error body).
	FaultError FaultKind = "error"
	// FaultRateLimit answers the whole request HTTP 429 with Retry-After: 1.
	FaultRateLimit FaultKind = "ratelimit"
	// FaultNotUser rejects a recipient as not being on the channel: kakao
	// resultCode 3019 (not a KakaoTalk user; through SENS
	// requestStatusCode 3019), naver code NOT_NAVER_USER, sms resultCode
	// 3001 (no subscriber), toss code NOT_TOSS_USER. Unlike
	// the others it strikes per phone number, not at random per request: the
	// same number is always, or never, a user (for a given seed and rate).
	FaultNotUser FaultKind = "notuser"
	// FaultOutage drops the connection without an answer (503 where the
	// connection cannot be taken over).
	FaultOutage FaultKind = "outage"
	// FaultLookup answers the channel's result queries (fake_find.go) HTTP
	// 500: the provider cannot say what became of a message.
	FaultLookup FaultKind = "lookup"
	// FaultLostAnswer takes the request as usual (the messages are sent),
	// then drops the connection instead of answering: the answer lost on
	// the way back, or a client that gave up just as the provider finished.
	FaultLostAnswer FaultKind = "lostanswer"
)

var faultKinds = []FaultKind{FaultOutage, FaultError, FaultRateLimit, FaultNotUser, FaultLookup, FaultLostAnswer}

// Fault sets the rate of one kind of fault on one channel.
type Fault struct {
	// Channel is a channel, which means every provider of it (kakao: NHN
	// Cloud and SENS), or one provider: FakeNHN ("kakao.nhn") or FakeSENS
	// ("kakao.sens").
	Channel allimi.Channel
	Kind    FaultKind
	Rate    float64
}

// ParseFault reads "CHANNEL=KIND:RATE" (kakao=notuser:0.1); several kinds
// for one channel may be given comma-separated
// (kakao=error:0.1,notuser:0.2). CHANNEL may also name one of the kakao
// channel's providers: kakao.nhn or kakao.sens (kakao.nhn=outage:1 makes
// the kakao channel fail over to SENS).
func ParseFault(s string) ([]Fault, error) {
	ch, spec, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return nil, fmt.Errorf("fault %q: want CHANNEL=KIND:RATE, e.g. kakao=notuser:0.1", s)
	}
	return parseFaultSpec(allimi.Channel(strings.TrimSpace(ch)), spec)
}

// parseFaultSpec reads "KIND:RATE[,KIND:RATE…]" for one channel.
func parseFaultSpec(ch allimi.Channel, spec string) ([]Fault, error) {
	if err := validTarget(ch); err != nil {
		return nil, fmt.Errorf("fault for %q: %w", ch, err)
	}
	var out []Fault
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		kind, r, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("fault %s=%s: want KIND:RATE with KIND one of error, ratelimit, notuser, outage, lookup", ch, part)
		}
		k := FaultKind(strings.TrimSpace(kind))
		if !knownFault(k) {
			return nil, fmt.Errorf("fault %s=%s: kind %q: must be error, ratelimit, notuser, outage, lookup or lostanswer", ch, part, k)
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || math.IsNaN(rate) || rate < 0 || rate > 1 {
			return nil, fmt.Errorf("fault %s=%s: rate %q: must be a number from 0 to 1", ch, part, r)
		}
		out = append(out, Fault{Channel: ch, Kind: k, Rate: rate})
	}
	return out, nil
}

// validTarget checks a fault's target: a channel, or a provider's name.
func validTarget(ch allimi.Channel) error {
	if ch == FakeNHN || ch == FakeSENS {
		return nil
	}
	if err := ch.Validate(); err != nil {
		return fmt.Errorf("%w (or %s, %s: one of kakao's providers)", err, FakeNHN, FakeSENS)
	}
	return nil
}

func knownFault(k FaultKind) bool {
	for _, x := range faultKinds {
		if x == k {
			return true
		}
	}
	return false
}

// faultSet is one channel's fault rates.
type faultSet map[FaultKind]float64

func (fs faultSet) String() string {
	var parts []string
	for _, k := range faultKinds {
		if r := fs[k]; r > 0 {
			parts = append(parts, string(k)+":"+strconv.FormatFloat(r, 'g', -1, 64))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// stableFraction maps (seed, channel, number) to [0, 1): whether a number
// is "not a user" must not change between resends.
func stableFraction(seed int64, ch allimi.Channel, number string) float64 {
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(ch))
	h.Write([]byte{0})
	h.Write([]byte(number))
	// FNV alone barely moves its top bits for numbers that differ in the
	// last digits; a splitmix64 finaliser spreads them.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}
