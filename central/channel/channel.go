package channel

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"allimi"
)

// Message is one rendered message to one recipient.
type Message struct {
	// Key is the idempotency key, stable across resends of the same delivery
	// (at most 64 characters of [A-Za-z0-9_-]). Every adapter puts it on the
	// wire so that a provider (or the fake) can recognise a resend.
	Key       string
	Recipient string // mobile number "010-1234-5678"; providers get digits only
	Template  string // provider template code (kakao AlimTalk; naver's notice carries it too); empty for sms/toss
	Params    Params // template parameters (AlimTalk templateParameter)
	Title     string // LMS subject / push title / AlimTalk title
	Text      string // the full rendered text (AlimTalk content, SMS/LMS body, push body)
	Link      string // detail-page short link (also inside Text)
	LMS       bool   // sms: send as LMS (long), else SMS
	// Group names the request for the provider's result query: the same
	// for every message of one Send, new for every send-intent (NHN
	// senderGroupingKey, at most 100 characters). Empty: none.
	Group string
	// Fallback is the SMS/LMS the provider itself sends when AlimTalk fails
	// (kakao: NHN's resendParameter, SENS's failoverConfig); nil for none.
	Fallback *Fallback
}

// GroupName is a request's name for the provider (Message.Group): g is a
// random number drawn for the request.
func GroupName(g uint64) string {
	return "allimi-" + strconv.FormatUint(g, 36)
}

// Fallback is the text message a messenger provider sends instead when it
// cannot deliver the AlimTalk.
type Fallback struct {
	Title, Text string
	LMS         bool
}

// Status is what a provider said about one message of a batch.
type Status int

// Per-message outcomes.
const (
	// Accepted: the provider took the message (delivery is reported later
	// by a receipt).
	Accepted Status = iota + 1
	// Rejected: permanent for this recipient on this channel (not a
	// KakaoTalk user, invalid number …): fail over, do not retry.
	Rejected
	// Retry: transient for this recipient: send again later.
	Retry
	// NotFound: the provider has no such message (a Finder's answer): it
	// was never taken, and may be sent.
	NotFound
)

// String returns "accepted", "rejected" or "retry".
func (s Status) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	case Retry:
		return "retry"
	case NotFound:
		return "notFound"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Result is the provider's answer for one message.
type Result struct {
	Key    string
	Status Status
	Code   string // provider's per-recipient result code, as text ("0", "3019", "A000" …)
	Reason string
	// ProviderID is the provider's id of the message: kakao through NHN
	// and sms "{requestId}/{recipientSeq}", kakao through SENS its
	// messageId, naver and toss the messageId.
	// Receipts carry it, and the Key.
	ProviderID string
}

// Adapter sends batches to one provider.
type Adapter interface {
	Channel() allimi.Channel
	// MaxBatch is the most messages Send accepts at once: kakao 1,000
	// (NHN's recipientList ≤ 1,000; SENS takes them 100 a request), naver
	// 100 (our assumption, see naver.go), sms 1,000 (recipientList ≤
	// 1,000), toss 500 (our assumption, see toss.go).
	MaxBatch() int
	// Send sends one batch (len ≤ MaxBatch) and returns one Result per
	// message, in order. A whole-batch failure returns an error instead:
	// *RateLimitedError (HTTP 429), *UnavailableError (5xx, connection
	// refused or closed, timeout, a response that cannot be read), or
	// *ProviderError (the provider refused the request: credentials, a
	// malformed request). A batch larger than MaxBatch returns an error
	// wrapping ErrBatchTooLarge. If ctx ends, the error wraps ctx.Err().
	Send(ctx context.Context, batch []Message) ([]Result, error)
}

// New builds the four channels' adapters from cfg: kakao through NHN Cloud
// ([kakao]) with failover to Naver Cloud SENS when [naver] has credentials
// (failover.go), naver the Naver app notice ([naverApp]), sms NHN Cloud SMS,
// toss Toss push. They share client; nil means NewHTTPClient().
func New(cfg Config, client *http.Client) (map[allimi.Channel]Adapter, error) {
	if client == nil {
		client = NewHTTPClient()
	}
	nhn, err := newKakao(cfg.Kakao, client)
	if err != nil {
		return nil, err
	}
	var k Adapter = nhn
	if sensConfigured(cfg.Naver) {
		s, err := newSENS(cfg.Naver, client)
		if err != nil {
			return nil, err
		}
		k = newFailover(nhn, s, cfg.Kakao)
	}
	n, err := newNaver(cfg.NaverApp, client)
	if err != nil {
		return nil, err
	}
	s, err := newSMS(cfg.SMS, client)
	if err != nil {
		return nil, err
	}
	t, err := newToss(cfg.Toss, client)
	if err != nil {
		return nil, err
	}
	return map[allimi.Channel]Adapter{
		allimi.ChannelKakao: k,
		allimi.ChannelNaver: n,
		allimi.ChannelSMS:   s,
		allimi.ChannelToss:  t,
	}, nil
}

// nhnStatus classifies an NHN Cloud per-recipient resultCode: 0 is
// accepted, the codes in retry are worth another try, anything else is final.
func nhnStatus(code int, retry map[int]bool) Status {
	switch {
	case code == 0:
		return Accepted
	case retry[code]:
		return Retry
	default:
		return Rejected
	}
}
