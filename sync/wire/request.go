package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"allimi"
)

// A kiosk asks central things that need an answer now — send a
// verification code, check one, list the consent conflicts its officials
// may settle, settle one — on its own request topic, and central answers on
// the kiosk's reply topic. Unlike records, requests are not kept: a kiosk
// that is offline gets an error at once and carries on without (a sign-up
// stays unverified; central confirms it by SMS when it arrives).
const (
	// RequestFilter matches every kiosk's request topic; central subscribes to it.
	RequestFilter = topicPrefix + "+/req"
	// MaxRequestSize bounds a request payload.
	MaxRequestSize = 4 << 10
)

// RequestTopic is where kiosk id sends requests.
func RequestTopic(id string) string { return topicPrefix + id + "/req" }

// ReplyTopic is where central answers kiosk id.
func ReplyTopic(id string) string { return topicPrefix + id + "/reply" }

// ParseRequestTopic returns the kiosk id of a request topic.
func ParseRequestTopic(topic string) (string, bool) {
	rest, ok := strings.CutPrefix(topic, topicPrefix)
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/req")
	if !ok || allimi.ValidateKioskID(id) != nil {
		return "", false
	}
	return id, true
}

// Request operations.
const (
	OpSendCode        = "verify.send"       // text a code to Mobile
	OpCheckCode       = "verify.check"      // is Code the one sent to Mobile?
	OpListConflicts   = "conflicts.list"    // unresolved conflicts that involve this kiosk
	OpResolveConflict = "conflicts.resolve" // settle Conflict with Decision, by Official
	OpQuestionAnswer  = "question.answer"   // the official's answer to the question with receipt Code
)

// Request is a kiosk's question to central.
type Request struct {
	V        int                  `json:"v"`
	ID       string               `json:"id"` // the kiosk's, echoed in the reply
	Op       string               `json:"op"`
	Mobile   string               `json:"mobile,omitempty"`
	Code     string               `json:"code,omitempty"`
	Conflict uint64               `json:"conflict,omitempty"`
	Decision allimi.ConsentAction `json:"decision,omitempty"`
	Official string               `json:"official,omitempty"`
}

// Reply is central's answer.
type Reply struct {
	V  int    `json:"v"`
	ID string `json:"id"`
	OK bool   `json:"ok"`
	// Error says why not, in words for a log (the kiosk shows its own).
	Error string `json:"error,omitempty"`
	// Code is a machine-readable reason: "wrong-code", "expired",
	// "too-many-tries", "too-soon", "not-found", "invalid", "unavailable",
	// "over-quota" (the kiosk sent its verification SMS for the hour or day).
	Code string `json:"code,omitempty"`
	// Conflicts answers OpListConflicts, each in the v1 reply's summary
	// shape (see conflictList).
	Conflicts conflictList `json:"conflicts,omitempty"`
	// Answered and Answer reply to OpQuestionAnswer: Answered is false
	// while no official has answered yet.
	Answered bool   `json:"answered,omitempty"`
	Answer   string `json:"answer,omitempty"`
}

// DecodeRequest parses and checks a request payload.
func DecodeRequest(b []byte) (Request, error) {
	var r Request
	if len(b) > MaxRequestSize {
		return r, fmt.Errorf("request of %d bytes: %w", len(b), ErrOversize)
	}
	if err := strictUnmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if r.V != 1 {
		return r, fmt.Errorf("request version %d: %w", r.V, ErrMalformed)
	}
	if r.ID == "" || len(r.ID) > 64 {
		return r, fmt.Errorf("request id: 1 to 64 characters: %w", ErrMalformed)
	}
	switch r.Op {
	case OpSendCode, OpCheckCode, OpListConflicts, OpResolveConflict, OpQuestionAnswer:
	default:
		return r, fmt.Errorf("request op %q: %w", r.Op, ErrMalformed)
	}
	return r, nil
}

// DecodeReply parses a reply payload.
func DecodeReply(b []byte) (Reply, error) {
	var r Reply
	if len(b) > 1<<20 {
		return r, fmt.Errorf("reply of %d bytes: %w", len(b), ErrOversize)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&r); err != nil {
		return r, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return r, nil
}
